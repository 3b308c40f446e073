package hooks

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// write makes a file in dir with mode (and content).
func write(t *testing.T, dir, name string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // umask would have cleared bits
		t.Fatal(err)
	}
	return p
}

func TestListOrderAcrossDirectories(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	// Byte order: "10" < "2" < "B" < "a"; the second directory comes after
	// every entry of the first, whatever its names.
	for _, n := range []string{"a", "2-second", "10-first", "B"} {
		write(t, a, n, 0o755)
	}
	write(t, b, "00-early-name", 0o755)
	got, err := List([]string{a, b})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := []string{
		filepath.Join(a, "10-first"), filepath.Join(a, "2-second"), filepath.Join(a, "B"), filepath.Join(a, "a"),
		filepath.Join(b, "00-early-name"),
	}
	if !reflect.DeepEqual(got.Hooks, want) {
		t.Fatalf("List hooks = %q; want %q", got.Hooks, want)
	}
	if len(got.Skipped) != 0 || len(got.Empty) != 0 {
		t.Fatalf("List skipped %v, empty %v; want none", got.Skipped, got.Empty)
	}
}

func TestListIgnoresDotFiles(t *testing.T) {
	d := t.TempDir()
	write(t, d, ".hidden", 0o755)
	write(t, d, "..data", 0o755)
	write(t, d, "run", 0o755)
	got, err := List([]string{d})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if want := []string{filepath.Join(d, "run")}; !reflect.DeepEqual(got.Hooks, want) || len(got.Skipped) != 0 {
		t.Fatalf("List = %q, skipped %v; want %q and nothing skipped (dot-files ignored silently)", got.Hooks, got.Skipped, want)
	}
}

func TestListSkipsWithReason(t *testing.T) {
	d := t.TempDir()
	write(t, d, "10-run", 0o755)
	write(t, d, "20-plain", 0o644)
	if err := os.Mkdir(filepath.Join(d, "30-subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(d, "40-fifo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("missing-target", filepath.Join(d, "50-dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(d, "10-run"), filepath.Join(d, "60-link")); err != nil {
		t.Fatal(err)
	}
	got, err := List([]string{d})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if want := []string{filepath.Join(d, "10-run"), filepath.Join(d, "60-link")}; !reflect.DeepEqual(got.Hooks, want) {
		t.Fatalf("List hooks = %q; want %q (a symlink to an executable runs)", got.Hooks, want)
	}
	wantSkipped := map[string]string{
		"20-plain":    "not executable",
		"30-subdir":   "a directory",
		"40-fifo":     "not a regular file",
		"50-dangling": "symlink",
	}
	if len(got.Skipped) != len(wantSkipped) {
		t.Fatalf("List skipped %v; want %d entries: %v", got.Skipped, len(wantSkipped), wantSkipped)
	}
	for _, s := range got.Skipped {
		want, ok := wantSkipped[filepath.Base(s.Path)]
		if !ok || !strings.Contains(s.Reason, want) {
			t.Errorf("skipped %s: reason %q; want it to contain %q", s.Path, s.Reason, want)
		}
	}
}

func TestListEmptyDirectory(t *testing.T) {
	d := t.TempDir()
	got, err := List([]string{d})
	if err != nil {
		t.Fatalf("List(empty dir): %v; want no error", err)
	}
	if len(got.Hooks) != 0 || !reflect.DeepEqual(got.Empty, []string{d}) {
		t.Fatalf("List(empty dir) = %v; want no hooks and Empty = [%s]", got, d)
	}
}

func TestListMissingDirectoriesAllReported(t *testing.T) {
	ok := t.TempDir()
	write(t, ok, "run", 0o755)
	missing1 := filepath.Join(ok, "typo.d")
	missing2 := filepath.Join(t.TempDir(), "nope")
	file := filepath.Join(ok, "run")
	_, err := List([]string{missing1, ok, missing2, file})
	if err == nil {
		t.Fatal("List with missing directories: no error; want one naming each")
	}
	for _, p := range []string{missing1, missing2, file, "NONROOT_HOOKS"} {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name %s", err, p)
		}
	}
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("error %q: want errors.Is ENOENT", err)
	}
}
