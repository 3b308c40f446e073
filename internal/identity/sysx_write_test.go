package identity

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func openDirFD(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	must(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	must(t, err)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestWriteFileAtRemovesOnlyOurs: the state-file writer goes through the
// one atomic writer, which removes only the temporary file it created. It
// used to unlink whatever had its fixed temporary name first.
func TestWriteFileAtRemovesOnlyOurs(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, ".passwd.tmp-"+strconv.Itoa(os.Getpid()))
	must(t, os.WriteFile(other, []byte("theirs"), 0o600))
	if err := writeFileAt(openDirFD(t, dir), "passwd", []byte("app:x:1:0::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatalf("writeFileAt(passwd) = %v", err)
	}
	if got, err := os.ReadFile(other); string(got) != "theirs" {
		t.Errorf("%s = %q, %v after writeFileAt; want it untouched", other, got, err)
	}
	info, err := os.Stat(filepath.Join(dir, "passwd"))
	if err != nil || info.Mode() != 0o644 {
		t.Errorf("passwd: %v, %v; want mode 0644", info, err)
	}
	if got := names(t, dir); strings.Join(got, " ") != filepath.Base(other)+" passwd" {
		t.Errorf("state directory holds %v; want only %s and passwd", got, filepath.Base(other))
	}
}

// TestWriteFileAtFailureKeepsOld: a write that fails at the rename leaves
// what was there as it was and no temporary file.
func TestWriteFileAtFailureKeepsOld(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		target  string
		keep    string // a file whose content must stay "old"
	}{
		{"a non-empty directory in the way", func(t *testing.T, dir string) {
			must(t, os.Mkdir(filepath.Join(dir, "passwd"), 0o755))
			must(t, os.WriteFile(filepath.Join(dir, "passwd", "inside"), []byte("old"), 0o644))
		}, "passwd", "passwd/inside"},
		{"a regular file renamed onto as a directory", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, "passwd"), []byte("old"), 0o644))
		}, "passwd/", "passwd"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		tt.prepare(t, dir)
		before := names(t, dir)
		err := writeFileAt(openDirFD(t, dir), tt.target, []byte("new"), 0o644)
		if err == nil {
			t.Errorf("%s: writeFileAt(%s) = nil; want an error", tt.name, tt.target)
		}
		if got, err := os.ReadFile(filepath.Join(dir, tt.keep)); string(got) != "old" {
			t.Errorf("%s: %s = %q, %v after the failure; want %q", tt.name, tt.keep, got, err, "old")
		}
		if got := names(t, dir); strings.Join(got, " ") != strings.Join(before, " ") {
			t.Errorf("%s: directory holds %v after the failure; want %v", tt.name, got, before)
		}
	}
}
