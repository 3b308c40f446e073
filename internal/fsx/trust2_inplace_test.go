package fsx

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// victim is a root-only file the links point at: /etc/shadow.
type victim struct{ dir, path string }

func newVictim(t *testing.T) victim {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "etc")
	must(t, os.Mkdir(dir, 0o755))
	path := filepath.Join(dir, "shadow")
	must(t, os.WriteFile(path, []byte("root:$6$secret:20000::::::\n"), 0o600))
	return victim{dir, path}
}

// untouched fails unless the victim still holds its content and mode,
// and its directory holds nothing else.
func (v victim) untouched(t *testing.T, what string) {
	t.Helper()
	got, err := os.ReadFile(v.path)
	info, serr := os.Lstat(v.path)
	if err != nil || serr != nil || string(got) != "root:$6$secret:20000::::::\n" || info.Mode() != 0o600 {
		t.Errorf("%s: %s = %q mode %v (%v, %v); want it untouched, mode 0600", what, v.path, got, info.Mode(), err, serr)
	}
	if entries, _ := os.ReadDir(v.dir); len(entries) != 1 {
		t.Errorf("%s: %s holds %v; want shadow only", what, v.dir, entries)
	}
}

// TestTrust2InPlaceOnlyMountRoot: the in-place path never follows a link
// and writes only the root of a mount (a subPath): a name that turned
// into a link, or into a hard link to another file, is refused, and the
// other file is untouched.
func TestTrust2InPlaceOnlyMountRoot(t *testing.T) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, "/", 0, unix.STATX_TYPE, &stx); err != nil || stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		t.Skip("needs STATX_ATTR_MOUNT_ROOT (Linux 5.8)")
	}
	dir, v := t.TempDir(), newVictim(t)
	must(t, os.Symlink(v.path, filepath.Join(dir, "link")))
	hard := filepath.Join(t.TempDir(), "hard")
	must(t, os.WriteFile(hard, []byte("other\n"), 0o600))
	must(t, os.Link(hard, filepath.Join(dir, "hard")))
	dirfd := openDir(t, dir)
	for _, name := range []string{"link", "hard"} {
		f := AtomicFile{Path: filepath.Join(dir, name), Mode: 0o644, Content: []byte("pwned\n")}
		if err := writeInPlace(dirfd, name, f); err == nil {
			t.Errorf("writeInPlace(%s) = nil; want a refusal", name)
		}
	}
	v.untouched(t, "writeInPlace(link)")
	if got, _ := os.ReadFile(hard); string(got) != "other\n" {
		t.Errorf("writeInPlace(hard) wrote the other file: %q", got)
	}
}
