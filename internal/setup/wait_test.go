package setup

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/supervisor"
)

func waitQuiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// refusedDep is a tcp dependency on a loopback port nothing listens on.
func refusedDep(t *testing.T) []config.Dependency {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	deps, err := config.ParseWait("tcp://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	return deps
}

// TestWaitStepStoppedBySIGTERM: a SIGTERM during the wait ends it with an
// InterruptedError (main exits 143), long before WAIT_TIMEOUT; a SIGHUP
// before it is held for COMMAND.
func TestWaitStepStoppedBySIGTERM(t *testing.T) {
	ch := make(chan os.Signal, 4)
	inbox := supervisor.NewInbox(ch, nil)
	cfg := &config.Config{Wait: refusedDep(t), WaitTimeout: 10 * time.Minute}
	time.AfterFunc(200*time.Millisecond, func() { ch <- syscall.SIGHUP; ch <- syscall.SIGTERM })
	done := make(chan error, 1)
	go func() { done <- waitDependencies(cfg, Processes{Inbox: inbox}, waitQuiet()) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the wait did not end within a minute of SIGTERM (WAIT_TIMEOUT is 10 minutes)")
	}
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.Step != "wait" || ie.Signal != syscall.SIGTERM {
		t.Fatalf("waitDependencies = %#v; want InterruptedError{Step: wait, Signal: SIGTERM}", err)
	}
	if h, d := inbox.Held(), inbox.Dropped(); len(h) != 0 || len(d) != 1 || d[0] != syscall.SIGHUP {
		t.Errorf("held %v, dropped %v; want SIGHUP dropped (it would kill COMMAND at its start)", h, d)
	}
}

// TestWaitStepTimeoutIsFailedStep: a timeout is a failed step (exit 78)
// naming the dependency.
func TestWaitStepTimeoutIsFailedStep(t *testing.T) {
	deps := refusedDep(t)
	cfg := &config.Config{Wait: deps, WaitTimeout: 300 * time.Millisecond}
	for name, proc := range map[string]Processes{"inbox": {Inbox: supervisor.NewInbox(make(chan os.Signal), nil)}, "no inbox": {}} {
		err := waitDependencies(cfg, proc, waitQuiet())
		var fe *FailedError
		if !errors.As(err, &fe) || fe.Step != "wait" || !strings.Contains(err.Error(), deps[0].Raw) {
			t.Errorf("%s: waitDependencies = %v; want FailedError{Step: wait} naming %s", name, err, deps[0].Raw)
		}
	}
}

// TestRunWaitsAfterTemplates: WAIT is no longer refused, and runs after
// step 5: a file:// dependency on a template's DST is ready at once.
func TestRunWaitsAfterTemplates(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "app.conf"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst")
	deps, err := config.ParseWait("file://" + filepath.Join(dst, "app.conf"))
	if err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/sh\napp:x:1000680000:0:app:"+dir+":/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := Host{PasswdFile: passwd, GroupFile: filepath.Join(dir, "group"), ProcDir: filepath.Join(dir, "noproc"), Environ: []string{"HOME=" + dir}}
	app := Creds{UID: 1000680000, GID: 0, EUID: 1000680000, EGID: 0, Groups: []int{0}}
	cfg := &config.Config{Passwd: config.PasswdAuto, Username: "default", StateDir: filepath.Join(dir, "state"),
		Templates: []config.Template{{Src: src, Dst: dst}}, Wait: deps, WaitTimeout: 2 * time.Second}
	if _, err := Run(cfg, h, app, waitQuiet(), Processes{}); err != nil {
		t.Fatalf("Run with WAIT on a template's DST: %v", err)
	}
}
