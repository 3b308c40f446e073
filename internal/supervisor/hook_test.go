package supervisor

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// runHook runs RunHook on a shell script with an inbox fed by the test
// (no real signal reaches the test process), bounded by wait.
func runHook(t *testing.T, opts Options, in *Inbox, timeout time.Duration) (HookResult, error) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skipf("no /bin/sh: %v", err)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.GracePeriod == 0 {
		opts.GracePeriod = 10 * time.Second
	}
	type result struct {
		r   HookResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := RunHook(opts, in, timeout)
		done <- result{r, err}
	}()
	select {
	case r := <-done:
		return r.r, r.err
	case <-time.After(wait):
		t.Fatalf("RunHook(%q) did not return within %v", opts.Argv, wait)
		return HookResult{}, nil
	}
}

// whenFile sends sig on ch once path exists: the hook creates it after
// its trap is set, so the signal cannot arrive before the trap.
func whenFile(path string, ch chan<- os.Signal, sig syscall.Signal) {
	go func() {
		if awaitFile(path) {
			ch <- sig
		}
	}()
}

// awaitFile waits, up to a minute, until path exists (a child made it
// once its trap was set), and reports whether it does.
func awaitFile(path string) bool {
	for i := 0; i < 6000; i++ {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func TestRunHookStatus(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   string
	}{
		{"exit 0", "exited with status 0"},
		{"exit 3", "exited with status 3"},
		{"kill -KILL $$", "killed by signal SIGKILL"},
		{"kill -SEGV $$", "killed by signal SIGSEGV"},
	} {
		r, err := runHook(t, sh(tc.script), NewInbox(make(chan os.Signal), nil), time.Minute)
		if err != nil {
			t.Fatalf("RunHook(%q): %v", tc.script, err)
		}
		if got := StatusText(r.Status); got != tc.want || r.TimedOut || r.Stopped != 0 {
			t.Errorf("RunHook(%q) = %q, timed out %v, stopped %v; want %q, false, 0", tc.script, got, r.TimedOut, r.Stopped, tc.want)
		}
	}
}

func TestRunHookEnvAndUmask(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	o := sh(`echo "$HOOK_VAR $(umask)" > ` + out)
	o.Env = append(o.Env, "HOOK_VAR=from-setup")
	o.Umask = 0o027
	old := unix.Umask(0o022)
	defer unix.Umask(old)
	if _, err := runHook(t, o, NewInbox(make(chan os.Signal), nil), time.Minute); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if got, want := strings.TrimSpace(string(b)), "from-setup 0027"; got != want {
		t.Fatalf("hook saw %q; want %q (its env and NONROOT_UMASK)", got, want)
	}
}

func TestRunHookForwardsSignals(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	ch := make(chan os.Signal, 4)
	in := NewInbox(ch, nil)
	whenFile(ready, ch, unix.SIGUSR1)
	r, err := runHook(t, sh(`trap 'exit 5' USR1; touch `+ready+`; `+waitLoop), in, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := StatusText(r.Status); got != "exited with status 5" {
		t.Fatalf("hook %s; want exited with status 5 (USR1 forwarded to it)", got)
	}
	if len(in.Held()) != 0 || in.Stopped() != 0 || r.Stopped != 0 {
		t.Fatalf("held %v, stopped %v/%v; want the signal forwarded to the hook, not held for COMMAND", in.Held(), in.Stopped(), r.Stopped)
	}
}

func TestRunHookRewritesSignals(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	ch := make(chan os.Signal, 4)
	whenFile(ready, ch, unix.SIGHUP)
	o := sh(`trap 'exit 6' HUP; trap 'exit 7' USR2; touch ` + ready + `; ` + waitLoop)
	o.Rewrite = map[syscall.Signal]syscall.Signal{unix.SIGHUP: unix.SIGUSR2}
	r, err := runHook(t, o, NewInbox(ch, nil), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := StatusText(r.Status); got != "exited with status 7" {
		t.Fatalf("hook %s; want exited with status 7 (HUP rewritten to USR2)", got)
	}
}

func TestRunHookStopSignal(t *testing.T) {
	dir := t.TempDir()
	ready, got := filepath.Join(dir, "ready"), filepath.Join(dir, "got")
	ch := make(chan os.Signal, 4)
	in := NewInbox(ch, nil)
	whenFile(ready, ch, unix.SIGTERM)
	// The hook takes SIGTERM and exits 0: the start ends all the same.
	r, err := runHook(t, sh(`trap 'touch `+got+`; exit 0' TERM; touch `+ready+`; `+waitLoop), in, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(got); err != nil {
		t.Errorf("the hook did not receive SIGTERM: %v", err)
	}
	if r.Stopped != unix.SIGTERM || in.Stopped() != unix.SIGTERM {
		t.Fatalf("Stopped = %v, inbox %v; want SIGTERM recorded", r.Stopped, in.Stopped())
	}
	if StatusText(r.Status) != "exited with status 0" {
		t.Errorf("hook %s; want exited with status 0", StatusText(r.Status))
	}
}

func TestRunHookTimeout(t *testing.T) {
	t.Run("exits on SIGTERM", func(t *testing.T) {
		r, err := runHook(t, sh(waitLoop), NewInbox(make(chan os.Signal), nil), 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if !r.TimedOut || StatusText(r.Status) != "killed by signal SIGTERM" {
			t.Fatalf("timed out %v, %s; want true, killed by signal SIGTERM", r.TimedOut, StatusText(r.Status))
		}
	})
	t.Run("ignores SIGTERM", func(t *testing.T) {
		o := sh(`trap '' TERM; ` + waitLoop)
		o.GracePeriod = 200 * time.Millisecond
		r, err := runHook(t, o, NewInbox(make(chan os.Signal), nil), 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if !r.TimedOut || StatusText(r.Status) != "killed by signal SIGKILL" {
			t.Fatalf("timed out %v, %s; want true, killed by signal SIGKILL after GRACE_PERIOD", r.TimedOut, StatusText(r.Status))
		}
	})
}

func TestRunHookStartFailure(t *testing.T) {
	o := Options{Path: "/nonexistent/hook", Argv: []string{"/nonexistent/hook"}, Umask: -1}
	_, err := runHook(t, o, NewInbox(make(chan os.Signal), nil), time.Minute)
	var ee *ExecError
	if !errors.As(err, &ee) || ee.Code != 127 {
		t.Fatalf("RunHook(missing) = %v; want an *ExecError with code 127", err)
	}
}

func TestInboxDrain(t *testing.T) {
	ch := make(chan os.Signal, 4)
	in := NewInbox(ch, nil)
	ch <- unix.SIGHUP
	ch <- unix.SIGINT
	ch <- unix.SIGWINCH
	ch <- unix.SIGUSR1
	in.Drain()
	if len(ch) != 0 || in.Stopped() != unix.SIGINT || !reflect.DeepEqual(in.Held(), []syscall.Signal{unix.SIGWINCH}) ||
		!reflect.DeepEqual(in.Dropped(), []syscall.Signal{unix.SIGHUP, unix.SIGUSR1}) {
		t.Fatalf("after Drain: %d queued, stopped %v, held %v, dropped %v; want 0, SIGINT, [SIGWINCH], [SIGHUP SIGUSR1]", len(ch), in.Stopped(), in.Held(), in.Dropped())
	}
}
