//go:build amd64 || arm64 || ppc64le || s390x

package supervisor

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// queuedFix is a signal handler (queued_*.s) for the signals the Go
// runtime takes for faults. When si_code is 0 or less (sent by a
// process: SI_USER, SI_QUEUE, SI_TKILL, SI_MESGQ, SI_ASYNCIO, SI_SIGIO
// ...) it jumps to sigCatch, which catches the signal like any other;
// otherwise (a fault the kernel raised, SI_KERNEL among them) it jumps to
// the Go runtime's handler, whose address is in goSigHandler, with every
// register as the kernel set it.
func queuedFix()

// queuedFixPC returns the address of queuedFix's machine code.
func queuedFixPC() uintptr

// goSigHandler is the Go runtime's signal handler (runtime.sigtramp), to
// which queuedFix jumps. The handler cannot reach any Go state but a
// package variable; it is set once, before queuedFix is installed, and
// never changes.
var goSigHandler atomic.Uintptr

// faultSignals are the signals the Go runtime takes for a fault of its
// own unless their si_code says kill(2) or tgkill(2) sent them
// (runtime.sigFromUser): SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV,
// SIGSTKFLT and SIGSYS.
var faultSignals = [...]uintptr{4, 5, 7, 8, 11, 16, 31}

// holdQueued keeps a fault signal that a process sent to the init
// (kill(2), or rt_sigqueueinfo(2) with si_code SI_QUEUE or any other
// value below 1) from being taken for a fault: the runtime would crash
// the init, which as PID 1 takes the whole container with it. With
// queuedFix in front of the runtime's handler, such a signal is caught
// (see catcher), delivered to ch and forwarded like any other.
//
// It runs after catch has made the catch pipe (NotifyAll). Each action
// keeps the runtime's flags, mask and restorer; only the handler
// changes, and only where it is the runtime's own. Children are
// unaffected: the runtime resets handled signals in the child before
// exec, and exec resets the rest.
func holdQueued(ch chan<- os.Signal) error {
	for _, sig := range faultSignals {
		var act [4]uint64 // handler, flags, restorer, mask (8 bytes)
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, sig, 0, uintptr(unsafe.Pointer(&act)), 8, 0, 0); e != 0 {
			return &os.SyscallError{Syscall: fmt.Sprintf("rt_sigaction(%d)", sig), Err: e}
		}
		if act[1]&saSiginfo == 0 || act[1]&saOnstack == 0 || act[0] <= 1 {
			return fmt.Errorf("signal %d has no Go runtime handler (handler %#x, flags %#x): a queued one may crash the init", sig, act[0], act[1])
		}
		subscribe(ch, syscall.Signal(sig))
		if uintptr(act[0]) == queuedFixPC() {
			continue
		}
		if h := goSigHandler.Load(); h == 0 {
			goSigHandler.Store(uintptr(act[0]))
		} else if h != uintptr(act[0]) {
			return fmt.Errorf("signal %d has handler %#x, not the Go runtime's %#x: a queued one may crash the init", sig, act[0], h)
		}
		act[0] = uint64(queuedFixPC())
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
			return &os.SyscallError{Syscall: fmt.Sprintf("rt_sigaction(%d)", sig), Err: e}
		}
	}
	return nil
}

// saSiginfo is SA_SIGINFO, the same on amd64, arm64, ppc64le and s390x.
const saSiginfo = 0x4
