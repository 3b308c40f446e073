package test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// atomicTmpfs mounts a tmpfs of size bytes on dir, owned by the
// OpenShift UID and group 0 (an emptyDir with a sizeLimit), unmounted at
// the end of the test.
func atomicTmpfs(t *testing.T, dir string, size int) {
	t.Helper()
	harness.NeedRoot(t)
	tmplMust(t, os.MkdirAll(dir, 0o755))
	opts := "size=" + strconv.Itoa(size) + ",mode=0775,uid=" + strconv.Itoa(harness.OpenShiftUID) + ",gid=0"
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		t.Fatalf("mount a tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
}

// TestAtomicTemplatesENOSPC: five templates into an emptyDir too small
// for the third: the init exits 78 naming the file and ENOSPC, COMMAND
// never starts, and all five DSTs keep their old bytes with no temporary
// file left.
func TestAtomicTemplatesENOSPC(t *testing.T) {
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	names := []string{"a.conf", "b.conf", "c.conf", "d.conf", "e.conf"}
	content := map[string]string{}
	for _, n := range names {
		content[n+".tmpl"] = "new " + n + " uid={{ .User.UID }}\n"
	}
	content["c.conf"] = strings.Repeat("x", 256<<10) // copied, does not fit
	delete(content, "c.conf.tmpl")
	tmplConfigMap(t, src, content)
	dst := filepath.Join(base, "emptydir")
	atomicTmpfs(t, dst, 64<<10)
	old := map[string]string{}
	for _, n := range names {
		old[n] = "old " + n + "\n"
		path := filepath.Join(dst, n)
		tmplMust(t, os.WriteFile(path, []byte(old[n]), 0o640))
		tmplMust(t, os.Chown(path, harness.OpenShiftUID, 0))
	}
	marker := filepath.Join(base, "started")

	r := harness.Run(t, 60*time.Second, tmplOpts("NONROOT_TEMPLATES="+src+":"+dst),
		"/bin/sh", "-c", "echo > "+marker)
	if r.Code != 78 {
		t.Fatalf("exit %d; want 78\nstderr: %s", r.Code, r.Stderr)
	}
	msg := tmplUnquote(r.Stderr)
	if !strings.Contains(msg, filepath.Join(dst, "c.conf")+": no space left on device") {
		t.Errorf("stderr does not name %s and ENOSPC:\n%s", filepath.Join(dst, "c.conf"), r.Stderr)
	}
	if strings.Contains(msg, ".nonroot-init-") {
		t.Errorf("stderr names a temporary file:\n%s", r.Stderr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("COMMAND ran after the templates step failed")
	}
	got := tmplTree(t, dst)
	if len(got) != len(old) {
		t.Errorf("DST holds %v; want only the five old files", got)
	}
	for n, want := range old {
		if got[n] != want {
			t.Errorf("%s = %q; want %q, as it was", n, got[n], want)
		}
		if info, err := os.Lstat(filepath.Join(dst, n)); err != nil || info.Mode() != 0o640 {
			t.Errorf("%s: mode %v, %v; want 0640, as it was", n, info.Mode(), err)
		}
	}
}

// TestAtomicTemplatesForeignFile: as the OpenShift UID, a DST file that
// root left in the group-writable directory (protected_hardlinks refuses
// a hard link to it) is kept in memory instead, and the set is written;
// a second start with the same content rewrites nothing (same inode).
func TestAtomicTemplatesForeignFile(t *testing.T) {
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	tmplConfigMap(t, src, map[string]string{"app.conf.tmpl": "uid={{ .User.UID }}\n", "other.conf": "other\n"})
	dst := tmplWritableDir(t, filepath.Join(base, "etc"))
	tmplMust(t, os.Chmod(dst, 0o775))
	foreign := filepath.Join(dst, "app.conf")
	tmplMust(t, os.WriteFile(foreign, []byte("root's\n"), 0o644))

	var inodes [2]uint64
	for i := range 2 {
		r := harness.Run(t, 60*time.Second, tmplOpts("NONROOT_TEMPLATES="+src+":"+dst), "/bin/true")
		if r.Code != 0 {
			t.Fatalf("run %d: exit %d; want 0\nstderr: %s", i+1, r.Code, r.Stderr)
		}
		got := tmplTree(t, dst)
		want := "uid=" + strconv.Itoa(harness.OpenShiftUID) + "\n"
		if got["app.conf"] != want || got["other.conf"] != "other\n" || len(got) != 2 {
			t.Fatalf("run %d: DST holds %v; want app.conf %q and other.conf", i+1, got, want)
		}
		var st unix.Stat_t
		tmplMust(t, unix.Lstat(foreign, &st))
		inodes[i] = st.Ino
	}
	if inodes[0] != inodes[1] {
		t.Errorf("app.conf was rewritten by a start with the same content (inode %d, then %d)", inodes[0], inodes[1])
	}
}

// TestAtomicTemplatesUnreadableForeignFile: a DST file the UID can
// neither hard-link nor read (root's, mode 0600, in the group-writable
// directory) is still replaced: the old file is kept by exchanging it
// with the new one (RENAME_EXCHANGE), and no backup stays.
func TestAtomicTemplatesUnreadableForeignFile(t *testing.T) {
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	tmplConfigMap(t, src, map[string]string{"app.conf": "new\n"})
	dst := tmplWritableDir(t, filepath.Join(base, "etc"))
	foreign := filepath.Join(dst, "app.conf")
	tmplMust(t, os.WriteFile(foreign, []byte("root's secret\n"), 0o600))

	r := harness.Run(t, 60*time.Second, tmplOpts("NONROOT_TEMPLATES="+src+":"+dst), "/bin/true")
	if r.Code != 0 {
		t.Fatalf("exit %d; want 0\nstderr: %s", r.Code, r.Stderr)
	}
	if got := tmplTree(t, dst); got["app.conf"] != "new\n" || len(got) != 1 {
		t.Errorf("DST holds %v; want app.conf %q only", got, "new\n")
	}
}
