package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

const fixTimeout = 120 * time.Second

// fixState is what fix-permissions may change about one entry, plus its
// ctime, which any chown or chmod call moves.
type fixState struct {
	UID, GID int
	Mode     uint32 // permission bits with setuid, setgid, sticky
	Ctime    unix.Timespec
}

func fixStat(t *testing.T, p string) fixState {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return fixState{int(st.Uid), int(st.Gid), st.Mode & 0o7777, st.Ctim}
}

// fixSnapshot lstats every entry under root, without following links or
// crossing mounts (filepath.Walk uses Lstat).
func fixSnapshot(t *testing.T, root string) map[string]fixState {
	t.Helper()
	out := map[string]fixState{}
	err := filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		out[p] = fixStat(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fixTree makes root/{d1,d2}/{sub}/files owned 1234:1234, directories
// 0755, files 0644, plus one 0755 executable.
func fixTree(t *testing.T) string {
	t.Helper()
	harness.NeedRoot(t)
	root := harness.SharedDir(t) // fixChownAll makes it 0755
	for _, d := range []string{"d1/sub", "d2"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range []string{"top", "d1/a", "d1/sub/b", "d2/c", "d2/run.sh"} {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(f, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(root, f), []byte(fmt.Sprint(i)), mode); err != nil {
			t.Fatal(err)
		}
	}
	fixChownAll(t, root, 1234, 1234)
	return root
}

func fixChownAll(t *testing.T, root string, uid, gid int) {
	t.Helper()
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, uid, gid); err != nil {
			return err
		}
		if info.Mode()&os.ModeSymlink != 0 {
			return nil
		}
		perm := os.FileMode(0o644)
		if info.IsDir() || info.Mode()&0o100 != 0 {
			perm = 0o755
		}
		return os.Chmod(p, perm)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func fixRun(t *testing.T, opts harness.Opts, args ...string) harness.Result {
	t.Helper()
	return harness.Run(t, fixTimeout, opts, append([]string{"fix-permissions"}, args...)...)
}

func TestFixPermissionsTree(t *testing.T) {
	root := fixTree(t)
	r := fixRun(t, harness.Opts{}, root)
	if r.Code != 0 {
		t.Fatalf("fix-permissions %s: exit %d; want 0\nstderr: %s", root, r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "9 entries scanned, 9 changed") {
		t.Errorf("summary lacks %q:\n%s", "9 entries scanned, 9 changed", r.Stderr)
	}
	want := map[string]uint32{"": 0o2775, "d1": 0o2775, "d1/sub": 0o2775, "d2": 0o2775,
		"top": 0o664, "d1/a": 0o664, "d1/sub/b": 0o664, "d2/c": 0o664, "d2/run.sh": 0o775}
	first := fixSnapshot(t, root)
	for rel, mode := range want {
		p := filepath.Join(root, rel)
		got := first[p]
		if got.UID != 1234 || got.GID != 0 || got.Mode != mode {
			t.Errorf("%s: owner %d:%d mode %#o; want 1234:0 mode %#o", rel, got.UID, got.GID, got.Mode, mode)
		}
	}

	// A second run makes no chown or chmod call: every ctime stays.
	r = fixRun(t, harness.Opts{}, root)
	if r.Code != 0 || !strings.Contains(r.Stderr, "0 changed") {
		t.Fatalf("second run: exit %d; want 0 and 0 changed\nstderr: %s", r.Code, r.Stderr)
	}
	for p, st := range fixSnapshot(t, root) {
		if st != first[p] {
			t.Errorf("second run changed %s: %+v -> %+v", p, first[p], st)
		}
	}
}

func TestFixPermissionsCheck(t *testing.T) {
	root := fixTree(t)
	before := fixSnapshot(t, root)
	r := fixRun(t, harness.Opts{}, "--check", root)
	if r.Code != 1 {
		t.Fatalf("--check on an unfixed tree: exit %d; want 1\nstderr: %s", r.Code, r.Stderr)
	}
	for _, w := range []string{root + "/d1/a: group 1234 -> 0, mode 0644 -> 0664", root + "/d2: group 1234 -> 0, mode 0755 -> 2775"} {
		if !strings.Contains(r.Stdout, w+"\n") {
			t.Errorf("--check output lacks %q:\n%s", w, r.Stdout)
		}
	}
	if n := strings.Count(r.Stdout, "\n"); n != 9 {
		t.Errorf("--check listed %d entries; want 9:\n%s", n, r.Stdout)
	}
	for p, st := range fixSnapshot(t, root) {
		if st != before[p] {
			t.Errorf("--check changed %s: %+v -> %+v", p, before[p], st)
		}
	}
	if r := fixRun(t, harness.Opts{}, root); r.Code != 0 {
		t.Fatalf("fix: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	if r := fixRun(t, harness.Opts{}, "--check", root); r.Code != 0 || r.Stdout != "" {
		t.Errorf("--check on a fixed tree: exit %d, output %q; want 0 and nothing listed", r.Code, r.Stdout)
	}
}

func TestFixPermissionsSymlinkOutside(t *testing.T) {
	root := fixTree(t)
	outside := fixTree(t) // a directory with a file, owned 1234:1234
	before := fixSnapshot(t, outside)
	for name, target := range map[string]string{"to-file": filepath.Join(outside, "top"), "to-dir": filepath.Join(outside, "d1")} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(filepath.Join(root, name), 1234, 1234); err != nil {
			t.Fatal(err)
		}
	}
	if r := fixRun(t, harness.Opts{}, root); r.Code != 0 {
		t.Fatalf("fix-permissions: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	for p, st := range fixSnapshot(t, outside) {
		if st != before[p] {
			t.Errorf("a symbolic link in the tree led to a change of %s outside it: %+v -> %+v", p, before[p], st)
		}
	}
	if st := fixStat(t, filepath.Join(root, "to-dir")); st.GID != 1234 {
		t.Errorf("the symbolic link itself got group %d; want it left alone (1234)", st.GID)
	}
}

func TestFixPermissionsStaysOnFilesystem(t *testing.T) {
	harness.NeedTool(t, "mount", "umount")
	root := fixTree(t)
	mnt := filepath.Join(root, "d2", "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0755,uid=1234,gid=1234", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", mnt, err, out)
		}
	})
	if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(mnt, "f"), 1234, 1234); err != nil {
		t.Fatal(err)
	}
	before := fixSnapshot(t, mnt)
	r := fixRun(t, harness.Opts{}, root)
	if r.Code != 0 {
		t.Fatalf("fix-permissions: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	for p, st := range fixSnapshot(t, mnt) {
		if st != before[p] {
			t.Errorf("fix-permissions crossed into the tmpfs mounted inside the tree: %s %+v -> %+v", p, before[p], st)
		}
	}
	if st := fixStat(t, filepath.Join(root, "d2", "c")); st.GID != 0 {
		t.Errorf("d2/c beside the mount has group %d; want 0", st.GID)
	}
}

func TestFixPermissionsHardlinks(t *testing.T) {
	root := fixTree(t)
	outside := fixTree(t)
	target := filepath.Join(outside, "top")
	link := filepath.Join(root, "d1", "linked")
	if err := os.Link(target, link); err != nil {
		t.Fatal(err)
	}
	before := fixStat(t, target)
	if r := fixRun(t, harness.Opts{}, root); r.Code != 0 {
		t.Fatalf("fix-permissions: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	if st := fixStat(t, target); st != before {
		t.Errorf("a file with two links was changed: %+v -> %+v", before, st)
	}
	if st := fixStat(t, filepath.Join(root, "d1", "a")); st.GID != 0 {
		t.Errorf("d1/a beside it has group %d; want 0", st.GID)
	}
	if r := fixRun(t, harness.Opts{}, "--hardlinks", root); r.Code != 0 {
		t.Fatalf("fix-permissions --hardlinks: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	if st := fixStat(t, target); st.GID != 0 || st.Mode != 0o664 {
		t.Errorf("with --hardlinks the two-link file is %d mode %#o; want group 0 mode 0664", st.GID, st.Mode)
	}
}

func TestFixPermissionsGroupAndErrors(t *testing.T) {
	root := fixTree(t)
	if r := fixRun(t, harness.Opts{}, "--group", "4321", root); r.Code != 0 {
		t.Fatalf("--group 4321: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	if st := fixStat(t, filepath.Join(root, "d1", "sub", "b")); st.GID != 4321 {
		t.Errorf("--group 4321: d1/sub/b has group %d; want 4321", st.GID)
	}

	// Not root and not the owner: every entry fails, each is listed, exit 1.
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	r := fixRun(t, harness.Opts{UID: harness.OpenShiftUID, GID: 0}, root, filepath.Join(root, "missing"))
	if r.Code != 1 {
		t.Fatalf("as uid %d on a tree of 1234: exit %d; want 1\nstderr: %s", harness.OpenShiftUID, r.Code, r.Stderr)
	}
	for _, w := range []string{root + "/d2/c: chown to group 0: operation not permitted", root + "/missing: open: no such file or directory", "10 failed"} {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.Stderr)
		}
	}

	for _, args := range [][]string{{}, {"--group", "wheel", root}, {"--bogus", root}} {
		if r := fixRun(t, harness.Opts{}, args...); r.Code != 2 {
			t.Errorf("fix-permissions %q: exit %d; want 2 (usage)\nstderr: %s", args, r.Code, r.Stderr)
		}
	}
}
