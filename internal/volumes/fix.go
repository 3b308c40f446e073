package volumes

import (
	"errors"
	"io"
)

// FixOptions says how FixPermissions changes a tree.
type FixOptions struct {
	GID       int       // the group every entry gets (0 on OpenShift)
	Check     bool      // change nothing; list what would change
	Hardlinks bool      // also change regular files with more than one link
	Progress  io.Writer // nil: no progress lines
}

// Change is one entry FixPermissions changed, or would change with Check.
type Change struct {
	Path    string
	OldGID  int
	NewGID  int
	OldMode uint32 // permission bits with setuid, setgid and sticky
	NewMode uint32
}

// FixReport counts what FixPermissions saw and did.
type FixReport struct {
	Scanned int64    // entries looked at
	Changed int64    // entries changed (or, with Check, that would change)
	Skipped int64    // symlinks, devices, other filesystems, hard-linked files
	Failed  int64    // entries that could not be fixed
	Changes []Change // with Check only: every entry that would change, sorted by path
}

// FixPermissions makes every entry under paths group-owned by opts.GID and
// group read-write. Not implemented yet.
func FixPermissions(paths []string, opts FixOptions) (FixReport, error) {
	return FixReport{}, errors.New("fix-permissions is not implemented yet")
}
