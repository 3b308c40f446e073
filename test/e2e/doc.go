// Package e2e proves nonroot-init where it lives: inside real OCI
// containers with OpenShift's restricted profile.
//
// The tests assemble a root filesystem from what the machine has
// (busybox-static, glibc's id/whoami/getent with their libraries,
// libnss_wrapper, the freshly built nonroot-init and test child), apply
// Dockerfile.example's build-time steps to it, and run it two ways:
//
//   - runc, with a bundle whose config.json the test writes: UID
//     1000680000, GID 0, an fsGroup-like supplementary group, no
//     capabilities, no_new_privs, a read-only root, a tmpfs at /tmp,
//     bind-mounted volumes owned by root and a read-only ConfigMap-shaped
//     mount, in fresh pid, mount, ipc, uts and network namespaces;
//   - podman kube play, with the Kubernetes manifest the README shows,
//     on an image imported from the same root filesystem, with storage,
//     run root and containers.conf of the test's own under a temporary
//     directory, so nothing of the machine is touched.
//
// They need root, runc and podman (with catatonit for the pod's infra
// container); .ci/run installs them. Without them the tests skip with
// the reason.
package e2e
