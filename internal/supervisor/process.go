package supervisor

import (
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// SetSubreaper makes this process the child subreaper of its descendants
// (PR_SET_CHILD_SUBREAPER, Linux 3.4): orphans below it are reparented to
// it instead of to PID 1, so it can reap them.
func SetSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return &os.SyscallError{Syscall: "prctl(PR_SET_CHILD_SUBREAPER)", Err: err}
	}
	return nil
}

// Exec replaces the init with COMMAND (NONROOT_EXEC=true): no supervision
// is left, COMMAND becomes the process, keeping its pid. It returns only
// on failure, as an *ExecError.
func Exec(opts Options) error {
	if opts.Umask >= 0 {
		unix.Umask(opts.Umask)
	}
	err := syscall.Exec(opts.Path, opts.Argv, opts.Env)
	return startError(opts, &os.PathError{Op: "exec", Path: opts.Path, Err: err})
}

// The init's supervision loop runs on the main thread, where the kernel
// puts the orphans it hands to a subreaper or to PID 1 (see Run): a
// LockOSThread in an init function keeps main.main there.
func init() { runtime.LockOSThread() }

// forkExec starts path as os.StartProcess does (nil env is the init's
// own, each file's descriptor is made blocking, a failure reads
// "fork/exec PATH: ..."), through syscall.StartProcess and without a
// process handle: the first os.StartProcess of a process probes pidfd
// support by forking and reaping a child of its own, a clone, an exit
// and a wait more at every start of the init, and each start makes a
// pidfd that the init would only close, since the reaper's wait4
// collects every status. A nil file is closed in the child.
func forkExec(path string, argv, env []string, files []*os.File, sys *syscall.SysProcAttr) (int, error) {
	if env == nil {
		env = os.Environ()
	}
	fds := make([]uintptr, len(files))
	for i, f := range files {
		fds[i] = f.Fd() // ^uintptr(0) for nil
	}
	// The child gets the forking thread's signal mask: Run's thread
	// blocks what it forwards (shieldMain) and forks RELOAD_CHECK, which
	// must start, like every child, with none blocked.
	runtime.LockOSThread()
	var none, prev unix.Sigset_t
	cleared := unix.PthreadSigmask(unix.SIG_SETMASK, &none, &prev) == nil
	pid, _, err := syscall.StartProcess(path, argv, &syscall.ProcAttr{Env: env, Files: fds, Sys: sys})
	if cleared {
		_ = unix.PthreadSigmask(unix.SIG_SETMASK, &prev, nil)
	}
	runtime.UnlockOSThread()
	runtime.KeepAlive(files)
	if err != nil {
		return 0, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	return pid, nil
}
