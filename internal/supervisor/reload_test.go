package supervisor

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeApplied records what the loop did with a re-render.
type fakeApplied struct {
	unchanged bool
	mu        sync.Mutex
	calls     []string
	done      chan struct{} // closed on Commit or Restore
}

func newFakeApplied(unchanged bool) *fakeApplied {
	return &fakeApplied{unchanged: unchanged, done: make(chan struct{})}
}

func (f *fakeApplied) Unchanged() bool { return f.unchanged }
func (f *fakeApplied) Commit() error   { f.record("commit"); return nil }
func (f *fakeApplied) Restore() error  { f.record("restore"); return nil }

func (f *fakeApplied) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	if len(f.calls) == 1 {
		close(f.done)
	}
}

func (f *fakeApplied) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// TestReload runs COMMAND (a shell that exits 7 on SIGHUP, else 3 once
// the test creates its stop file) with one change sent, and checks what
// the loop did with the re-render and whether COMMAND got the signal.
func TestReload(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skipf("no /bin/sh: %v", err)
	}
	for _, tc := range []struct {
		name      string
		unchanged bool
		applyErr  error
		check     []string
		timeout   time.Duration
		want      int      // COMMAND's status: 7 signalled, 3 not
		calls     []string // on the re-render
	}{
		{name: "no check: commit and signal", want: 7, calls: []string{"commit"}},
		{name: "check passes: commit and signal", check: []string{"sh", "-c", "exit 0"}, want: 7, calls: []string{"commit"}},
		{name: "check fails: restore, no signal", check: []string{"sh", "-c", "exit 1"}, want: 3, calls: []string{"restore"}},
		{name: "check sees COMMAND's env", check: []string{"sh", "-c", `[ "$FOO" = bar ]`}, want: 7, calls: []string{"commit"}},
		{name: "check not found: restore, no signal", check: []string{"no-such-check-program"}, want: 3, calls: []string{"restore"}},
		{name: "check outlives its timeout: killed, restore, no signal", check: []string{"sh", "-c", "sleep 100"}, timeout: 300 * time.Millisecond, want: 3, calls: []string{"restore"}},
		{name: "unchanged: no signal", unchanged: true, want: 3, calls: []string{"commit"}},
		{name: "render error: no signal", applyErr: errors.New("x.tmpl:1: boom"), want: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			stop := filepath.Join(dir, "stop")
			ready := filepath.Join(dir, "ready")
			o := sh(`trap 'exit 7' HUP; : > ` + ready + `; i=0; while [ ! -e ` + stop + ` ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; exit 3`)
			o.Env = append(o.Env, "FOO=bar")
			changes := make(chan struct{}, 1)
			applied := newFakeApplied(tc.unchanged)
			applyDone := make(chan struct{})
			o.Reload = &ReloadOptions{
				Changes: changes,
				Apply: func() (Applied, error) {
					defer close(applyDone)
					if tc.applyErr != nil {
						return nil, tc.applyErr
					}
					return applied, nil
				},
				Check:        tc.check,
				Signal:       unix.SIGHUP,
				CheckTimeout: tc.timeout,
			}
			if o.Reload.CheckTimeout == 0 {
				o.Reload.CheckTimeout = wait
			}
			// The change goes once COMMAND's trap is set.
			go func() {
				awaitFile(ready)
				changes <- struct{}{}
				<-applyDone
				if tc.applyErr == nil {
					select {
					case <-applied.done:
					case <-time.After(wait):
					}
				}
				// Give a signal that was sent time to arrive before the
				// stop file: it is the status that tells them apart.
				time.Sleep(500 * time.Millisecond)
				_ = os.WriteFile(stop, nil, 0o600)
			}()
			ws, err := runSupervisor(t, o)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := Status(ws); got != tc.want {
				t.Errorf("COMMAND's status %d; want %d (7: got RELOAD_SIGNAL, 3: did not)", got, tc.want)
			}
			if got := applied.got(); !equalStrings(got, tc.calls) {
				t.Errorf("calls on the re-render %q; want %q", got, tc.calls)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReloadRenderDoesNotHoldSignals: while a re-render runs (it may
// take up to the render budget), signals are still forwarded to COMMAND
// at once; COMMAND's exit meanwhile puts the previous files back once
// the re-render ends, since they were never checked nor signalled.
func TestReloadRenderDoesNotHoldSignals(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skipf("no /bin/sh: %v", err)
	}
	dir := t.TempDir()
	ready, got := filepath.Join(dir, "ready"), filepath.Join(dir, "got")
	o := sh(`trap ': > ` + got + `; exit 5' USR1; : > ` + ready + `; ` + waitLoop)
	changes := make(chan struct{}, 1)
	applied := newFakeApplied(false)
	applying := make(chan struct{})
	var forwardedDuringRender bool
	o.Reload = &ReloadOptions{
		Changes: changes,
		Apply: func() (Applied, error) {
			close(applying)
			// A slow render: it ends when COMMAND has the signal, or
			// after 10 s.
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
				if _, err := os.Stat(got); err == nil {
					forwardedDuringRender = true
					// COMMAND makes the file just before it exits: let
					// it be gone before the render ends.
					time.Sleep(500 * time.Millisecond)
					break
				}
			}
			return applied, nil
		},
		Signal:       unix.SIGHUP,
		CheckTimeout: wait,
	}
	go func() {
		awaitFile(ready)
		changes <- struct{}{}
		<-applying
		_ = unix.Kill(os.Getpid(), unix.SIGUSR1)
	}()
	ws, err := runSupervisor(t, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := Status(ws); got != 5 {
		t.Errorf("COMMAND's status %d; want 5 (it got the forwarded SIGUSR1)", got)
	}
	if !forwardedDuringRender {
		t.Error("SIGUSR1 reached COMMAND only after the re-render ended; want it forwarded while the render ran")
	}
	if got := applied.got(); !equalStrings(got, []string{"restore"}) {
		t.Errorf("calls on the re-render %q; want [restore] (COMMAND exited before it could be signalled)", got)
	}
}

// TestReloadAbandonDuringRender: COMMAND's exit while a re-render runs
// puts back a written set, commits an unchanged one without an error
// line, and logs a render error rather than dropping it.
func TestReloadAbandonDuringRender(t *testing.T) {
	for _, tc := range []struct {
		name   string
		res    func(a *fakeApplied) applyResult
		calls  []string
		logged string
	}{
		{"written: put back", func(a *fakeApplied) applyResult { return applyResult{a: a} }, []string{"restore"}, "the previous files are back"},
		{"unchanged: kept", func(a *fakeApplied) applyResult { a.unchanged = true; return applyResult{a: a} }, []string{"commit"}, ""},
		{"render error: logged", func(*fakeApplied) applyResult { return applyResult{err: errors.New("x.tmpl:1: boom")} }, nil, "x.tmpl:1: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			r := newReloader(&ReloadOptions{Changes: make(chan struct{})}, slog.New(slog.NewTextHandler(&logs, nil)))
			a := newFakeApplied(false)
			r.applying = make(chan applyResult, 1)
			r.applying <- tc.res(a)
			r.abandon()
			if got := a.got(); !equalStrings(got, tc.calls) {
				t.Errorf("calls %q; want %q", got, tc.calls)
			}
			if tc.logged == "" && strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("an error was logged for an unchanged render:\n%s", logs.String())
			}
			if tc.logged != "" && !strings.Contains(logs.String(), tc.logged) {
				t.Errorf("log lacks %q:\n%s", tc.logged, logs.String())
			}
			if r.applying != nil {
				t.Error("the re-render is still marked running")
			}
		})
	}
}
