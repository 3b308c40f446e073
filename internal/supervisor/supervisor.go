// Package supervisor is the only code that starts, signals and waits on
// processes: it runs COMMAND, forwards signals to it, reaps every zombie
// and, when COMMAND exits, terminates the leftovers.
//
// It follows tini's loop: register signals, start the child, then loop on
// "reap with WNOHANG, wait for a signal, forward it". The child's status is
// collected by the same wait4(-1) loop that reaps orphans; exec.Cmd.Wait is
// never called, since a second waiter racing the reaper loses the status
// ("wait: no child processes").
package supervisor

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/hashicorp/go-multierror"
	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/emu"
)

// Options describes COMMAND and how to supervise it.
type Options struct {
	Path  string   // resolved executable, see LookPath
	Argv  []string // Argv[0] is what COMMAND sees as its name
	Env   []string
	Stdin *os.File // the terminal is handed to COMMAND only if this is one

	SignalGroup bool                              // forward to -pgid instead of pid
	Rewrite     map[syscall.Signal]syscall.Signal // applied before forwarding
	GracePeriod time.Duration                     // between SIGTERM and SIGKILL of leftovers
	// PID1 says we are PID 1 of a PID namespace: leftovers are then every
	// other process of the namespace (kill(-1)); otherwise only our own
	// descendants, found through /proc.
	PID1    bool
	ProcDir string // "/proc"; where descendants are looked up
	Umask   int    // -1: inherited
	Log     *slog.Logger
	// Held are signals that arrived during setup (see Inbox): they are
	// forwarded, in order, as soon as COMMAND has started.
	Held []syscall.Signal
	// Reload is NONROOT_RELOAD_SIGNAL, nil when off (see reload.go).
	Reload *ReloadOptions
}

// Run starts COMMAND and supervises it until it exits and its leftovers
// are gone. It returns COMMAND's wait status. A start failure is returned
// as an *ExecError carrying 126 or 127.
//
// The caller must have registered the signal channel with Notify before
// Run, so that a signal arriving while COMMAND starts is not lost; see
// NotifyAll.
func Run(opts Options, other <-chan os.Signal) (unix.WaitStatus, error) {
	if opts.Umask >= 0 {
		unix.Umask(opts.Umask)
	}
	// SIGCHLD has a channel of its own with room for one: a SIGCHLD that
	// finds one already waiting is dropped, which is right, since one
	// wake-up drains every zombie. Queued behind other signals, thousands
	// of stale SIGCHLDs would each cost a wait4 that scans every child.
	chld := make(chan os.Signal, 1)
	if err := catch(chld, unix.SIGCHLD); err != nil {
		return 0, err
	}
	defer uncatch(chld)
	sigs := signalSources{chld: chld, other: other}

	// COMMAND's zombie is kept, unreaped, until its leftovers are dealt
	// with: its pid, and so its process group's number, cannot be taken
	// by a process outside the tree while that group is signalled. That
	// needs the wait loop on the main thread (the init's package init
	// locks it there), where the kernel puts every orphan, and COMMAND
	// forked on another thread: a wait limited to the main thread's
	// children (__WNOTHREAD) then reaps every other zombie but never
	// COMMAND. Elsewhere (a caller not on the main thread) COMMAND is
	// reaped with the others.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	kids := &children{hold: unix.Gettid() == unix.Getpid(), check: newReloader(opts.Reload, opts.Log)}

	pid, release, err := start(opts)
	if err != nil {
		return 0, err
	}
	defer close(release)
	kids.cmd = pid
	opts.Log.Debug("started command", "pid", pid, "argv", opts.Argv)
	for _, sig := range opts.Held {
		forward(pid, sig, opts)
	}

	// On the process's main thread (kids.hold) the shield stays up for
	// good: after a flood the kernel may still hold tens of thousands of
	// queued signals, and the main thread, unshielded, would spend the
	// leftovers' handling and the way to exit in their handler (a loaded
	// CI machine saw the init not exit a minute after COMMAND). Signals
	// still reach the pipe through the other threads, and every child
	// starts through forkExec, which clears the mask. Elsewhere (a
	// caller on another thread) the mask is put back when Run returns.
	if restore := shieldMain(); !kids.hold {
		defer restore()
	}
	if d, ok := acquireDirectFor(opts); ok {
		waitDirect(kids, &opts, sigs, d.r)
		d.release()
	} else {
		waitChild(kids, &opts, sigs)
	}
	kids.check.abandon()
	terminateLeftovers(kids, opts, sigs)
	status := kids.final()
	opts.Log.Debug("command exited", "pid", pid, "status", Status(status))
	return status, nil
}

// start starts COMMAND (see startProcess) from a goroutine locked to a
// thread of its own, which it keeps until release is closed: COMMAND is
// that thread's child, not the main thread's (see Run).
func start(opts Options) (int, chan<- struct{}, error) {
	type started struct {
		pid int
		err error
	}
	done := make(chan started)
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		pid, err := startProcess(opts)
		done <- started{pid, err}
		if err == nil {
			<-release
		}
	}()
	s := <-done
	if s.err != nil {
		return 0, nil, s.err
	}
	return s.pid, release, nil
}

// startProcess starts COMMAND in its own process group, with no handle:
// only the reaper waits for it.
func startProcess(opts Options) (int, error) {
	tty := isTerminal(opts.Stdin)
	sys := &syscall.SysProcAttr{
		Setpgid: true,
		// Foreground makes COMMAND's group the terminal's foreground
		// group (tcsetpgrp in the child, before exec). Only when stdin
		// really is a terminal: on /dev/null it fails with ENOTTY.
		Foreground: tty,
		Ctty:       0,
	}
	pid, err := forkExec(opts.Path, opts.Argv, opts.Env, []*os.File{opts.Stdin, os.Stdout, os.Stderr}, sys)
	if err != nil {
		return 0, startError(opts, err)
	}
	return pid, nil
}

// startError classifies a failure to exec COMMAND; when COMMAND is a
// script whose interpreter is the problem, the error names that.
func startError(opts Options, err error) error {
	if ierr := checkInterpreter(opts.Path); ierr != nil {
		err = ierr
	}
	return execError(opts.Argv[0], err)
}

// signalSources are the two channels the loop waits on.
type signalSources struct {
	chld  <-chan os.Signal
	other <-chan os.Signal
}

// waitChild forwards signals and reaps zombies until COMMAND has exited.
func waitChild(kids *children, opts *Options, sigs signalSources) {
	guard := pipeGuard{stderr: 2}
	for {
		// Drain before blocking: a fast child may have exited before we
		// got here, and SIGCHLDs merge, so one signal can mean many exits.
		if kids.reap(); kids.exited {
			return
		}
		kids.check.settle(kids.cmd, *opts)
		select {
		case <-kids.check.changes():
			kids.check.change()
		case res := <-kids.check.rendered():
			// COMMAND may have exited as the render ended (its SIGCHLD
			// not taken yet): then nobody is there to reload.
			if kids.reap(); kids.exited {
				kids.check.renderedAfterExit(res)
				return
			}
			kids.check.written(res, kids.cmd, *opts)
		case <-kids.check.deadline():
			kids.check.expire()
		case <-sigs.chld:
		case s := <-sigs.other:
			guard.pass(s.(syscall.Signal), len(sigs.other), kids.cmd, opts)
		}
	}
}

// pass forwards sig to COMMAND (cmd) unless it is not one to forward:
// a wake byte of the direct pipe (0), SIGCHLD, SIGURG, or a SIGPIPE of
// the init's own (see own); queued is how many signals are still to be
// received behind it.
func (g *pipeGuard) pass(sig syscall.Signal, queued, cmd int, opts *Options) {
	if sig == 0 || sig == unix.SIGCHLD || sig == unix.SIGURG || g.own(sig, queued, &opts.Log) {
		return
	}
	forward(cmd, sig, *opts)
}

// acquireDirectFor switches the signal handler to the direct pipe (see
// direct) for a COMMAND without NONROOT_RELOAD_SIGNAL: a reload's events
// come on channels that only waitChild's select waits on.
func acquireDirectFor(opts Options) (*direct, bool) {
	if opts.Reload != nil {
		return nil, false
	}
	return acquireDirect()
}

// waitDirect is waitChild without a reload: it forwards signals and
// reaps zombies until COMMAND has exited, woken by the signal handler's
// writes to the direct pipe (fd), read in poll(2) on the main thread. A 0
// there means a signal went to a channel meanwhile (one the catch pipe's
// reader had before the switch): other is looked at after every wake-up.
func waitDirect(kids *children, opts *Options, sigs signalSources, fd int) {
	guard := pipeGuard{stderr: 2}
	// A large read: the pipe holds 64 KiB, and a byte that finds it full
	// (a SIGTERM behind a storm of SIGCHLDs) is lost.
	var buf [4096]byte
	for {
		// Drain before blocking, as waitChild does.
		if kids.reap(); kids.exited {
			return
		}
		for more := true; more; {
			select {
			case s := <-sigs.other:
				guard.pass(s.(syscall.Signal), len(sigs.other), kids.cmd, opts)
			default:
				more = false
			}
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil && !errors.Is(err, unix.EINTR) {
			// Cannot happen for one valid descriptor and memory of our
			// own; should it, look again in a moment rather than spin.
			opts.Log.Warn("poll on the signal pipe", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		n, _ := unix.Read(fd, buf[:])
		// Only signals to forward count as queued for the pipe guard:
		// SIGCHLDs and wake bytes never reach it, and counted they made
		// it take a later SIGPIPE from outside for a stale one of its own.
		m := 0
		for _, b := range buf[:max(n, 0)] {
			if b != 0 && syscall.Signal(b) != unix.SIGCHLD {
				buf[m] = b
				m++
			}
		}
		// Signals whose byte found the pipe full go first, and are looked
		// for again every 64 forwards: in a flood the pipe is full and
		// each forward slow, and a SIGTERM among them must not wait for
		// thousands of others. Each is forwarded once, as the kernel
		// merges a standard signal that is pending.
		lost := func(sig syscall.Signal) { guard.pass(sig, len(sigs.other), kids.cmd, opts) }
		for i := 0; i < m; i++ {
			if i%64 == 0 {
				takeLost(lost)
			}
			guard.pass(syscall.Signal(buf[i]), m-i-1+len(sigs.other), kids.cmd, opts)
		}
		takeLost(lost)
	}
}

// shieldMain blocks, on the calling thread (Run's, locked), the signals
// the init forwards, and returns the function that restores its mask.
// The kernel gives a signal sent to the process to the main thread
// first: under a flood it spent its time in the handler and forwarded
// almost nothing, so that a SIGTERM waited behind tens of thousands of
// others (a hostile review saw it still unforwarded 40 s on). Blocked
// here, each goes to another thread of the runtime, whose handler
// writes it to the pipe as before, and the loop on this thread forwards
// at full speed. The faults (a bug of the loop's own must still be
// one), SIGURG (the runtime's preemption) and SIGPROF stay open. A
// failure leaves the mask as it was: the loop works either way.
//
// Not under qemu user emulation: qemu keeps a signal that the host
// kernel gave to the main thread pending on that guest thread while it
// blocks it, and the loop would never wake (TestReload hung under
// qemu-s390x). There the mask stays as it was.
func shieldMain() (restore func()) {
	if emu.Translated() {
		return func() {}
	}
	var set, old unix.Sigset_t
	for n := 1; n <= 64; n++ {
		switch syscall.Signal(n) {
		case unix.SIGILL, unix.SIGTRAP, unix.SIGBUS, unix.SIGFPE, unix.SIGSEGV, unix.SIGSYS, unix.SIGURG, unix.SIGPROF, unix.SIGKILL, unix.SIGSTOP:
			continue
		}
		set.Val[(n-1)/64] |= 1 << (uint(n-1) % 64)
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
		return func() {}
	}
	return func() { _ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil) }
}

// children reaps the init's children and follows COMMAND.
type children struct {
	cmd    int  // COMMAND's pid
	hold   bool // COMMAND's zombie is kept until final (see Run)
	exited bool // COMMAND has exited
	reaped bool // and was reaped, with status
	status unix.WaitStatus
	check  *reloader // NONROOT_RELOAD_CHECK's run, if any
}

// reap collects every exited child without blocking, but COMMAND when it
// is held. It reports whether no child is left but a held COMMAND (wait4
// says ECHILD).
func (c *children) reap() (none bool) {
	flags := unix.WNOHANG
	if c.hold {
		flags |= unix.WNOTHREAD
	}
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, flags, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || wpid <= 0 {
			none = errors.Is(err, unix.ECHILD)
			break
		}
		if wpid == c.cmd && c.cmd != noPID {
			// Also when held: its thread ended and it moved to ours.
			c.status, c.exited, c.reaped = ws, true, true
		}
		c.check.reaped(wpid, ws)
	}
	if c.hold && !c.exited && c.cmd != noPID {
		// WNOWAIT: see that COMMAND exited, leave its zombie.
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, c.cmd, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		c.exited = err == nil && info.Signo == int32(unix.SIGCHLD)
		if errors.Is(err, unix.ECHILD) {
			c.exited = true // not ours any more: final reports it
		}
	}
	return none
}

// final reaps COMMAND, if it is still held, and returns its status.
func (c *children) final() unix.WaitStatus {
	for !c.reaped {
		var ws unix.WaitStatus
		_, err := unix.Wait4(c.cmd, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		c.status, c.reaped = ws, true
		if err != nil {
			// Cannot happen for a child of ours; report a failure.
			c.status = unix.WaitStatus(1 << 8)
		}
	}
	return c.status
}

// noPID is the pid of COMMAND before it starts: wait4 reports a reaped
// child by its pid, never by 0 (which is WNOHANG's "no child has exited
// yet"), so it never matches.
const noPID = 0

// drainAll reaps every exited child and reports whether none is left.
func drainAll() bool {
	return (&children{}).reap()
}

// forward sends sig (after rewriting) to COMMAND or its process group.
// ESRCH is expected when COMMAND has just exited and is ignored.
func forward(pid int, sig syscall.Signal, opts Options) {
	if to, ok := opts.Rewrite[sig]; ok {
		opts.Log.Debug("rewriting signal", "from", unix.SignalName(sig), "to", unix.SignalName(to))
		sig = to
	}
	target := pid
	if opts.SignalGroup {
		target = -pid
	}
	if err := unix.Kill(target, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		opts.Log.Warn("forward signal", "signal", unix.SignalName(sig), "pid", target, "err", err)
	}
}

// killWait is how long the init waits for its leftovers to die after
// SIGKILL. One it may not signal (EPERM: it became root through a setuid
// program while the init runs as another UID) would otherwise keep it in
// wait4 for ever, and COMMAND's status would never be delivered.
const killWait = time.Second

// terminateLeftovers sends SIGTERM to the processes left once COMMAND
// (pid) has exited, reaps them, and sends SIGKILL to those still there
// after the grace period.
func terminateLeftovers(kids *children, opts Options, sigs signalSources) {
	if kids.reap() {
		// No child is left. As PID 1 there may still be processes that
		// entered the namespace from outside (exec into the container):
		// they get SIGTERM, and the kernel kills them when we exit.
		if opts.PID1 {
			_ = unix.Kill(-1, unix.SIGTERM)
		}
		return
	}
	l := newLeftovers(os.Getpid(), opts.ProcDir, opts.PID1)
	l.group = kids.cmd
	// A stopped process would keep the SIGTERM pending until the grace
	// period ends in SIGKILL; SIGCONT lets it act on it (as systemd does).
	if pids := l.signal(unix.SIGTERM, unix.SIGCONT); !l.own || len(pids) > 0 {
		opts.Log.Info("terminating leftover processes", append(l.logAttrs(pids), "grace_period", opts.GracePeriod)...)
	}
	deadline := time.NewTimer(opts.GracePeriod)
	defer deadline.Stop()
	for !kids.reap() {
		select {
		case <-sigs.chld: // look again
		case <-sigs.other: // nobody to forward to any more
		case <-deadline.C:
			killRemaining(kids, l, opts, sigs)
			return
		}
	}
}

// killRemaining sends SIGKILL and reaps until no child is left, or until
// killWait has passed: then it gives up on the survivors and says which
// they are.
func killRemaining(kids *children, l leftovers, opts Options, sigs signalSources) {
	pids := l.signal(unix.SIGKILL)
	timer := time.NewTimer(killWait)
	defer timer.Stop()
	for !kids.reap() {
		select {
		case <-sigs.chld:
			// A death can reparent its children to us: they get SIGKILL
			// too.
			l.signal(unix.SIGKILL)
		case <-sigs.other:
		case <-timer.C:
			if !l.own && !l.pid1 {
				// None was ever listed: which they are, and whether
				// they got SIGKILL, is not known.
				opts.Log.Warn("children are left that the init cannot name (its /proc is not of its PID namespace; only COMMAND's process group was signalled); exiting with COMMAND's status without them",
					l.logAttrs(nil)...)
				return
			}
			opts.Log.Warn("leftover processes survived SIGKILL (not ours to signal, or stuck in the kernel); exiting with COMMAND's status without them",
				l.logAttrs(l.list())...)
			return
		}
	}
	opts.Log.Warn("killed leftover processes after the grace period", append(l.logAttrs(pids), "grace_period", opts.GracePeriod)...)
}

// Status turns a wait status into an exit status: the code for a normal
// exit, 128+N for a death by signal N.
func Status(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// isTerminal reports whether f is a terminal: a TCGETS ioctl succeeds.
// A character device is not enough (/dev/null is one).
func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// NotifyAll registers ch for every catchable signal but SIGCHLD, which
// Run registers on a channel of its own, and SIGURG, through the init's
// own handler (see catcher), as signal.Notify would: a signal that finds
// ch full is dropped. Naming SIGTSTP, SIGTTIN and SIGTTOU replaces their
// default action (stop), so the init never stops from a signal it
// forwards. SIGURG is the runtime's preemption signal, which it sends to
// itself: it is never forwarded, and caught it would fill ch during a
// long CPU-bound setup step (a fix-permissions of a large volume), so
// that a later SIGTERM would be dropped.
//
// Signals the Go runtime keeps for itself are not caught, so they are
// not forwarded: SIGPROF (its profiler consumes it) and 32 to 34
// (reserved for C libraries). NotifyAll makes 32 and 34 harmless to the
// init with a handler that does nothing, which exec resets, so COMMAND
// starts with their default action (see holdReserved); the runtime's own
// handler already keeps 33 harmless. A signal that the runtime takes for
// a fault (SIGSEGV and the like) is caught like the others when a
// process sent it (kill(2), rt_sigqueueinfo(2)), and is the runtime's
// when the kernel raised it (see holdQueued). A failure to install these
// handlers is returned.
func NotifyAll(ch chan<- os.Signal) error {
	sigs := make([]syscall.Signal, 0, 64)
	for s := syscall.Signal(1); s <= 64; s++ {
		if s == unix.SIGCHLD || !catchable(s) {
			continue
		}
		sigs = append(sigs, s)
	}
	if err := catch(ch, sigs...); err != nil {
		return fmt.Errorf("signals are not caught: %w", err)
	}
	var errs *multierror.Error
	if err := holdReserved(); err != nil {
		errs = multierror.Append(errs, fmt.Errorf("COMMAND may inherit ignored signals 32 or 34: %w", err))
	}
	if err := holdQueued(ch); err != nil {
		errs = multierror.Append(errs, err)
	}
	return errs.ErrorOrNil()
}
