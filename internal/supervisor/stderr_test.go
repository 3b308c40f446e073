package supervisor

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestBrokenPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if brokenPipe(int(w.Fd())) {
		t.Errorf("brokenPipe(pipe with a reader) = true")
	}
	r.Close()
	if !brokenPipe(int(w.Fd())) {
		t.Errorf("brokenPipe(pipe without a reader) = false")
	}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sp[0])
	if brokenPipe(sp[0]) {
		t.Errorf("brokenPipe(socket with a peer) = true")
	}
	unix.Close(sp[1])
	if !brokenPipe(sp[0]) {
		t.Errorf("brokenPipe(socket whose peer closed) = false")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.OpenFile("/dev/null", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for name, fd := range map[string]int{"regular file": int(f.Fd()), "/dev/null": int(null.Fd()), "closed fd": 1 << 20} {
		if brokenPipe(fd) {
			t.Errorf("brokenPipe(%s) = true", name)
		}
	}
}

// The guard drops the SIGPIPE that finds stderr broken and those queued
// with it, silences the log, and forwards later ones.
func TestPipeGuard(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fd := int(w.Fd())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	orig := log
	g := pipeGuard{stderr: fd}
	step := func(sig syscall.Signal, queued int, want bool) {
		t.Helper()
		if got := g.own(sig, queued, &log); got != want {
			t.Fatalf("own(%v, %d) = %v; want %v", sig, queued, got, want)
		}
	}
	step(unix.SIGPIPE, 0, false) // stderr fine: sent from outside
	if log != orig {
		t.Fatal("logger replaced while stderr is fine")
	}
	r.Close()
	step(unix.SIGUSR1, 0, false)
	step(unix.SIGPIPE, 2, true) // ours; two more signals are queued
	if log == orig || log.Enabled(context.Background(), slog.LevelError) {
		t.Error("log not silenced after stderr was found broken")
	}
	if brokenPipe(fd) {
		t.Error("stderr still the broken pipe, want /dev/null")
	}
	step(unix.SIGPIPE, 1, true) // queued with it: ours too
	step(unix.SIGUSR1, 0, false)
	step(unix.SIGPIPE, 0, false) // after: from outside
}
