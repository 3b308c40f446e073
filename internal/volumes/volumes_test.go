package volumes

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/host"
)

func TestCheckWritableLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := Check([]string{dir}, IdentityOf(host.ReadCreds())); err != nil {
		t.Fatalf("Check(%q) = %v; want nil", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("after Check, %s holds %v (%v); want nothing", dir, entries, err)
	}
}

func TestCheckReportsEveryPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	err := Check([]string{missing, dir, file}, IdentityOf(host.ReadCreds()))
	probs := Problems(err)
	if len(probs) != 2 {
		t.Fatalf("Check(missing, ok, file) = %v; want 2 problems", err)
	}
	for i, want := range []string{missing + " does not exist", file + " is a regular file, not a directory"} {
		if !strings.Contains(probs[i].Error(), want) {
			t.Errorf("problem %d = %q; want it to contain %q", i, probs[i], want)
		}
	}
	if !errors.Is(probs[0], unix.ENOENT) {
		t.Errorf("errors.Is(%v, ENOENT) = false; want true", probs[0])
	}
	if !strings.HasPrefix(err.Error(), "2 problems:\n  NONROOT_VOLUMES: ") {
		t.Errorf("Check(...).Error() = %q; want it to list both", err)
	}
}

// TestFixPermissionsOwnGroup runs without root: the owner may give a file
// to a group it belongs to.
func TestFixPermissionsOwnGroup(t *testing.T) {
	root := t.TempDir()
	gid := os.Getegid()
	mustMkdir(t, filepath.Join(root, "a", "b"), 0o755)
	mustWrite(t, filepath.Join(root, "a", "f"), 0o644)
	mustWrite(t, filepath.Join(root, "a", "b", "x"), 0o700)
	if err := os.Symlink("/", filepath.Join(root, "a", "link")); err != nil {
		t.Fatal(err)
	}
	want := map[string]uint32{"a": 0o2775, "a/b": 0o2775, "a/f": 0o664, "a/b/x": 0o770}

	check, err := FixPermissions([]string{root}, FixOptions{EUID: os.Geteuid(), GID: gid, Check: true})
	if err != nil || check.Changed != 5 || len(check.Changes) != 5 || check.Skipped != 1 {
		t.Fatalf("FixPermissions(check) = %+v, %v; want 5 changes listed, 1 skipped, no error", check, err)
	}
	if got := modeOf(t, filepath.Join(root, "a", "f")); got != 0o644 {
		t.Errorf("--check changed a/f to %#o; want 0644", got)
	}

	r, err := FixPermissions([]string{root}, FixOptions{EUID: os.Geteuid(), GID: gid})
	if err != nil || r.Changed != 5 || r.Scanned != 6 {
		t.Fatalf("FixPermissions = %+v, %v; want 6 scanned, 5 changed", r, err)
	}
	for rel, mode := range want {
		if got := modeOf(t, filepath.Join(root, rel)); got != mode {
			t.Errorf("mode of %s = %#o; want %#o", rel, got, mode)
		}
	}
	again, err := FixPermissions([]string{root}, FixOptions{EUID: os.Geteuid(), GID: gid})
	if err != nil || again.Changed != 0 {
		t.Errorf("second FixPermissions = %+v, %v; want nothing changed", again, err)
	}
}

func TestFixPermissionsMissingPathKeepsGoing(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, filepath.Join(root, "f"), 0o600)
	r, err := FixPermissions([]string{filepath.Join(root, "missing"), root}, FixOptions{EUID: os.Geteuid(), GID: os.Getegid()})
	if err == nil || !strings.Contains(err.Error(), "missing: open: no such file or directory") {
		t.Errorf("FixPermissions(missing, root) error = %v; want the missing path named", err)
	}
	if r.Failed != 1 || r.Changed != 2 {
		t.Errorf("FixPermissions(missing, root) = %+v; want 1 failed, 2 changed", r)
	}
}

func mustMkdir(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(p, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte("x"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func modeOf(t *testing.T, p string) uint32 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Mode & 0o7777
}
