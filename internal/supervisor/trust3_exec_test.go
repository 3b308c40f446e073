package supervisor

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lookPathBounded runs LookPath and fails the test when it does not
// return: a lookup that opens a FIFO waits for a writer for ever.
func lookPathBounded(t *testing.T, file string) (string, error) {
	t.Helper()
	type result struct {
		path string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		p, err := LookPath(file, "")
		done <- result{p, err}
	}()
	select {
	case r := <-done:
		return r.path, r.err
	case <-time.After(30 * time.Second):
		t.Fatalf("LookPath(%q) has not returned after 30s: it waits on a FIFO", file)
		return "", nil
	}
}

// A FIFO as COMMAND, or as a script's #! interpreter, is no program: the
// kernel's execve gives EACCES (126), and the lookup must not open it
// for reading, which would wait for a writer.
func TestTrust3LookPathFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(fifo, 0o755); err != nil {
		t.Fatal(err)
	}
	script := writeScript(t, dir, "via-fifo", "#!"+fifo+"\n")
	nested := writeScript(t, dir, "via-via-fifo", "#!"+script+"\n")
	for _, tc := range []struct{ file, names string }{{fifo, fifo}, {script, fifo}, {nested, fifo}} {
		got, err := lookPathBounded(t, tc.file)
		var ee *ExecError
		if !errors.As(err, &ee) || ee.Code != 126 || got != "" {
			t.Errorf("LookPath(%q) = %q, %v; want an *ExecError with code 126", tc.file, got, err)
			continue
		}
		if !errors.Is(err, unix.EACCES) || !strings.Contains(err.Error(), tc.names) {
			t.Errorf("LookPath(%q) error %q; want EACCES naming %s", tc.file, err, tc.names)
		}
	}
}
