package supervisor

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Inbox is the signal channel while setup runs, before COMMAND exists:
// steps that take time (WAIT, HOOKS) run under it, so that SIGTERM ends
// the start at once. Of the other signals, those COMMAND can take at its
// very start (SIGWINCH, SIGCONT) are held, in order, and forwarded to it
// as soon as it starts (Options.Held); the rest are dropped with a
// warning (see Hold).
type Inbox struct {
	ch      <-chan os.Signal
	log     *slog.Logger
	held    []syscall.Signal
	dropped uint64 // bit N-1: signal N was dropped (and warned about)
	stopped syscall.Signal
}

// NewInbox reads ch, the channel registered with NotifyAll, and warns on
// log (nil: silently) of each signal it drops.
func NewInbox(ch <-chan os.Signal, log *slog.Logger) *Inbox { return &Inbox{ch: ch, log: log} }

// Stops reports whether sig, received during setup, ends the start
// without COMMAND: TERM (what Kubernetes and podman stop with), INT
// (Ctrl-C) and QUIT. The init then exits 128+N.
func Stops(sig syscall.Signal) bool {
	return sig == unix.SIGTERM || sig == unix.SIGINT || sig == unix.SIGQUIT
}

// C is the signal channel, for a loop that forwards signals to a child of
// setup (a hook) itself.
func (in *Inbox) C() <-chan os.Signal { return in.ch }

// Hold keeps sig for COMMAND if COMMAND can take it before it has set
// up its handlers: SIGWINCH and SIGCONT, whose default action neither
// ends nor stops a process. Any other (SIGHUP, SIGUSR1, SIGPIPE, SIGTSTP
// ...) would, forwarded the moment COMMAND starts, find it without its
// handler yet and end or stop it by the default action; it was meant
// for a COMMAND that was not running, and the one that starts reads its
// configuration anew anyway. It is dropped, and the log says so.
func (in *Inbox) Hold(sig syscall.Signal) {
	switch sig {
	case unix.SIGURG, unix.SIGCHLD:
		// The Go runtime's preemption signal; a child of setup's exit.
	case unix.SIGWINCH, unix.SIGCONT:
		// One of each says all there is to say: a flood of them must
		// not grow without bound.
		if !slices.Contains(in.held, sig) {
			in.held = append(in.held, sig)
		}
	default:
		bit := uint64(1) << (uint(sig-1) % 64)
		first := in.dropped&bit == 0
		in.dropped |= bit
		// One warning per kind of signal: a burst does not flood the log.
		if in.log != nil && first {
			in.log.Warn("signal received during setup, before COMMAND started: not forwarded to COMMAND, whose default action for it would end or stop COMMAND before it can set up a handler; send it again once COMMAND runs",
				"signal", SignalNames([]syscall.Signal{sig}))
		}
	}
}

// Dropped are the kinds of signal Hold did not keep, by number.
func (in *Inbox) Dropped() []syscall.Signal {
	var out []syscall.Signal
	for n := syscall.Signal(1); n <= 64; n++ {
		if in.dropped&(1<<(n-1)) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Held are the signals kept for COMMAND, in the order they came.
func (in *Inbox) Held() []syscall.Signal { return in.held }

// Stop records that sig ends the start; the first one recorded wins.
func (in *Inbox) Stop(sig syscall.Signal) {
	if in.stopped == 0 {
		in.stopped = sig
	}
}

// Stopped is the signal that ended the start, 0 when none did.
func (in *Inbox) Stopped() syscall.Signal { return in.stopped }

// During runs f with a context that is cancelled when a signal that
// Stops arrives, and returns that signal (0 when none came) with f's
// error. f must return soon after its context is cancelled. Other
// signals go to Hold. Meanwhile it reaps every child that exits: as
// PID 1 or a subreaper the init reaps for as long as it runs (SPEC,
// Supervision), and a wait can last minutes while orphans of processes
// that entered the namespace (kubectl exec, an exec probe) come to it.
// f must therefore start no process of its own.
func (in *Inbox) During(f func(ctx context.Context) error) (syscall.Signal, error) {
	if in.stopped != 0 {
		return in.stopped, nil
	}
	chld := make(chan os.Signal, 1)
	if err := catch(chld, unix.SIGCHLD); err != nil {
		return 0, err
	}
	defer uncatch(chld)
	drainAll()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	for {
		select {
		case err := <-done:
			return in.stopped, err
		case <-chld:
			drainAll()
		case s := <-in.ch:
			sig := s.(syscall.Signal)
			if Stops(sig) {
				in.Stop(sig)
				cancel()
				continue
			}
			in.Hold(sig)
		}
	}
}

// SignalNames lists sigs by name, comma-separated, for a log line.
func SignalNames(sigs []syscall.Signal) string {
	names := make([]string, len(sigs))
	for i, s := range sigs {
		if names[i] = unix.SignalName(s); names[i] == "" {
			names[i] = strconv.Itoa(int(s))
		}
	}
	return strings.Join(names, ",")
}
