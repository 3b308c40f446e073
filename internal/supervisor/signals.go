package supervisor

import (
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// BlockedAtStart reports whether the calling thread has signals blocked
// that the Go runtime left blocked: main calls it on the main thread,
// where the package's init keeps it, before anything changed its mask,
// so that is the mask the process started with. Go hands the mask it
// started with to every child it starts, so such signals would stay
// blocked in COMMAND. (The runtime unblocks some signals on its own
// threads, such as SIGTERM and SIGINT; one of those blocked alone at
// start cannot be seen from here.) It asks rt_sigprocmask, which costs
// one system call where reading the thread's status in /proc cost an
// open, reads and a close at every start.
func BlockedAtStart() (bool, error) {
	var set unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, nil, &set); err != nil {
		return false, &os.SyscallError{Syscall: "rt_sigprocmask", Err: err}
	}
	for _, w := range set.Val {
		if w != 0 {
			return true, nil
		}
	}
	return false, nil
}

// ReexecUnblocked replaces the process with a fresh copy of itself
// (/proc/self/exe, same argv and environment) after clearing the signal
// mask of the calling thread, so that the runtime of the new image, and
// the children it starts, begin with an empty mask. It returns only on
// failure.
func ReexecUnblocked(argv, env []string) error {
	var empty unix.Sigset_t
	// The thread that calls execve passes its mask on: keep it this one.
	runtime.LockOSThread()
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &empty, nil); err != nil {
		return &os.SyscallError{Syscall: "rt_sigprocmask", Err: err}
	}
	return &os.SyscallError{Syscall: "execve(/proc/self/exe)", Err: syscall.Exec("/proc/self/exe", argv, env)}
}
