//go:build amd64 || arm64 || ppc64le || s390x

package supervisor

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
// The flags, restorer and mask are the runtime's own (see setHandler).
func holdReserved() error {
	return setHandler(sigNoopPC(), 32, 34)
}
