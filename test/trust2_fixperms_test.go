package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// trust2Secret is what a directory of another user holds in these tests.
const trust2Secret = "TOP SECRET of uid 999"

// trust2AsUser runs argv as uid:gid with no other group and returns its
// combined output and error.
func trust2AsUser(t *testing.T, uid, gid int, argv ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// trust2SwapTree builds the layout of an fsGroup-style volume directory
// data (root:1000 2775) holding app (uid 1000's) and db (999:999 0700,
// with a secret), then, as uid 1000, swaps db in for app: a rename in
// the same directory needs write permission on that directory only. It
// returns data and the directory now named app (db's inode).
func trust2SwapTree(t *testing.T) (data, app string) {
	t.Helper()
	harness.NeedRoot(t)
	data = filepath.Join(harness.SharedDir(t), "data")
	app, db := filepath.Join(data, "app"), filepath.Join(data, "db")
	for _, d := range []string{app, db} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(db, "secret"), []byte(trust2Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p        string
		uid, gid int
		mode     uint32
	}{
		{data, 0, 1000, 0o2775}, {app, 1000, 1000, 0o755}, {db, 999, 999, 0o700}, {filepath.Join(db, "secret"), 999, 999, 0o600},
	} {
		if err := os.Lchown(c.p, c.uid, c.gid); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Chmod(c.p, c.mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, mv := range [][2]string{{app, app + ".mine"}, {db, app}} {
		if out, err := trust2AsUser(t, 1000, 1000, "mv", mv[0], mv[1]); err != nil {
			t.Fatalf("as uid 1000: mv %s %s: %v\n%s", mv[0], mv[1], err, out)
		}
	}
	return data, app
}

// TestTrust2FixpermsSwappedSiblingRefused: uid 1000 swapped the 0700
// directory of uid 999 in for its own app under a directory it may
// write. Root's fix-permissions, from the command line and from step 1
// with RUN_AS, must refuse the path, name the directory that made it
// possible, who can change it and the fix, and change nothing: uid 1000
// must not read the secret.
func TestTrust2FixpermsSwappedSiblingRefused(t *testing.T) {
	t.Run("run-as", func(t *testing.T) {
		data, app := trust2SwapTree(t)
		before := fixSnapshot(t, app)
		r := harness.Run(t, fixTimeout, harness.Opts{
			Env: []string{"NONROOT_RUN_AS=1000:1000", "NONROOT_VOLUMES=" + app, "NONROOT_VOLUME_CHECK=warn",
				"NONROOT_STATE_DIR=" + filepath.Join(harness.SharedDir(t), "state"), "HOME=/"},
		}, "--", "cat", filepath.Join(app, "secret"))
		if strings.Contains(r.Stdout, trust2Secret) {
			t.Errorf("uid 1000 read uid 999's secret through step 1's fix-permissions:\n%s", r.Stdout)
		}
		trust2Unchanged(t, app, before)
		for _, w := range []string{data + " has mode 2775 (group 1000 may write it", "a member of group 1000 could rename", "make " + data + " owned by root"} {
			if !strings.Contains(r.Stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, r.Stderr)
			}
		}
	})
	t.Run("fix-permissions", func(t *testing.T) {
		data, app := trust2SwapTree(t)
		before := fixSnapshot(t, app)
		r := fixRun(t, harness.Opts{}, "--group", "1000", app)
		if r.Code != 1 {
			t.Errorf("fix-permissions --group 1000 %s: exit %d; want 1\nstderr: %s", app, r.Code, r.Stderr)
		}
		trust2Unchanged(t, app, before)
		for _, w := range []string{app + ": refused: ", data + " has mode 2775", "a member of group 1000", "make " + data + " owned by root and not group/other-writable", "mount point"} {
			if !strings.Contains(r.Stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, r.Stderr)
			}
		}
		if out, err := trust2AsUser(t, 1000, 1000, "cat", filepath.Join(app, "secret")); err == nil {
			t.Errorf("uid 1000 reads the secret: %s", out)
		}
	})
	t.Run("writable by others", func(t *testing.T) {
		// A grandparent any user may write (no sticky bit) is as bad.
		harness.NeedRoot(t)
		top := filepath.Join(harness.SharedDir(t), "open")
		vol := filepath.Join(top, "srv", "vol")
		if err := os.MkdirAll(vol, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Chmod(top, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(vol, 1234, 1234); err != nil {
			t.Fatal(err)
		}
		r := fixRun(t, harness.Opts{}, vol)
		if r.Code != 1 || !strings.Contains(r.Stderr, top+" has mode 0777") || !strings.Contains(r.Stderr, "any user") {
			t.Errorf("fix-permissions %s below a 0777 %s: exit %d; want 1 and %s named\nstderr: %s", vol, top, r.Code, top, r.Stderr)
		}
		if st := fixStat(t, vol); st.GID != 1234 {
			t.Errorf("%s changed to group %d", vol, st.GID)
		}
	})
	t.Run("safe parents", func(t *testing.T) {
		// The same tree below root-owned 0755 and sticky directories is
		// fixed as before.
		root := fixTree(t)
		if r := fixRun(t, harness.Opts{}, root); r.Code != 0 {
			t.Errorf("fix-permissions below root-owned parents: exit %d; want 0\nstderr: %s", r.Code, r.Stderr)
		}
	})
}

func trust2Unchanged(t *testing.T, root string, before map[string]fixState) {
	t.Helper()
	for p, st := range fixSnapshot(t, root) {
		if st != before[p] {
			t.Errorf("root's fix-permissions changed %s: %+v -> %+v", p, before[p], st)
		}
	}
}

// TestTrust2FixpermsMountRootWithHostileParent: the kernel refuses to
// rename a mount point (EBUSY), so a starting path that is a mount root
// cannot be swapped even by a user who may write its parent: it is
// fixed, while a plain directory beside it is refused.
func TestTrust2FixpermsMountRootWithHostileParent(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "mount", "setpriv", "mv")
	data := filepath.Join(harness.SharedDir(t), "data")
	vol, plain := filepath.Join(data, "vol"), filepath.Join(data, "plain")
	for _, d := range []string{vol, plain} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(data, 0, 1000); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Chmod(data, 0o2775); err != nil {
		t.Fatal(err)
	}
	ns := func(script string, args ...string) (string, error) {
		argv := append([]string{"--mount", "--propagation", "private", "sh", "-c", "mount --bind \"$1\" \"$1\" && shift && " + script, "sh", vol}, args...)
		out, err := exec.Command("unshare", argv...).CombinedOutput()
		return string(out), err
	}
	out, err := ns(`exec setpriv --reuid 1000 --regid 1000 --clear-groups mv "$1" "$1.moved"`, vol)
	if err == nil || !strings.Contains(strings.ToLower(out), "busy") {
		t.Fatalf("uid 1000 renaming the mount point %s: %v %s; want EBUSY (the kernel fact the mount-root rule rests on)", vol, err, out)
	}
	if _, err := os.Stat(vol); err != nil {
		t.Fatalf("%s after the refused rename: %v", vol, err)
	}
	out, err = ns(`exec "$1" fix-permissions --group 1000 "$2" "$3"`, harness.Init(t), vol, plain)
	if code := exitCode(err); code != 1 {
		t.Errorf("fix-permissions on a mount root and a plain directory: exit %d (%v); want 1 (the plain one refused)\n%s", code, err, out)
	}
	if !strings.Contains(out, plain+": refused: ") || strings.Contains(out, vol+": refused") {
		t.Errorf("want %s refused and %s not:\n%s", plain, vol, out)
	}
	if st := fixStat(t, vol); st.GID != 1000 || st.Mode != 0o2775 {
		t.Errorf("the mount root %s: group %d mode %#o; want 1000 and 2775", vol, st.GID, st.Mode)
	}
	if st := fixStat(t, plain); st.Mode != 0o755 {
		t.Errorf("the refused %s: mode %#o; want 0755 untouched", plain, st.Mode)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// TestTrust2FixpermsWritablePrivilegedFiles: a setuid-root, a setgid and
// a file-capability program that are already group- or other-writable
// are named with the fix, counted as failed (exit 1), never changed,
// also when hard-linked or with --check; doctor's notes name them too.
func TestTrust2FixpermsWritablePrivilegedFiles(t *testing.T) {
	root := fixTree(t)
	bin := filepath.Join(root, "d1")
	files := map[string]os.FileMode{
		"suid": 0o775 | os.ModeSetuid,
		"sgid": 0o757 | os.ModeSetgid,
		"caps": 0o775,
	}
	for name, mode := range files {
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
	if err := os.Link(filepath.Join(bin, "sgid"), filepath.Join(harness.SharedDir(t), "sgid-link")); err != nil {
		t.Fatal(err)
	}
	before := map[string]fixState{}
	for name := range files {
		before[name] = fixStat(t, filepath.Join(bin, name))
	}
	wants := map[string][]string{
		"suid": {"setuid", "writable by group 0", "chmod g-w,o-w " + filepath.Join(bin, "suid")},
		"sgid": {"setgid", "writable by any user", "chmod g-w,o-w " + filepath.Join(bin, "sgid")},
		"caps": {"file capabilities", "writable by group 0", "chmod g-w,o-w " + filepath.Join(bin, "caps")},
	}
	for _, args := range [][]string{{"--check", root}, {root}} {
		r := fixRun(t, harness.Opts{}, args...)
		if r.Code != 1 {
			t.Errorf("fix-permissions %s: exit %d; want 1\nstdout: %s\nstderr: %s", args, r.Code, r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.Stderr, "3 failed") {
			t.Errorf("fix-permissions %s: summary lacks 3 failed:\n%s", args, r.Stderr)
		}
		for name, ws := range wants {
			line := trust2Line(r.Stderr, filepath.Join(bin, name)+":")
			for _, w := range ws {
				if !strings.Contains(line, w) {
					t.Errorf("fix-permissions %s: the line of %s lacks %q: %q\nstderr: %s", args, name, w, line, r.Stderr)
				}
			}
		}
	}
	for name, st := range before {
		if got := fixStat(t, filepath.Join(bin, name)); got != st {
			t.Errorf("%s changed: %+v -> %+v", name, st, got)
		}
	}
	r := harness.Run(t, fixTimeout, harness.Opts{Env: []string{"NONROOT_VOLUMES=" + root}}, "doctor")
	for name := range files {
		if !strings.Contains(r.Stdout, filepath.Join(bin, name)+" (") {
			t.Errorf("doctor does not name the writable privileged %s:\n%s", name, trust2Section(r.Stdout, "== volumes"))
		}
	}
	if !strings.Contains(r.Stdout, "writable by group or others") {
		t.Errorf("doctor does not say they are writable:\n%s", trust2Section(r.Stdout, "== volumes"))
	}
}

// trust2Section returns the section of doctor's text report that starts
// with the line head.
func trust2Section(out, head string) string {
	_, rest, _ := strings.Cut(out, head)
	sec, _, _ := strings.Cut(rest, "\n== ")
	return head + sec
}

// trust2Line returns the first line of out that starts with prefix
// (after leading spaces), or "".
func trust2Line(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), prefix) {
			return l
		}
	}
	return ""
}

// TestTrust2FixpermsQuotedNames: file names with a newline, an escape
// sequence or invalid UTF-8 are printed quoted, Go %q style, in every
// list (changes, privileged files, failures) and in doctor, so they
// cannot forge a line or reach the terminal; plain names print as they
// are.
func TestTrust2FixpermsQuotedNames(t *testing.T) {
	root := fixTree(t)
	forged := "x\nnonroot-init fix-permissions: 0 entries scanned, 0 changed\x1b[2J"
	bad := []string{forged, "esc\x1b]0;title\x07", "latin1-\xe9", `back\slash`}
	for _, n := range bad {
		if err := os.WriteFile(filepath.Join(root, "d2", n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(filepath.Join(root, "d2", n), 1234, 1234); err != nil {
			t.Fatal(err)
		}
	}
	suid := filepath.Join(root, "d2", "su\x1b[31m")
	fixpermsCopy(t, harness.Child(t), suid, 0o755)
	if err := os.Chmod(suid, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	clean := func(what, out string) {
		t.Helper()
		for _, l := range strings.Split(out, "\n") {
			if strings.ContainsAny(l, "\x1b\x07") || !utf8.ValidString(l) {
				t.Errorf("%s: a line holds a raw escape or invalid UTF-8: %q", what, l)
			}
			if strings.HasPrefix(l, "nonroot-init fix-permissions: 0 entries") {
				t.Errorf("%s: a file name forged a line: %q", what, l)
			}
		}
	}
	check := fixRun(t, harness.Opts{}, "--check", root)
	clean("--check stdout", check.Stdout)
	clean("--check stderr", check.Stderr)
	for _, n := range append(bad, "su\x1b[31m") {
		if w := quoteGo(filepath.Join(root, "d2", n)); !strings.Contains(check.Stdout, w) {
			t.Errorf("--check stdout lacks the quoted name %s:\n%s", w, check.Stdout)
		}
	}
	if !strings.Contains(check.Stdout, "\n"+filepath.Join(root, "d1", "a")+": group 1234 -> 0") {
		t.Errorf("a plain name is no longer printed as it is:\n%s", check.Stdout)
	}
	// As a UID that owns nothing there, every entry fails: the failures
	// name them quoted.
	failed := fixRun(t, harness.Opts{UID: harness.OpenShiftUID, GID: 0}, root)
	clean("failures", failed.Stderr)
	if !strings.Contains(failed.Stderr, quoteGo(filepath.Join(root, "d2", forged))+": chown") {
		t.Errorf("failures lack the quoted name:\n%s", failed.Stderr)
	}
	doc := harness.Run(t, fixTimeout, harness.Opts{Env: []string{"NONROOT_VOLUMES=" + root}}, "doctor")
	clean("doctor", doc.Stdout)
	if !strings.Contains(doc.Stdout, quoteGo(suid)) {
		t.Errorf("doctor's volumes lack the quoted privileged name %s:\n%s", quoteGo(suid), trust2Section(doc.Stdout, "== volumes"))
	}
}

func quoteGo(s string) string { return strconv.Quote(s) }
