package fsx

import (
	"bytes"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const max = 1000
	atMax := write("at-max", bytes.Repeat([]byte("a"), max))
	over := write("over", bytes.Repeat([]byte("b"), max+1))
	small := write("small", []byte("s3cret\n"))
	empty := write("empty", nil)
	link := filepath.Join(dir, "link")
	if err := os.Symlink("small", link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	for _, tc := range []struct {
		path string
		want string
		is   error
	}{
		{small, "s3cret\n", nil},
		{link, "s3cret\n", nil}, // a Secret volume's names are links into ..data
		{empty, "", nil},
		{atMax, strings.Repeat("a", max), nil},
		{over, "", ErrTooLarge},
		{filepath.Join(dir, "missing"), "", fs.ErrNotExist},
		{dir, "", ErrNotRegular},
		{fifo, "", ErrNotRegular}, // opened O_NONBLOCK: no writer, no hang
		{"/dev/zero", "", ErrNotRegular},
		{sock, "", ErrNotRegular}, // open(2) says ENXIO
	} {
		done := make(chan struct{})
		var got []byte
		var err error
		go func() {
			defer close(done)
			got, err = ReadFileLimit(tc.path, max)
		}()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatalf("ReadFileLimit(%q) did not return", tc.path)
		}
		if tc.is == nil {
			if err != nil || string(got) != tc.want {
				t.Errorf("ReadFileLimit(%q) = %q, %v; want %q, nil", tc.path, got, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, tc.is) || got != nil {
			t.Errorf("ReadFileLimit(%q) = %q, %v; want nil, an error that is %v", tc.path, got, err, tc.is)
		}
		if err != nil && !strings.Contains(err.Error(), tc.path) {
			t.Errorf("ReadFileLimit(%q): error %q does not name the file", tc.path, err)
		}
	}
}

// A file whose size fstat does not tell (a /proc file says 0) is still
// cut at the limit by the read itself.
func TestReadFileLimitUnknownSize(t *testing.T) {
	got, err := ReadFileLimit("/proc/self/status", 1<<20)
	if err != nil || !bytes.Contains(got, []byte("Uid:")) {
		t.Fatalf("ReadFileLimit(/proc/self/status) = %q, %v; want its content", got, err)
	}
	if _, err := ReadFileLimit("/proc/self/status", 10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadFileLimit(/proc/self/status, 10) error = %v; want ErrTooLarge", err)
	}
}
