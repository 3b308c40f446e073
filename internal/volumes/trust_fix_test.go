package volumes

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFixPermissionsRefusesSymlinkedPaths puts a symbolic link at each
// position of a starting path, absolute and relative: every one is
// refused with a *SymlinkError naming the link, and nothing behind it
// changes. The same paths without the link work.
func TestFixPermissionsRefusesSymlinkedPaths(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	mustMkdir(t, filepath.Join(real, "dir", "sub"), 0o755)
	mustWrite(t, filepath.Join(real, "dir", "sub", "f"), 0o644)
	if err := os.Symlink(real, filepath.Join(base, "first")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(real, "dir"), filepath.Join(real, "mid")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub", filepath.Join(real, "dir", "last")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	tests := []struct {
		path, link string
	}{
		{filepath.Join(base, "first", "dir", "sub"), filepath.Join(base, "first")}, // absolute, near the start
		{filepath.Join(real, "mid", "sub"), filepath.Join(real, "mid")},            // absolute, in the middle
		{filepath.Join(real, "dir", "last"), filepath.Join(real, "dir", "last")},   // absolute, the last component
		{filepath.Join(real, "dir", "last") + "/", filepath.Join(real, "dir", "last")},
		{real + "/dir/last/.", filepath.Join(real, "dir", "last")},
		{real + "/mid/..", filepath.Join(real, "mid")}, // ".." after a link is still through it
		{"first/dir", "first"}, // relative, the first component
		{"./first", "first"},
		{"real/mid/sub", "real/mid"},
		{"real/dir/last", "real/dir/last"},
	}
	for _, tt := range tests {
		r, err := FixPermissions([]string{tt.path}, FixOptions{EUID: os.Geteuid(), GID: os.Getegid()})
		var se *SymlinkError
		if !errors.As(err, &se) || se.Component != tt.link || r.Failed != 1 || r.Changed != 0 {
			t.Errorf("FixPermissions(%q) = %+v, %v; want it refused, naming %q", tt.path, r, err, tt.link)
			continue
		}
		if !strings.Contains(err.Error(), tt.link+" is a symbolic link (to ") || !strings.Contains(err.Error(), "pass the real path") {
			t.Errorf("FixPermissions(%q) error = %q; want the link, its target and the fix named", tt.path, err)
		}
	}
	if got := modeOf(t, filepath.Join(real, "dir", "sub", "f")); got != 0o644 {
		t.Errorf("a refused path changed real/dir/sub/f to %#o; want 0644", got)
	}
	for _, p := range []string{"real/dir/../dir/sub", "./real/dir", filepath.Join(real, "dir") + "/"} {
		if r, err := FixPermissions([]string{p}, FixOptions{EUID: os.Geteuid(), GID: os.Getegid(), Check: true}); err != nil || r.Changed == 0 {
			t.Errorf("FixPermissions(%q, check) = %+v, %v; want changes found, no error", p, r, err)
		}
	}
}

// TestFixPermissionsLeavesPrivilegedFiles: setuid and setgid files (and,
// as root, one with file capabilities) get no group write, keep every
// bit, and are listed, with --check too; an ordinary file beside them is
// fixed.
func TestFixPermissionsLeavesPrivilegedFiles(t *testing.T) {
	root := t.TempDir()
	gid := os.Getegid()
	want := map[string]string{"suid": "setuid", "sgid": "setgid", "both": "setuid, setgid"}
	modes := map[string]os.FileMode{"suid": 0o755 | os.ModeSetuid, "sgid": 0o755 | os.ModeSetgid, "both": 0o755 | os.ModeSetuid | os.ModeSetgid}
	for name, mode := range modes {
		mustWrite(t, filepath.Join(root, name), mode)
	}
	if os.Geteuid() == 0 {
		p := filepath.Join(root, "caps")
		mustWrite(t, p, 0o755)
		// struct vfs_cap_data revision 2: cap_net_raw permitted, effective.
		capData := []byte{1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		if err := unix.Setxattr(p, "security.capability", capData, 0); err != nil {
			t.Fatalf("setxattr security.capability: %v", err)
		}
		want["caps"] = "file capabilities"
		modes["caps"] = 0o755
	} else {
		t.Log("not root: no file-capability case (setting security.capability needs CAP_SETFCAP)")
	}
	mustWrite(t, filepath.Join(root, "plain"), 0o755)
	before := map[string]uint32{}
	for name := range want {
		before[name] = modeOf(t, filepath.Join(root, name))
	}

	for _, check := range []bool{true, false} {
		r, err := FixPermissions([]string{root}, FixOptions{EUID: os.Geteuid(), GID: gid, Check: check})
		if err != nil {
			t.Fatalf("FixPermissions(check=%v) error = %v", check, err)
		}
		got := map[string]string{}
		for _, p := range r.Privileged {
			got[filepath.Base(p.Path)] = p.Reason
		}
		for name, reason := range want {
			if got[name] != reason {
				t.Errorf("FixPermissions(check=%v): privileged %s listed as %q; want %q (all: %v)", check, name, got[name], reason, r.Privileged)
			}
		}
		if len(got) != len(want) || r.Changed != 2 {
			t.Errorf("FixPermissions(check=%v) = %+v; want %d privileged, 2 changed (the directory and plain)", check, r, len(want))
		}
	}
	for name, mode := range before {
		if got := modeOf(t, filepath.Join(root, name)); got != mode {
			t.Errorf("mode of privileged %s = %#o; want it left at %#o", name, got, mode)
		}
	}
	if got := modeOf(t, filepath.Join(root, "plain")); got != 0o775 {
		t.Errorf("mode of plain = %#o; want 0775", got)
	}
	if s := (Privileged{Path: "/d/su", Reason: "setuid"}).String(); !strings.HasPrefix(s, "/d/su: left alone: setuid (") {
		t.Errorf("Privileged.String() = %q", s)
	}
}

// TestFixPermissionsHardlinkedNonDirectories: a FIFO and a socket with a
// second link count as hard-linked, like a regular file.
func TestFixPermissionsHardlinkedNonDirectories(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	fifo := filepath.Join(outside, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(outside, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, p := range []string{fifo, sock} {
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(p, filepath.Join(root, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	gid := os.Getegid()
	if _, err := FixPermissions([]string{root}, FixOptions{EUID: os.Geteuid(), GID: gid}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, sock} {
		if got := modeOf(t, p); got != 0o600 {
			t.Errorf("hard-linked %s changed to %#o; want 0600", filepath.Base(p), got)
		}
	}
	if _, err := FixPermissions([]string{root}, FixOptions{EUID: os.Geteuid(), GID: gid, Hardlinks: true}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, sock} {
		if got := modeOf(t, p); got != 0o660 {
			t.Errorf("with Hardlinks, %s is %#o; want 0660", filepath.Base(p), got)
		}
	}
}

// TestFixPermissionsMaxEntries: the walk stops near the bound and says so.
func TestFixPermissionsMaxEntries(t *testing.T) {
	root := t.TempDir()
	for i := range 50 {
		mustWrite(t, filepath.Join(root, "f"+string(rune('a'+i%26))+string(rune('a'+i/26))), 0o644)
	}
	r, err := FixPermissions([]string{root}, FixOptions{EUID: os.Geteuid(), GID: os.Getegid(), Check: true, MaxEntries: 10})
	if err != nil || !r.Truncated || r.Scanned >= 50 {
		t.Errorf("FixPermissions(MaxEntries 10) = %+v, %v; want truncated before 50 entries", r, err)
	}
	if r, _ := FixPermissions([]string{root}, FixOptions{EUID: os.Geteuid(), GID: os.Getegid(), Check: true}); r.Truncated || r.Scanned != 51 {
		t.Errorf("FixPermissions(no bound) = %+v; want 51 entries, not truncated", r)
	}
}
