package supervisor

import (
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

// BlockedAtStart reports whether the process was started with signals
// blocked that the Go runtime left blocked, read from the main thread's
// SigBlk line in procDir/self/task/PID/status. Go hands the mask it
// started with to every child it starts, so such signals would stay
// blocked in COMMAND. (The runtime unblocks some signals on its own
// threads, such as SIGTERM and SIGINT; one of those blocked alone at
// start cannot be seen from here.)
func BlockedAtStart(procDir string) (bool, error) {
	st, err := procfs.ReadStatus(fmt.Sprintf("%s/self/task/%d/status", procDir, os.Getpid()), procfs.LineSigBlk)
	return st.SigBlk != 0, err
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
