package test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// fixpermsWriterEnv names the file TestFixpermsWriterHelper tries to
// write when the test binary is started again as a helper process.
const fixpermsWriterEnv = "NONROOT_TEST_FIXPERMS_WRITE"

// TestFixpermsWriterHelper is not a test: started again by
// fixpermsTryWrite as another UID, it opens the named file O_RDWR, maps
// it MAP_SHARED with PROT_WRITE and overwrites its first bytes, the way
// a group member would rewrite a group-writable setuid binary (a write
// through a shared mapping does not clear setuid). It prints "wrote" or
// the errno of the step that failed.
func TestFixpermsWriterHelper(t *testing.T) {
	path := os.Getenv(fixpermsWriterEnv)
	if path == "" {
		return // not started by fixpermsTryWrite: nothing to do (a plain return, so that a full run reports no skip)
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Printf("open: %s\n", unix.ErrnoName(err.(unix.Errno)))
		return
	}
	defer unix.Close(fd)
	mem, err := unix.Mmap(fd, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		fmt.Printf("mmap: %v\n", err)
		return
	}
	copy(mem, "OWNED BY THE GROUP")
	if err := unix.Msync(mem, unix.MS_SYNC); err != nil {
		fmt.Printf("msync: %v\n", err)
		return
	}
	unix.Munmap(mem)
	fmt.Println("wrote")
}

// fixpermsTryWrite runs TestFixpermsWriterHelper on path as uid with GID
// 0 and no other group, like an OpenShift pod, and returns what it
// printed. The test binary is copied where that UID can run it.
func fixpermsTryWrite(t *testing.T, uid int, path string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(harness.SharedDir(t), "test.bin")
	fixpermsCopy(t, self, bin, 0o755) // a fresh copy each time: cheap next to the walk
	cmd := exec.Command(bin, "-test.run=^TestFixpermsWriterHelper$", "-test.count=1")
	cmd.Env = []string{fixpermsWriterEnv + "=" + path}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: 0, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("writer helper as uid %d: %v\n%s", uid, err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if l == "wrote" || strings.HasPrefix(l, "open: ") || strings.HasPrefix(l, "mmap: ") || strings.HasPrefix(l, "msync: ") {
			return l
		}
	}
	t.Fatalf("writer helper printed no verdict:\n%s", out)
	return ""
}

func fixpermsCopy(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

// fixpermsSetCap gives path the file capability cap_net_raw+ep by writing
// the security.capability xattr (struct vfs_cap_data, revision 2), as
// setcap(8) does.
func fixpermsSetCap(t *testing.T, path string) {
	t.Helper()
	const revision2, effective, capNetRaw = 0x02000000, 0x000001, 13
	var b bytes.Buffer
	for _, v := range []uint32{revision2 | effective, 1 << capNetRaw, 0, 0, 0} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	if err := unix.Setxattr(path, "security.capability", b.Bytes(), 0); err != nil {
		t.Fatalf("set security.capability on %s: %v", path, err)
	}
}

// TestFixpermsPrivilegedFilesStayPrivate is the end-to-end proof: a
// setuid-root copy of a static binary whose group is already the target
// group, a setgid one and one with file capabilities are left exactly as
// they were by fix-permissions run as root, they are listed, and a UID in
// group 0 still cannot open the setuid one for writing, let alone rewrite
// it through a shared mapping.
func TestFixpermsPrivilegedFilesStayPrivate(t *testing.T) {
	root := fixTree(t)
	bin := filepath.Join(root, "d1", "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	privileged := map[string]os.FileMode{
		"suid": 0o755 | os.ModeSetuid,
		"sgid": 0o755 | os.ModeSetgid,
		"caps": 0o755,
	}
	for name, mode := range privileged {
		p := filepath.Join(bin, name)
		fixpermsCopy(t, harness.Child(t), p, 0o755)
		if err := os.Chown(p, 0, 0); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	fixpermsSetCap(t, filepath.Join(bin, "caps"))
	suid := filepath.Join(bin, "suid")
	content, err := os.ReadFile(suid)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]fixState{}
	for name := range privileged {
		before[name] = fixStat(t, filepath.Join(bin, name))
	}

	check := fixRun(t, harness.Opts{}, "--check", root)
	for name, why := range map[string]string{"suid": "setuid", "sgid": "setgid", "caps": "file capabilities"} {
		w := filepath.Join(bin, name) + ": left alone: " + why
		if !strings.Contains(check.Stdout, w) {
			t.Errorf("--check output lacks %q:\n%s", w, check.Stdout)
		}
	}

	r := fixRun(t, harness.Opts{}, root)
	if r.Code != 0 {
		t.Fatalf("fix-permissions %s: exit %d; want 0\nstderr: %s", root, r.Code, r.Stderr)
	}
	for _, w := range []string{suid + ": left alone: setuid", "3 privileged files left alone"} {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.Stderr)
		}
	}
	for name := range privileged {
		p := filepath.Join(bin, name)
		if st := fixStat(t, p); st != before[name] {
			t.Errorf("%s: %+v -> %+v; want it left exactly as it was", name, before[name], st)
		}
	}
	if _, err := unix.Getxattr(filepath.Join(bin, "caps"), "security.capability", make([]byte, 64)); err != nil {
		t.Errorf("the file capability is gone: %v", err)
	}
	if st := fixStat(t, bin); st.GID != 0 || st.Mode != 0o2775 {
		t.Errorf("the directory holding them: group %d mode %#o; want 0 and 2775", st.GID, st.Mode)
	}

	for name := range privileged {
		if got := fixpermsTryWrite(t, harness.OpenShiftUID, filepath.Join(bin, name)); got != "open: EACCES" {
			t.Errorf("uid %d gid 0 writing the privileged file %s: %q; want open: EACCES", harness.OpenShiftUID, name, got)
		}
	}
	after, err := os.ReadFile(suid)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, content) {
		t.Errorf("the setuid-root file's content changed")
	}
	if st := fixStat(t, suid); st.Mode != 0o4755 || st.UID != 0 || st.GID != 0 {
		t.Errorf("the setuid-root file is %d:%d mode %#o; want 0:0 mode 4755", st.UID, st.GID, st.Mode)
	}
}

// TestFixpermsRunAsSymlinkedVolume: started as root with RUN_AS, the
// target user owns /vol and has replaced /vol/data with a symbolic link
// to a root-owned tree. Step 1's fix-permissions must refuse the path and
// name it, and the root-owned tree must stay exactly as it was.
func TestFixpermsRunAsSymlinkedVolume(t *testing.T) {
	harness.NeedRoot(t)
	base := harness.SharedDir(t)
	vol := filepath.Join(base, "vol")
	secret := filepath.Join(base, "root-owned")
	for _, d := range []string{vol, filepath.Join(secret, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(secret, "sub", "shadow"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fixChownAll(t, secret, 0, 0)
	if err := os.Chown(vol, harness.OpenShiftUID, 0); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(vol, "data")
	if err := os.Symlink(secret, data); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(data, harness.OpenShiftUID, 0); err != nil {
		t.Fatal(err)
	}
	before := fixSnapshot(t, secret)
	r := harness.Run(t, fixTimeout, harness.Opts{
		Env: []string{"NONROOT_RUN_AS=1000680000:0", "NONROOT_VOLUMES=" + data, "NONROOT_VOLUME_CHECK=warn",
			"NONROOT_STATE_DIR=" + filepath.Join(base, "state"), "HOME=/"},
	}, "--", "true")
	for p, st := range fixSnapshot(t, secret) {
		if st != before[p] {
			t.Errorf("root's fix-permissions followed %s into %s: %+v -> %+v", data, p, before[p], st)
		}
	}
	if !strings.Contains(r.Stderr, data) || !strings.Contains(r.Stderr, "symbolic link") {
		t.Errorf("stderr does not name the refused symbolic link %s:\n%s", data, r.Stderr)
	}
}

// TestFixpermsSymlinkedPathRefused: the real binary refuses a PATH that
// is, or passes through, a symbolic link, names it, exits 1, and changes
// nothing through it; the real path works.
func TestFixpermsSymlinkedPathRefused(t *testing.T) {
	root := fixTree(t)
	base := harness.SharedDir(t)
	link := filepath.Join(base, "link")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	before := fixSnapshot(t, root)
	for _, p := range []string{link, filepath.Join(link, "d1"), link + "/"} {
		r := fixRun(t, harness.Opts{}, p)
		if r.Code != 1 || !strings.Contains(r.Stderr, link+" is a symbolic link") {
			t.Errorf("fix-permissions %s: exit %d; want 1 and the link named\nstderr: %s", p, r.Code, r.Stderr)
		}
	}
	for p, st := range fixSnapshot(t, root) {
		if st != before[p] {
			t.Errorf("a PATH through a symbolic link changed %s: %+v -> %+v", p, before[p], st)
		}
	}
	if r := fixRun(t, harness.Opts{}, root); r.Code != 0 {
		t.Errorf("fix-permissions on the real path: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
}

// TestFixpermsHardlinkedSpecialFiles: a FIFO and a socket with another
// link outside the tree are left alone, like regular files; --hardlinks
// changes them.
func TestFixpermsHardlinkedSpecialFiles(t *testing.T) {
	root := fixTree(t)
	outside := harness.SharedDir(t)
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
		if err := os.Chown(p, 1234, 1234); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(p, filepath.Join(root, "d2", filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]fixState{fifo: fixStat(t, fifo), sock: fixStat(t, sock)}
	if r := fixRun(t, harness.Opts{}, root); r.Code != 0 {
		t.Fatalf("fix-permissions: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	for p, st := range before {
		if got := fixStat(t, p); got != st {
			t.Errorf("%s, hard-linked into the tree, was changed: %+v -> %+v", p, st, got)
		}
	}
	if r := fixRun(t, harness.Opts{}, "--hardlinks", root); r.Code != 0 {
		t.Fatalf("fix-permissions --hardlinks: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	for p := range before {
		if st := fixStat(t, p); st.GID != 0 || st.Mode != 0o660 {
			t.Errorf("with --hardlinks %s is group %d mode %#o; want 0 and 0660", p, st.GID, st.Mode)
		}
	}
}

// TestFixpermsOptionsAfterPaths: options may follow the paths until
// "--"; an unknown option anywhere is a usage error that changes nothing.
func TestFixpermsOptionsAfterPaths(t *testing.T) {
	unchanged := func(t *testing.T, root string, before map[string]fixState, what string) {
		t.Helper()
		for p, st := range fixSnapshot(t, root) {
			if st != before[p] {
				t.Errorf("%s changed %s: %+v -> %+v", what, p, before[p], st)
			}
		}
	}

	t.Run("check", func(t *testing.T) {
		root := fixTree(t)
		before := fixSnapshot(t, root)
		r := fixRun(t, harness.Opts{}, root, "--check")
		if r.Code != 1 || !strings.Contains(r.Stdout, root+"/d1/a: group 1234 -> 0") {
			t.Errorf("PATH --check: exit %d; want 1 and the changes listed\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
		}
		unchanged(t, root, before, "PATH --check")
	})
	for _, args := range [][]string{{"--group", "4321"}, {"--group=4321"}, {"-group", "4321"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			root := fixTree(t)
			if r := fixRun(t, harness.Opts{}, append([]string{root}, args...)...); r.Code != 0 {
				t.Fatalf("PATH %s: exit %d\nstderr: %s", args, r.Code, r.Stderr)
			}
			if st := fixStat(t, filepath.Join(root, "d1", "sub", "b")); st.GID != 4321 {
				t.Errorf("PATH %s: d1/sub/b has group %d; want 4321", args, st.GID)
			}
		})
	}
	t.Run("hardlinks", func(t *testing.T) {
		root := fixTree(t)
		outside := fixTree(t)
		target := filepath.Join(outside, "top")
		if err := os.Link(target, filepath.Join(root, "linked")); err != nil {
			t.Fatal(err)
		}
		if r := fixRun(t, harness.Opts{}, root, "--hardlinks"); r.Code != 0 {
			t.Fatalf("PATH --hardlinks: exit %d\nstderr: %s", r.Code, r.Stderr)
		}
		if st := fixStat(t, target); st.GID != 0 {
			t.Errorf("PATH --hardlinks: the two-link file has group %d; want 0", st.GID)
		}
	})
	for _, args := range [][]string{{"--foo"}, {"--group", "wheel"}, {"--group"}, {"--check=maybe"}, {"-x"}} {
		t.Run("usage "+strings.Join(args, " "), func(t *testing.T) {
			root := fixTree(t)
			before := fixSnapshot(t, root)
			r := fixRun(t, harness.Opts{}, append([]string{root}, args...)...)
			if r.Code != 2 {
				t.Errorf("PATH %s: exit %d; want 2 (usage)\nstderr: %s", args, r.Code, r.Stderr)
			}
			unchanged(t, root, before, fmt.Sprintf("PATH %s", args))
		})
	}
	t.Run("double dash", func(t *testing.T) {
		base := fixTree(t)
		dir := filepath.Join(base, "d1")
		named := filepath.Join(dir, "--check")
		if err := os.Mkdir(named, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(named, 1234, 1234); err != nil {
			t.Fatal(err)
		}
		// Root's fix-permissions refuses a path below a directory another
		// user owns: the working directory and its parent are root's.
		for _, d := range []string{base, dir} {
			if err := os.Chown(d, 0, 0); err != nil {
				t.Fatal(err)
			}
		}
		// "--check -- --check": check mode on the directory named --check.
		before := fixSnapshot(t, base)
		r := fixRun(t, harness.Opts{Dir: dir}, "--check", "--", "--check")
		if r.Code != 1 || strings.TrimSpace(r.Stdout) != "--check: group 1234 -> 0, mode 0755 -> 2775" {
			t.Errorf("--check -- --check: exit %d, stdout %q; want 1 and the directory listed\nstderr: %s", r.Code, r.Stdout, r.Stderr)
		}
		unchanged(t, base, before, "--check -- --check")
		// "-- --check --group 5": two paths, the second missing; nothing is an option.
		r = fixRun(t, harness.Opts{Dir: dir}, "--", "--check", "--group")
		if r.Code != 1 || !strings.Contains(r.Stderr, "--group: ") {
			t.Errorf("-- --check --group: exit %d; want 1 with the missing path --group named\nstderr: %s", r.Code, r.Stderr)
		}
		if st := fixStat(t, named); st.GID != 0 || st.Mode != 0o2775 {
			t.Errorf("-- --check: the directory named --check is group %d mode %#o; want 0 and 2775", st.GID, st.Mode)
		}
	})
}

// TestFixpermsCountsAreTrue: entries that failed are counted as failed,
// not as changed.
func TestFixpermsCountsAreTrue(t *testing.T) {
	root := fixTree(t)
	r := fixRun(t, harness.Opts{UID: harness.OpenShiftUID, GID: 0}, root)
	if r.Code != 1 {
		t.Fatalf("as uid %d on a tree of 1234: exit %d; want 1\nstderr: %s", harness.OpenShiftUID, r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, " 0 changed,") || !strings.Contains(r.Stderr, "9 failed") {
		t.Errorf("summary: want 0 changed and 9 failed:\n%s", r.Stderr)
	}
}

// TestFixpermsDoctorReportsWhatFixPermissionsSkips: doctor's volumes
// section lists the privileged files fix-permissions would leave alone
// and a volume path it would refuse (a symbolic link), and changes
// nothing while looking.
func TestFixpermsDoctorReportsWhatFixPermissionsSkips(t *testing.T) {
	root := fixTree(t)
	suid := filepath.Join(root, "d2", "helper")
	fixpermsCopy(t, harness.Child(t), suid, 0o755)
	if err := os.Chmod(suid, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(harness.SharedDir(t), "data")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	before := fixSnapshot(t, root)
	r := harness.Run(t, fixTimeout, harness.Opts{Env: []string{"NONROOT_VOLUMES=" + root + "," + link}}, "doctor")
	for _, w := range []string{
		"fix-permissions would leave 1 privileged file alone under " + root,
		suid + " (setuid)",
		"fix-permissions would refuse " + link + ": " + link + " is a symbolic link (to " + root + ")",
	} {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("doctor output lacks %q:\n%s", w, r.Stdout)
		}
	}
	for p, st := range fixSnapshot(t, root) {
		if st != before[p] {
			t.Errorf("doctor changed %s: %+v -> %+v", p, before[p], st)
		}
	}
}

// TestFixpermsRunAsListsPrivilegedFiles: step 1's fix-permissions (root
// with RUN_AS) leaves a setuid file in a volume alone and says so.
func TestFixpermsRunAsListsPrivilegedFiles(t *testing.T) {
	root := fixTree(t)
	suid := filepath.Join(root, "d1", "helper")
	fixpermsCopy(t, harness.Child(t), suid, 0o755)
	if err := os.Chmod(suid, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	before := fixStat(t, suid)
	r := harness.Run(t, fixTimeout, harness.Opts{
		Env: []string{"NONROOT_RUN_AS=1000680000:0", "NONROOT_VOLUMES=" + root, "NONROOT_VOLUME_CHECK=warn",
			"NONROOT_STATE_DIR=" + filepath.Join(harness.SharedDir(t), "state"), "HOME=/"},
	}, "--", "true")
	if r.Code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	if st := fixStat(t, suid); st != before {
		t.Errorf("step 1 changed the setuid file: %+v -> %+v", before, st)
	}
	if !strings.Contains(r.Stderr, "privileged") || !strings.Contains(r.Stderr, suid) {
		t.Errorf("stderr does not list the privileged file %s:\n%s", suid, r.Stderr)
	}
	if st := fixStat(t, filepath.Join(root, "d1", "a")); st.GID != 0 || st.Mode != 0o664 {
		t.Errorf("d1/a beside it: group %d mode %#o; want 0 and 0664", st.GID, st.Mode)
	}
}
