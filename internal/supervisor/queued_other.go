//go:build !(amd64 || arm64 || ppc64le || s390x)

package supervisor

import "os"

// holdQueued does nothing on this architecture: a signal among SIGILL,
// SIGTRAP, SIGBUS, SIGFPE, SIGSEGV, SIGSTKFLT and SIGSYS queued to the
// init with rt_sigqueueinfo(2) is taken by the Go runtime for a fault of
// its own and crashes the init (see queued.go for amd64, arm64, ppc64le and s390x).
func holdQueued(chan<- os.Signal) error { return nil }
