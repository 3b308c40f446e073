package identity

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// The passwd and group files are read with a bound and without blocking:
// an /etc/passwd that group 0 may write (the usual OpenShift chmod g+w)
// can be made 1 GiB or a named pipe by COMMAND's user, and doctor or a
// root `nonroot-init exec` read it (a hostile review saw doctor reach
// 3.1 GB). Before, os.ReadFile read any size and blocked on a pipe.
func TestReadOptionalBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "passwd")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxIdentityFile + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := readOptional(big); !errors.Is(err, fsx.ErrTooLarge) {
		t.Errorf("readOptional(%d bytes) = %v; want an error that Is fsx.ErrTooLarge", maxIdentityFile+1, err)
	}
	fifo := filepath.Join(dir, "group")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := readOptional(fifo); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, fsx.ErrNotRegular) {
			t.Errorf("readOptional(a named pipe) = %v; want an error that Is fsx.ErrNotRegular", err)
		}
	case <-time.After(5 * time.Second):
		// Unblock the reader so that the test binary can end.
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("readOptional blocked on a named pipe")
	}
	// A missing file is no error; an ordinary one is read.
	if b, err := readOptional(filepath.Join(dir, "missing")); b != nil || err != nil {
		t.Errorf("readOptional(missing) = %q, %v; want nil, nil", b, err)
	}
	ok := filepath.Join(dir, "ok")
	if err := os.WriteFile(ok, []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := readOptional(ok); err != nil || string(b) != "root:x:0:0::/root:/bin/sh\n" {
		t.Errorf("readOptional(ok) = %q, %v", b, err)
	}
}

// CheckUsername, run before step 1 at every start (as root too), reads
// the passwd file the same way: a named pipe there does not hang the
// start (before, os.ReadFile blocked on it).
func TestCheckUsernameNamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "passwd")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- CheckUsername(fifo, "app") }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("CheckUsername(a named pipe) = %v; want nil (nothing to collide with)", err)
		}
	case <-time.After(5 * time.Second):
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("CheckUsername blocked on a named pipe")
	}
}
