package setup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"golang.org/x/sys/unix"
)

// TestTrust2RunAsTarget: runAsTarget takes the GID and root's groups
// from the passwd and group files only when no one but root could have
// written them. Whoever runs it, an untrusted passwd (group-writable, a
// symbolic link, below a symlinked directory) makes RUN_AS without a GID
// an error naming the file and NONROOT_RUN_AS=UID:GID, and with a GID
// makes every group droppable but the target, with a warning naming the
// file. Trusted files (which needs root: t.TempDir belongs to whoever
// runs the test) give the entry's GID and root's primary and named
// groups.
func TestTrust2RunAsTarget(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode uint32) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := unix.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const passwd = "root:x:0:0:root:/root:/bin/sh\nevil:x:1000:42::/tmp:/bin/sh\n"
	const group = "root:x:0:\ndisk:x:6:root\nshadow:x:42:\n"
	goodPasswd := write("passwd", passwd, 0o644)
	goodGroup := write("group", group, 0o644)
	writablePasswd := write("passwd-0664", passwd, 0o664)
	writableGroup := write("group-0664", group, 0o664)
	linkPasswd := filepath.Join(dir, "passwd-link")
	if err := os.Symlink(goodPasswd, linkPasswd); err != nil {
		t.Fatal(err)
	}
	linkDir := filepath.Join(dir, "etc-link")
	if err := os.Symlink(dir, linkDir); err != nil {
		t.Fatal(err)
	}
	ids := func(uid, gid int) *config.IDs { return &config.IDs{UID: uid, GID: gid} }

	for _, p := range []string{writablePasswd, linkPasswd, filepath.Join(linkDir, "passwd")} {
		_, _, err := runAsTarget(ids(1000, -1), Host{PasswdFile: p, GroupFile: goodGroup})
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "NONROOT_RUN_AS=UID:GID") {
			t.Errorf("runAsTarget(RUN_AS=1000, passwd %s) err = %v; want an error naming the file and NONROOT_RUN_AS=UID:GID", p, err)
		}
		tg, warn, err := runAsTarget(ids(1000, 5000), Host{PasswdFile: p, GroupFile: goodGroup})
		if err != nil || tg.GID != 5000 || !tg.DropAllGroups || !strings.Contains(warn, p) || !strings.Contains(warn, "every supplementary group") {
			t.Errorf("runAsTarget(RUN_AS=1000:5000, passwd %s) = %+v, %q, %v; want gid 5000, every group dropped, a warning naming the file", p, tg, warn, err)
		}
	}
	for _, g := range []string{writableGroup, filepath.Join(linkDir, "group")} {
		tg, warn, err := runAsTarget(ids(1000, 0), Host{PasswdFile: goodPasswd, GroupFile: g})
		if err != nil || tg.GID != 0 || !tg.DropAllGroups || !strings.Contains(warn, g) {
			t.Errorf("runAsTarget(RUN_AS=1000:0, group %s) = %+v, %q, %v; want gid 0 kept, every other group dropped, a warning naming the file", g, tg, warn, err)
		}
	}

	if os.Geteuid() != 0 {
		t.Skip("the trusted cases need root: files and t.TempDir belong to whoever runs the test")
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name          string
		runAs         *config.IDs
		passwd, group string
		gid           int
		drop          string
	}{
		{"gid from the entry; root's primary and named groups", ids(1000, -1), goodPasswd, goodGroup, 42, "0 6"},
		{"no entry: gid 0", ids(1001, -1), goodPasswd, goodGroup, 0, "0 6"},
		{"no files: gid 0, root's primary group 0", ids(1000, -1), filepath.Join(dir, "none"), filepath.Join(dir, "none2"), 0, "0"},
	} {
		tg, warn, err := runAsTarget(tt.runAs, Host{PasswdFile: tt.passwd, GroupFile: tt.group})
		drop := strings.Trim(fmt.Sprint(tg.DropGroups), "[]")
		if err != nil || warn != "" || tg.GID != tt.gid || tg.DropAllGroups || drop != tt.drop {
			t.Errorf("%s: runAsTarget = %+v, %q, %v; want gid %d, drop %q, no warning", tt.name, tg, warn, err, tt.gid, tt.drop)
		}
	}
}
