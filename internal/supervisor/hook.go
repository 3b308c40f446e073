package supervisor

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// HookResult is how a start-up hook (setup step 8) ended.
type HookResult struct {
	Status unix.WaitStatus // how it ended (see StatusText); not known when Survived
	// TimedOut says it outlived its timeout: its process group got
	// SIGTERM, and SIGKILL after GracePeriod.
	TimedOut bool
	// Survived says it was still there killWait after SIGKILL (a setuid
	// hook the init may not signal): the init goes on without it.
	Survived bool
	// Stopped is a signal that ends the start (Stops) which arrived while
	// the hook ran; it was forwarded to the hook and recorded with
	// Inbox.Stop. 0 when none came. (A Ctrl-C on the terminal goes to
	// the hook's group, the foreground, not to the init: the hook dies
	// of SIGINT, a failed hook as SPEC.md step 8 says.)
	Stopped syscall.Signal
}

// RunHook runs one start-up hook as COMMAND would run (opts: path, argv,
// environment, stdin, umask, signal rewriting and grouping, grace
// period): through the same start path, in its own process group, with
// the terminal when stdin is one, an empty signal mask and default
// dispositions, and the credentials, no_new_privs and ambient
// capabilities step 1 left on the process. It returns when the hook has
// exited. Meanwhile it reaps every zombie (as PID 1 or subreaper the
// orphans arrive here, and the hook's own status comes from the same
// wait4(-1) loop) and forwards every signal from in (after Rewrite, to
// the group with SignalGroup), except SIGCHLD, SIGURG and SIGPIPEs of
// the init's own making. A signal that Stops is forwarded too and
// recorded with in.Stop: the caller ends the start once the hook is gone.
// Other signals are for the hook, not held for COMMAND.
//
// After timeout (none when 0) the hook's process group gets SIGTERM,
// then SIGKILL after GracePeriod. Processes the hook leaves behind are
// not signalled: they are reaped when they exit, and COMMAND's final
// leftover handling covers them.
//
// A failure to start the hook is an *ExecError (126 or 127).
func RunHook(opts Options, in *Inbox, timeout time.Duration) (HookResult, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Umask >= 0 {
		unix.Umask(opts.Umask)
	}
	// Registered before the start, as in Run: a hook that exits at once
	// must not be missed.
	chld := make(chan os.Signal, 1)
	if err := catch(chld, unix.SIGCHLD); err != nil {
		return HookResult{}, err
	}
	defer uncatch(chld)
	var other <-chan os.Signal
	if in != nil {
		other = in.C()
	}

	// No zombie is held here (hold false): the hook's leftovers are not
	// signalled by group, so its pid need not be kept from reuse.
	kids := &children{}
	pid, release, err := start(opts)
	if err != nil {
		return HookResult{}, err
	}
	defer close(release)
	kids.cmd = pid
	opts.Log.Debug("started hook", "pid", pid, "path", opts.Path)

	var res HookResult
	var deadline, kill, giveUp <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	guard := pipeGuard{stderr: 2}
	for {
		if kids.reap(); kids.exited {
			res.Status = kids.status
			return res, nil
		}
		select {
		case <-chld:
		case s := <-other:
			sig := s.(syscall.Signal)
			if guard.own(sig, len(other), &opts.Log) || sig == unix.SIGURG || sig == unix.SIGCHLD {
				continue
			}
			if Stops(sig) {
				in.Stop(sig)
				if res.Stopped == 0 {
					res.Stopped = sig
				}
			}
			forward(pid, sig, opts)
		case <-deadline:
			res.TimedOut = true
			opts.Log.Warn("hook outlived NONROOT_HOOK_TIMEOUT: sending SIGTERM to its process group", "path", opts.Path, "pid", pid, "timeout", timeout, "grace_period", opts.GracePeriod)
			// A stopped hook would keep SIGTERM pending: SIGCONT lets it act.
			signalHook(pid, unix.SIGTERM, unix.SIGCONT)
			kill = time.After(opts.GracePeriod)
		case <-kill:
			opts.Log.Warn("hook still running after the grace period: sending SIGKILL to its process group", "path", opts.Path, "pid", pid)
			signalHook(pid, unix.SIGKILL)
			giveUp = time.After(killWait)
		case <-giveUp:
			// Not ours to signal (EPERM: a setuid hook) or stuck in the
			// kernel; waiting longer could hang the start for ever.
			opts.Log.Warn("hook survived SIGKILL; going on without it", "path", opts.Path, "pid", pid)
			res.Survived = true
			return res, nil
		}
	}
}

// signalHook sends sigs to the hook's process group, or to the hook alone
// when it has left its group (ESRCH for the group).
func signalHook(pid int, sigs ...syscall.Signal) {
	for _, sig := range sigs {
		if err := unix.Kill(-pid, sig); errors.Is(err, unix.ESRCH) {
			_ = unix.Kill(pid, sig)
		}
	}
}

// StatusText says how a process ended, for a log line or an error:
// "exited with status 3", "killed by signal SIGKILL".
func StatusText(ws unix.WaitStatus) string {
	if ws.Signaled() {
		name := unix.SignalName(ws.Signal())
		if name == "" {
			name = fmt.Sprintf("%d", int(ws.Signal()))
		}
		return "killed by signal " + name
	}
	return fmt.Sprintf("exited with status %d", ws.ExitStatus())
}

// Drain takes the signals waiting in the channel without blocking, as
// During would: one that Stops is recorded with Stop, the others go to
// Hold (held for COMMAND or dropped). Setup calls it before each hook, so that a signal
// sent before the hook existed (SIGHUP during the templates) is not
// forwarded to it: it would kill a hook that never asked for it.
func (in *Inbox) Drain() {
	for {
		select {
		case s := <-in.ch:
			sig := s.(syscall.Signal)
			if Stops(sig) {
				in.Stop(sig)
				continue
			}
			in.Hold(sig)
		default:
			return
		}
	}
}
