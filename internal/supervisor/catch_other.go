//go:build !(amd64 || arm64 || ppc64le || s390x)

package supervisor

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// catch is signal.Notify on this architecture, for which the init has
// no signal handler of its own (see catch.go).
func catch(ch chan<- os.Signal, sigs ...syscall.Signal) error {
	for _, sig := range sigs {
		signal.Notify(ch, sig)
	}
	return nil
}

// uncatch is signal.Stop.
func uncatch(ch chan<- os.Signal) { signal.Stop(ch) }

// catchable reports whether signal.Notify can take sig and the init
// should: not SIGURG, the runtime's preemption signal.
func catchable(sig syscall.Signal) bool {
	return sig >= 1 && sig <= 64 && sig != unix.SIGKILL && sig != unix.SIGSTOP && sig != unix.SIGURG
}

// direct has no pipe on this architecture: Run waits on the channels.
type direct struct{ r int }

func acquireDirect() (*direct, bool) { return nil, false }

func (*direct) release() {}

// StartCatching has nothing to make on this architecture.
func StartCatching() error { return nil }

// takeLost has nothing to take on this architecture: os/signal drops
// what finds a channel full.
func takeLost(func(sig syscall.Signal)) {}
