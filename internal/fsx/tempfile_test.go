package fsx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func openDir(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	must(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestWriteTempCollisions: when every temporary name is taken, writeTemp
// fails and leaves the file of that name alone (it used to carry on
// with descriptor -1 and unlink the other file).
func TestWriteTempCollisions(t *testing.T) {
	dir := t.TempDir()
	taken := ".nonroot-init-taken"
	must(t, os.WriteFile(filepath.Join(dir, taken), []byte("theirs"), 0o644))
	tries := 0
	name := func() (string, error) { tries++; return taken, nil }
	f := AtomicFile{Path: filepath.Join(dir, "app.conf"), Mode: 0o644, Content: []byte("ours")}
	tmp, err := writeTemp(openDir(t, dir), "app.conf", f, name)
	if err == nil || !strings.Contains(err.Error(), "no free temporary name after 100 tries") {
		t.Errorf("writeTemp with every name taken = %+v, %v; want an error", tmp, err)
	}
	if tries != 100 {
		t.Errorf("writeTemp tried %d names; want 100", tries)
	}
	if got, err := os.ReadFile(filepath.Join(dir, taken)); string(got) != "theirs" {
		t.Errorf("%s = %q, %v after the failure; want it untouched", taken, got, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "app.conf")); err == nil {
		t.Errorf("app.conf was written")
	}
}

// TestRemoveTempOnlyOurs: the cleanup of a temporary file removes it only
// while the name is still the file we created; a file put in its place
// (by whoever else can write DST) is left alone.
func TestRemoveTempOnlyOurs(t *testing.T) {
	dir := t.TempDir()
	dirfd := openDir(t, dir)
	f := AtomicFile{Path: filepath.Join(dir, "app.conf"), Mode: 0o644, Content: []byte("ours")}
	tmp, err := writeTemp(dirfd, "app.conf", f, randomTempName)
	must(t, err)
	other := filepath.Join(dir, "other")
	must(t, os.WriteFile(other, []byte("theirs"), 0o644))
	must(t, os.Rename(other, filepath.Join(dir, tmp.name)))
	removeTemp(dirfd, tmp)
	if got, err := os.ReadFile(filepath.Join(dir, tmp.name)); string(got) != "theirs" {
		t.Errorf("after removeTemp, %s = %q, %v; want the other file untouched", tmp.name, got, err)
	}

	tmp, err = writeTemp(dirfd, "app.conf", f, randomTempName)
	must(t, err)
	removeTemp(dirfd, tmp)
	if _, err := os.Lstat(filepath.Join(dir, tmp.name)); err == nil {
		t.Errorf("removeTemp left our own %s", tmp.name)
	}
}
