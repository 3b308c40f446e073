package supervisor

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/internal/emu"
	"golang.org/x/sys/unix"
)

// wait is a bound on one run of the supervisor, not a timed assertion:
// every child below exits on its own within a few seconds.
const wait = 60 * time.Second

// waitLoop makes a shell child wait for a signal at most ~10s, then exit 9.
const waitLoop = `i=0; while [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; exit 9`

// runSupervisor runs Run with the signal channel registered as main does.
func runSupervisor(t *testing.T, opts Options) (unix.WaitStatus, error) {
	t.Helper()
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.ProcDir == "" {
		opts.ProcDir = "/proc"
	}
	if opts.GracePeriod == 0 {
		opts.GracePeriod = 10 * time.Second
	}
	sigs := make(chan os.Signal, 1024)
	NotifyAll(sigs)
	defer signal.Reset()
	defer signal.Stop(sigs)
	type result struct {
		ws  unix.WaitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		ws, err := Run(opts, sigs)
		done <- result{ws, err}
	}()
	select {
	case r := <-done:
		return r.ws, r.err
	case <-time.After(wait):
		t.Fatalf("Run(%q) did not return within %v", opts.Argv, wait)
		return 0, nil
	}
}

func sh(script string) Options {
	return Options{Path: "/bin/sh", Argv: []string{"sh", "-c", script}, Env: []string{"PATH=/usr/bin:/bin"}, Umask: -1}
}

func TestRunStatus(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skipf("no /bin/sh: %v", err)
	}
	for _, tc := range []struct {
		name string
		opts Options
		want int
	}{
		{"exit 0", sh("exit 0"), 0},
		{"exit 3", sh("exit 3"), 3},
		{"killed by SIGKILL", sh("kill -KILL $$"), 128 + 9},
		{"killed by SIGTERM", sh("kill -TERM $$"), 128 + 15},
		{"signal forwarded", sh(`trap 'exit 5' USR1; kill -USR1 $PPID; ` + waitLoop), 5},
		{"signal rewritten", func() Options {
			o := sh(`trap 'exit 5' QUIT; trap 'exit 6' TERM; kill -TERM $PPID; ` + waitLoop)
			o.Rewrite = map[syscall.Signal]syscall.Signal{unix.SIGTERM: unix.SIGQUIT}
			return o
		}(), 5},
		{"signal to the process group", func() Options {
			o := sh(`trap 'exit 5' USR2; kill -USR2 $PPID; ` + waitLoop)
			o.SignalGroup = true
			return o
		}(), 5},
		{"argv[0] and env passed", Options{Path: "/bin/sh", Argv: []string{"myname", "-c", `[ "$0" = myname ] && [ "$FOO" = bar ] && exit 4; exit 1`},
			Env: []string{"FOO=bar"}, Umask: -1}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := runSupervisor(t, tc.opts)
			if err != nil {
				t.Fatalf("Run(%q): %v", tc.opts.Argv, err)
			}
			if got := Status(ws); got != tc.want {
				t.Errorf("Run(%q): status %d, want %d", tc.opts.Argv, got, tc.want)
			}
		})
	}
}

func TestRunUmask(t *testing.T) {
	old := unix.Umask(0o022)
	defer unix.Umask(old)
	o := sh(`[ "$(umask)" = 0077 ] && exit 0; umask; exit 1`)
	o.Umask = 0o077
	ws, err := runSupervisor(t, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := Status(ws); got != 0 {
		t.Errorf("Run with Umask 0077: child saw another umask (status %d)", got)
	}
}

func TestRunExecError(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{filepath.Join(dir, "missing"), 127},
		{filepath.Join(dir, "missing", "x"), 127},
		{plain, 126},
		{dir, 126},
	} {
		_, err := runSupervisor(t, Options{Path: tc.path, Argv: []string{"cmd-" + filepath.Base(tc.path)}, Umask: -1})
		var ee *ExecError
		if !errors.As(err, &ee) {
			t.Errorf("Run(%s) error = %v (%T), want an *ExecError", tc.path, err, err)
			continue
		}
		if ee.Code != tc.want || !strings.Contains(ee.Error(), "cmd-"+filepath.Base(tc.path)) {
			t.Errorf("Run(%s) = code %d %q, want code %d naming cmd-%s", tc.path, ee.Code, ee.Error(), tc.want, filepath.Base(tc.path))
		}
	}
}

// A process COMMAND leaves behind gets SIGTERM and is reaped before Run
// returns. This needs us to be a subreaper, which needs no privilege.
func TestRunTerminatesLeftovers(t *testing.T) {
	subreaper := true
	if err := SetSubreaper(); err != nil {
		qemu, under := emu.QEMU()
		if !under {
			t.Skipf("cannot become a subreaper: %v", err)
		}
		// qemu user emulation answers EINVAL: the leftover goes to the
		// real PID 1 and is not ours to end. Run's status is still
		// checked; the ending of leftovers on this architecture is
		// checked as PID 1 by test/cross_test.go.
		t.Logf("under %s, which does not emulate it: %v; checking only COMMAND's status, not that the leftover is ended", qemu, err)
		subreaper = false
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	pidFile := filepath.Join(t.TempDir(), "pid")
	ws, err := runSupervisor(t, sh(`sleep 20 & echo $! > `+pidFile+`; exit 0`))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := Status(ws); got != 0 {
		t.Errorf("Run: status %d, want 0", got)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %q: %v", b, err)
	}
	if !subreaper {
		_ = unix.Kill(pid, unix.SIGKILL)
		return
	}
	if err := unix.Kill(pid, 0); !errors.Is(err, unix.ESRCH) {
		_ = unix.Kill(pid, unix.SIGKILL)
		t.Errorf("leftover %d still exists after Run (kill 0: %v), want it terminated and reaped", pid, err)
	}
}
