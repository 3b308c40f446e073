package supervisor

import (
	"errors"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// CheckTimeout bounds one run of NONROOT_RELOAD_CHECK: a check still
// running then is killed (SIGKILL to its process group) and counts as
// failed. nginx -t takes well under a second; 30 s leaves room for a
// slow disk without letting a hung check hold the reload for ever.
const CheckTimeout = 30 * time.Second

// Applied is a re-render written to disk and not yet kept
// (render.Applied): Commit keeps it, Restore puts every file back as it
// was; Unchanged says every file already held those bytes and mode.
type Applied interface {
	Unchanged() bool
	Commit() error
	Restore() error
}

// ReloadOptions is NONROOT_RELOAD_SIGNAL (SPEC.md, Supervision, Reload):
// on each value from Changes the loop calls Apply, runs Check, and sends
// Signal to COMMAND.
type ReloadOptions struct {
	Changes <-chan struct{}
	// Apply renders every template pair again and writes the set; on an
	// error nothing was written.
	Apply func() (Applied, error)
	// Check is NONROOT_RELOAD_CHECK's argv, empty for none. It runs as a
	// child of the init with COMMAND's environment, working directory and
	// user, stdin /dev/null, in a process group of its own.
	Check        []string
	CheckTimeout time.Duration
	Signal       syscall.Signal
}

// reloader is the reload's state in the loop. Its methods do nothing on
// a nil reloader (no reload configured).
type reloader struct {
	ro  *ReloadOptions
	log *slog.Logger

	applying chan applyResult // the re-render running, nil when none runs

	check   int // pid of the running check, 0 when none runs
	applied Applied
	timer   *time.Timer // the check's deadline
	killed  bool        // the check outlived it
	done    bool        // the check was reaped, with status
	status  unix.WaitStatus
}

func newReloader(ro *ReloadOptions, log *slog.Logger) *reloader {
	if ro == nil || ro.Changes == nil {
		return nil
	}
	return &reloader{ro: ro, log: log}
}

// applyResult is what ReloadOptions.Apply returned.
type applyResult struct {
	a   Applied
	err error
}

// changes is the channel of change requests, nil (never ready) while a
// re-render or a check runs: a change arriving meanwhile stays queued
// and is handled after it.
func (r *reloader) changes() <-chan struct{} {
	if r == nil || r.check != 0 || r.applying != nil {
		return nil
	}
	return r.ro.Changes
}

// rendered delivers the running re-render's result; nil (never ready)
// when none runs.
func (r *reloader) rendered() <-chan applyResult {
	if r == nil {
		return nil
	}
	return r.applying
}

// deadline fires when the running check has had its time.
func (r *reloader) deadline() <-chan time.Time {
	if r == nil || r.timer == nil {
		return nil
	}
	return r.timer.C
}

// reaped takes the status of a child the loop reaped, when it is the
// check.
func (r *reloader) reaped(pid int, ws unix.WaitStatus) {
	if r != nil && r.check != 0 && pid == r.check {
		r.done, r.status = true, ws
	}
}

// change starts the re-render, in a goroutine: it may take up to the
// render budget, and meanwhile the loop goes on forwarding signals (a
// SIGTERM then reaches COMMAND at once) and reaping zombies. Its result
// comes on rendered, for written.
func (r *reloader) change() {
	ch := make(chan applyResult, 1)
	r.applying = ch
	go func() {
		a, err := r.ro.Apply()
		ch <- applyResult{a, err}
	}()
}

// written goes on from a finished re-render, on the loop's thread: it
// keeps the new files and signals COMMAND (cmd), or starts the check,
// whose end settle handles.
func (r *reloader) written(res applyResult, cmd int, opts Options) {
	r.applying = nil
	a, err := res.a, res.err
	if err != nil {
		r.log.Error("reload: a template source changed but the templates cannot be rendered again; nothing was written, COMMAND keeps running with the previous files", "err", err)
		return
	}
	if a.Unchanged() {
		if err := a.Commit(); err != nil {
			r.log.Warn("reload: dropping the backups of the previous files", "err", err)
		}
		r.log.Debug("reload: the templates render as before; no signal sent")
		return
	}
	if len(r.ro.Check) == 0 {
		r.keep(a, cmd, opts)
		return
	}
	pid, err := startCheck(r.ro.Check, opts)
	if err != nil {
		r.restore(a, true, "NONROOT_RELOAD_CHECK could not be started", "err", err)
		return
	}
	r.check, r.applied, r.killed, r.done = pid, a, false, false
	timeout := r.ro.CheckTimeout
	if timeout <= 0 {
		timeout = CheckTimeout
	}
	r.timer = time.NewTimer(timeout)
	r.log.Debug("reload: templates written; running NONROOT_RELOAD_CHECK", "check", r.ro.Check, "pid", pid)
}

// settle ends a check that was reaped: status 0 keeps the new files and
// signals COMMAND (cmd), anything else puts the previous files back.
func (r *reloader) settle(cmd int, opts Options) {
	if r == nil || r.check == 0 || !r.done {
		return
	}
	r.stopTimer()
	a, ws, killed := r.applied, r.status, r.killed
	r.check, r.applied, r.timer, r.done = 0, nil, nil, false
	switch {
	case killed:
		r.restore(a, true, "NONROOT_RELOAD_CHECK did not finish in time and was killed", "check", r.ro.Check, "timeout", r.timeout())
	case ws.Exited() && ws.ExitStatus() == 0:
		r.keep(a, cmd, opts)
	default:
		r.restore(a, true, "NONROOT_RELOAD_CHECK failed", "check", r.ro.Check, "status", Status(ws))
	}
}

// expire kills a check that outlived its time, with its process group;
// the loop reaps it and settle reports it.
func (r *reloader) expire() {
	r.timer, r.killed = nil, true
	_ = unix.Kill(-r.check, unix.SIGKILL)
	_ = unix.Kill(r.check, unix.SIGKILL)
}

func (r *reloader) stopTimer() {
	if r.timer != nil {
		r.timer.Stop()
	}
}

func (r *reloader) timeout() time.Duration {
	if r.ro.CheckTimeout > 0 {
		return r.ro.CheckTimeout
	}
	return CheckTimeout
}

// abandonWait bounds how long COMMAND's exit waits for a re-render still
// running: its render budget (10 s) and a write with room to spare.
const abandonWait = time.Minute

// abandon is COMMAND's exit while a re-render or a check runs: nobody
// is left to reload, and the new files were never checked nor signalled,
// so the previous ones are put back (a re-render still running is
// waited for first, at most abandonWait). The check is a
// leftover like any other.
func (r *reloader) abandon() {
	if r == nil {
		return
	}
	if r.applying != nil {
		var res applyResult
		select {
		case res = <-r.applying:
		case <-time.After(abandonWait):
			// The render is bounded, the write (fsync, a hung NFS
			// mount) is not: the init does not wait for ever to end.
			r.log.Error("reload: COMMAND exited while the templates were rendered again, and the re-render has not ended after " + abandonWait.String() + "; going on without putting the previous files back")
			r.applying = nil
			return
		}
		r.renderedAfterExit(res)
		return
	}
	if r.check == 0 {
		return
	}
	r.stopTimer()
	r.restore(r.applied, false, "COMMAND exited while NONROOT_RELOAD_CHECK ran", "check", r.ro.Check)
	r.check, r.applied = 0, nil
}

// renderedAfterExit ends a re-render that finished when COMMAND had
// exited: its files were never checked nor signalled, so the previous
// ones are put back (an unchanged set is simply kept).
func (r *reloader) renderedAfterExit(res applyResult) {
	r.applying = nil
	switch {
	case res.err != nil:
		r.log.Error("reload: a template source changed but the templates cannot be rendered again; nothing was written", "err", res.err)
	case res.a.Unchanged():
		_ = res.a.Commit()
		r.log.Debug("reload: the templates render as before; nothing to put back")
	default:
		r.restore(res.a, false, "COMMAND exited while the templates were rendered again")
	}
}

// keep commits the new files and sends the reload signal to COMMAND, or
// its process group with SIGNAL_GROUP. REWRITE_SIGNALS does not apply:
// it rewrites signals the init receives, and this one is the init's own.
func (r *reloader) keep(a Applied, cmd int, opts Options) {
	if err := a.Commit(); err != nil {
		r.log.Warn("reload: the new files are in place, but the backups of the previous ones could not all be removed", "err", err)
	}
	target := cmd
	if opts.SignalGroup {
		target = -cmd
	}
	if err := unix.Kill(target, r.ro.Signal); err != nil {
		r.log.Warn("reload: templates written, but the signal could not be sent", "signal", unix.SignalName(r.ro.Signal), "pid", target, "err", err)
		return
	}
	r.log.Info("reloaded", "signal", unix.SignalName(r.ro.Signal), "pid", target)
}

// restore puts the previous files back and logs why, with attrs;
// running says whether COMMAND still runs.
func (r *reloader) restore(a Applied, running bool, why string, attrs ...any) {
	tail := "no signal sent, COMMAND keeps running"
	if !running {
		tail = "no signal sent"
	}
	if err := a.Restore(); err != nil {
		r.log.Error("reload: "+why+"; putting the previous files back failed too, so some new files are in place; "+tail,
			append(attrs, "restore_err", err)...)
		return
	}
	r.log.Error("reload: "+why+"; the previous files are back, "+tail, attrs...)
}

// startCheck starts the check from the calling thread, which is the
// loop's (see Run): with COMMAND's zombie held, the loop reaps only that
// thread's children, and the check must be one of them. It has no
// handle: the loop's wait4 collects its status.
func startCheck(argv []string, opts Options) (int, error) {
	path, err := LookPath(argv[0], envValue(opts.Env, "PATH"))
	if err != nil {
		return 0, err
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	// A group of its own: a check that outlives its time is killed with
	// whatever it started, and SIGNAL_GROUP's forwarding to COMMAND's
	// group does not reach it.
	pid, err := forkExec(path, argv, opts.Env, []*os.File{null, os.Stdout, os.Stderr}, &syscall.SysProcAttr{Setpgid: true})
	if err != nil {
		return 0, execError(argv[0], err)
	}
	return pid, nil
}

// envValue is name's value in env, a list of "NAME=value" entries; the
// first wins, as for getenv(3).
func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// CheckFix is the advice for a NONROOT_RELOAD_CHECK program that LookPath
// refused with err: not found (127), or found but not executable (126).
func CheckFix(program string, err error) string {
	var ee *ExecError
	if errors.As(err, &ee) && ee.Code == 126 {
		return "make " + program + " executable by COMMAND's user (chmod a+x), or name another program"
	}
	return "install " + program + " in the image, or name it by its absolute path"
}
