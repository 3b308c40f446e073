// Package volumes proves that the paths of NONROOT_VOLUMES are writable,
// explains every failure with the fix that applies, and implements
// `nonroot-init fix-permissions`.
package volumes
