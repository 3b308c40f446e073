//go:build amd64 || arm64 || ppc64le || s390x

package supervisor

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sigNoop is a signal handler that returns at once (reserved_*.s). It
// touches no memory and no Go state, so it is safe on any thread, even in
// the child between fork and exec.
func sigNoop()

// sigNoopPC returns the address of sigNoop's machine code.
func sigNoopPC() uintptr

// saOnstack is SA_ONSTACK, the same on every architecture above.
const saOnstack = 0x8000000

// holdReserved makes signals 32 and 34 harmless to the init. The Go
// runtime installs no handler for them (they are reserved for C
// libraries: glibc's SIGCANCEL, musl's SIGSYNCCALL) and signal.Notify
// cannot take them, so their default action, terminate, would end a
// subreaper init and orphan COMMAND. (As PID 1 of a namespace the kernel
// drops a signal whose action is the default; 33 is handled by the
// runtime, which uses it for its own per-thread system calls.)
//
// They get a handler that does nothing rather than SIG_IGN: an ignored
// signal stays ignored across execve, while a handled one is reset to
// the default, so COMMAND, and every other program the init starts,
// begins with the default action as it must. This also replaces an
// SIG_IGN the init inherited (GNU make ignores 32 and 33 in its
// children).
//
// The flags, restorer and mask are copied from the runtime's own action
// for SIGURG, which it installs on every architecture: sa_handler is the
// first word of the kernel's struct sigaction on all of them.
func holdReserved() error {
	var act [4]uint64 // handler, flags, restorer, mask (8 bytes)
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGURG), 0, uintptr(unsafe.Pointer(&act)), 8, 0, 0); e != 0 {
		return &os.SyscallError{Syscall: "rt_sigaction(SIGURG)", Err: e}
	}
	if act[1]&saOnstack == 0 {
		// Without the runtime's handler the flags are not known to be
		// right for the signal stack of every Go thread.
		return fmt.Errorf("the Go runtime's action for SIGURG has no SA_ONSTACK (flags %#x)", act[1])
	}
	act[0] = uint64(sigNoopPC())
	for _, sig := range []uintptr{32, 34} {
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
			return &os.SyscallError{Syscall: fmt.Sprintf("rt_sigaction(%d)", sig), Err: e}
		}
	}
	return nil
}
