package privileges

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

func TestTrust2RootPrimaryGroups(t *testing.T) {
	tests := []struct {
		name, passwd, want string
	}{
		{"debian", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/bin/sh\n", "0"},
		{"another primary group", "root:x:0:7:root:/root:/bin/sh\n", "7"},
		{"every uid-0 entry, sorted once", "toor:x:0:9::/:/bin/sh\r\nroot:x:0:0::/:/bin/sh\nadmin:x:0:9::/:/bin/sh\n", "0 9"},
		{"no passwd: 0", "", "0"},
		{"no uid-0 entry: 0", "root:x:5:5::/:/bin/sh\n", "0"},
		{"a bad gid is skipped", "root:x:0:zero::/:/bin/sh\nx:x:0\n", "0"},
		{"blanks around fields", "root:x: 0 : 3 ::/:/bin/sh\n", "3"},
	}
	for _, tt := range tests {
		got := strings.Trim(fmt.Sprint(RootPrimaryGroups([]byte(tt.passwd))), "[]")
		if got != tt.want {
			t.Errorf("%s: RootPrimaryGroups(%q) = %q; want %q", tt.name, tt.passwd, got, tt.want)
		}
	}
}

func TestTrust2MakePlanGroups(t *testing.T) {
	root, _ := procfs.ParseStatus(statusRoot, procfs.Credentials)
	root.Groups = []int{0, 6, 2000}
	tests := []struct {
		name         string
		t            Target
		groups, drop string
	}{
		{"root's primary group dropped", Target{UID: 1001, GID: 5000, DropGroups: RootPrimaryGroups([]byte("root:x:0:0::/:/bin/sh\n"))}, "6 2000 5000", "0"},
		{"root's primary group kept as the target gid", Target{UID: 1001, GID: 0, DropGroups: []int{0}}, "0 6 2000", ""},
		{"untrusted files: all but the target dropped", Target{UID: 1001, GID: 5000, DropAllGroups: true}, "5000", "0 6 2000"},
		{"untrusted files: the target gid kept", Target{UID: 1001, GID: 2000, DropAllGroups: true}, "2000", "0 6"},
	}
	for _, tt := range tests {
		p, err := MakePlan(root, tt.t)
		if err != nil {
			t.Errorf("%s: MakePlan(%+v): %v", tt.name, tt.t, err)
			continue
		}
		groups := strings.Trim(fmt.Sprint(p.Groups), "[]")
		drop := strings.Trim(fmt.Sprint(p.DroppedGroups), "[]")
		if groups != tt.groups || drop != tt.drop {
			t.Errorf("%s: MakePlan(groups 0 6 2000, %+v) = groups %q dropped %q; want %q %q", tt.name, tt.t, groups, drop, tt.groups, tt.drop)
		}
	}
}

func TestTrust2Writers(t *testing.T) {
	st := func(typ, mode uint32, uid, gid uint32) *unix.Stat_t {
		return &unix.Stat_t{Mode: typ | mode, Uid: uid, Gid: gid}
	}
	files := []struct {
		name string
		st   *unix.Stat_t
		want string // "" for trusted, else a part of the phrase
	}{
		{"root 0644", st(unix.S_IFREG, 0o644, 0, 0), ""},
		{"root 0444, group 42", st(unix.S_IFREG, 0o444, 0, 42), ""},
		{"root 0600", st(unix.S_IFREG, 0o600, 0, 0), ""},
		{"OpenShift 0664 root:0", st(unix.S_IFREG, 0o664, 0, 0), "group 0 can write it (owner 0:0, mode 0664)"},
		{"other-writable", st(unix.S_IFREG, 0o646, 0, 0), "every user can write it"},
		{"group-writable for group 1000", st(unix.S_IFREG, 0o660, 0, 1000), "group 1000 can write it"},
		{"owned by a user, even read-only", st(unix.S_IFREG, 0o444, 1000, 0), "uid 1000 owns it"},
		{"a symbolic link", st(unix.S_IFLNK, 0o777, 0, 0), "symbolic link"},
		{"a FIFO", st(unix.S_IFIFO, 0o644, 0, 0), "not a regular file"},
		{"a directory", st(unix.S_IFDIR, 0o755, 0, 0), "not a regular file"},
	}
	for _, tt := range files {
		if got := fileWriters(tt.st); (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: fileWriters(mode %o uid %d gid %d) = %q; want %q", tt.name, tt.st.Mode, tt.st.Uid, tt.st.Gid, got, tt.want)
		}
	}
	dirs := []struct {
		name string
		st   *unix.Stat_t
		want string
	}{
		{"root 0755", st(unix.S_IFDIR, 0o755, 0, 0), ""},
		{"/tmp: root 1777", st(unix.S_IFDIR, 0o1777, 0, 0), ""},
		{"root 0775", st(unix.S_IFDIR, 0o775, 0, 0), "lets group 0 replace"},
		{"root 0757", st(unix.S_IFDIR, 0o757, 0, 0), "lets every user replace"},
		{"a user's 0755", st(unix.S_IFDIR, 0o755, 1000, 1000), "belongs to uid 1000"},
		{"a user's sticky 1777", st(unix.S_IFDIR, 0o1777, 1000, 0), "belongs to uid 1000"},
	}
	for _, tt := range dirs {
		if got := dirWriters(tt.st); (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: dirWriters(mode %o uid %d gid %d) = %q; want %q", tt.name, tt.st.Mode, tt.st.Uid, tt.st.Gid, got, tt.want)
		}
	}
}

// TestTrust2ReadTrusted reads real files. Symbolic links, a FIFO and a
// group-writable file are untrusted whoever runs the test; that a
// root-owned 0644 file is trusted and what each refusal names can only
// be seen as root, since t.TempDir belongs to whoever runs it.
func TestTrust2ReadTrusted(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode uint32) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("root:x:0:\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := unix.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", 0o644)
	writable := write("writable", 0o664)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	linkDir := filepath.Join(dir, "linkdir")
	if err := os.Symlink(dir, linkDir); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	tests := []struct {
		name, path string
		why        string // "" when trusted; checked as root only
	}{
		{"root's 0644 file", good, ""},
		{"group-writable", writable, "group 0 can write it"},
		{"a symbolic link to a good file", link, "it is a symbolic link"},
		{"through a symlinked directory", filepath.Join(linkDir, "good"), "the directory " + linkDir + " on its path is a symbolic link"},
		{"a FIFO, without hanging", fifo, "not a regular file"},
	}
	for _, tt := range tests {
		data, err := ReadTrusted(tt.path)
		var ue *UntrustedError
		switch {
		case tt.why == "" && root && (err != nil || string(data) != "root:x:0:\n"):
			t.Errorf("%s: ReadTrusted(%s) = %q, %v; want its content", tt.name, tt.path, data, err)
		case tt.why != "" && (!errors.As(err, &ue) || data != nil):
			t.Errorf("%s: ReadTrusted(%s) = %q, %v; want an *UntrustedError", tt.name, tt.path, data, err)
		case tt.why != "" && root && (ue.Path != tt.path || !strings.Contains(ue.Why, tt.why)):
			t.Errorf("%s: ReadTrusted(%s): %v; want it to name %s and say %q", tt.name, tt.path, err, tt.path, tt.why)
		}
	}
	for _, missing := range []string{filepath.Join(dir, "none"), filepath.Join(dir, "none", "passwd")} {
		if data, err := ReadTrusted(missing); data != nil || (root && err != nil) {
			t.Errorf("ReadTrusted(%s) = %q, %v; want nil, nil for a missing file", missing, data, err)
		}
	}
	if _, err := ReadTrusted("etc/passwd"); err == nil {
		t.Errorf("ReadTrusted(a relative path) = nil error")
	}
}
