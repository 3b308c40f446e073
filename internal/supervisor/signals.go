package supervisor

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// BlockedAtStart reports whether the process was started with signals
// blocked that the Go runtime left blocked, read from the main thread's
// SigBlk line in procDir/self/task/PID/status. Go hands the mask it
// started with to every child it starts, so such signals would stay
// blocked in COMMAND. (The runtime unblocks some signals on its own
// threads, such as SIGTERM and SIGINT; one of those blocked alone at
// start cannot be seen from here.)
func BlockedAtStart(procDir string) (bool, error) {
	pid := os.Getpid()
	b, err := os.ReadFile(fmt.Sprintf("%s/self/task/%d/status", procDir, pid))
	if err != nil {
		return false, err
	}
	mask, err := parseSigBlk(string(b))
	return mask != 0, err
}

// parseSigBlk returns the SigBlk mask of a /proc status file.
func parseSigBlk(status string) (uint64, error) {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "SigBlk:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("no SigBlk line in status")
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
