package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/test/harness"
)

// Tests of issue #9's identity items: hostile or odd /etc/passwd and
// /etc/group, reserved login names, hostile STATE_DIR parents.

// trustIDEtcRun runs the init as harness.OpenShiftUID with gid in new
// mount and PID namespaces whose /etc is an overlay of the real one, after
// prepare (a shell script run there as root) has changed it. The changes
// vanish with the namespace; the real /etc is never written. env is added
// to the environment of prepare and of the init.
func trustIDEtcRun(t *testing.T, gid int, prepare string, env []string, args ...string) harness.Result {
	t.Helper()
	return trustIDOverlayRun(t, "/etc", gid, prepare, env, args...)
}

// trustIDOverlayRun is trustIDEtcRun for the directory dir (/etc or /tmp).
func trustIDOverlayRun(t *testing.T, dir string, gid int, prepare string, env []string, args ...string) harness.Result {
	t.Helper()
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "setpriv", "mount", "sh", "chmod")
	scratch := t.TempDir()
	script := `set -e
mount -t tmpfs -o mode=0700 nonroot-init-test "$1"
mkdir "$1/upper" "$1/work"
chmod --reference="$2" "$1/upper"
mount -t overlay overlay -o "lowerdir=$2,upperdir=$1/upper,workdir=$1/work" "$2"
` + prepare + `
shift 2
exec setpriv --reuid ` + strconv.Itoa(harness.OpenShiftUID) + ` --regid ` + strconv.Itoa(gid) + ` --clear-groups -- "$@"`
	argv := append([]string{"--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
		"sh", "-c", script, "sh", scratch, dir, harness.Init(t)}, args...)
	cmd := exec.Command("unshare", argv...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=/", "TMPDIR=" + harness.SharedDir(t)}, env...)
	return harness.Wait(t, idTimeout, cmd)
}

// TestTrustIdentitySymlinkedPasswd: a /etc/passwd that is a symlink to a
// writable file counts as not writable: auto moves on (it used to abort
// with 78 on ELOOP), etc-passwd is an error, and the file the link points
// to is never written.
func TestTrustIdentitySymlinkedPasswd(t *testing.T) {
	real, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Skipf("no /etc/passwd: %v", err)
	}
	target := filepath.Join(harness.SharedDir(t), "passwd")
	if err := os.WriteFile(target, real, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o666); err != nil {
		t.Fatal(err)
	}
	prepare := `ln -sf "$TARGET" /etc/passwd`
	env := []string{"TARGET=" + target, "NONROOT_NSS_WRAPPER_LIB=/nonexistent/libnss_wrapper.so"}

	r := trustIDEtcRun(t, 0, prepare, append(env, "NONROOT_PASSWD=auto"), "--", harness.Child(t), "env")
	if r.Code != 0 {
		t.Fatalf("auto: exit %d; want 0 (a symlinked /etc/passwd is skipped)\nstderr: %s", r.Code, r.Stderr)
	}
	if got := idEnv(t, r); got["USER"] != "default" {
		t.Errorf("auto: USER=%q; want default", got["USER"])
	}
	if !strings.Contains(r.Stderr, "symbolic link") {
		t.Errorf("auto: the warning does not say /etc/passwd is a symbolic link:\n%s", r.Stderr)
	}

	r = trustIDEtcRun(t, 0, prepare, append(env, "NONROOT_PASSWD=etc-passwd"), "--", "true")
	if r.Code != 78 || !strings.Contains(r.Stderr, "symbolic link") || !strings.Contains(r.Stderr, "NONROOT_PASSWD") {
		t.Errorf("etc-passwd: exit %d; want 78 naming the symbolic link and NONROOT_PASSWD\nstderr: %s", r.Code, r.Stderr)
	}
	if got, _ := os.ReadFile(target); string(got) != string(real) {
		t.Errorf("the file behind the symlink was written: %q", strings.TrimPrefix(string(got), string(real)))
	}
}

// TestTrustIdentityUnreadablePasswdOff: with NONROOT_PASSWD=off an
// unreadable /etc/passwd is not an error (it used to be 78); with auto it
// still is, naming the file and the fix.
func TestTrustIdentityUnreadablePasswdOff(t *testing.T) {
	prepare := `chmod 0600 /etc/passwd`
	r := trustIDEtcRun(t, 0, prepare, []string{"NONROOT_PASSWD=off"}, "--", harness.Child(t), "env")
	if r.Code != 0 {
		t.Fatalf("off: exit %d; want 0\nstderr: %s", r.Code, r.Stderr)
	}
	if got := idEnv(t, r); got["USER"] != "default" || got["LOGNAME"] != "default" {
		t.Errorf("off: USER=%q LOGNAME=%q; want default", got["USER"], got["LOGNAME"])
	}
	r = trustIDEtcRun(t, 0, prepare, []string{"NONROOT_PASSWD=auto"}, "--", "true")
	if r.Code != 78 || !strings.Contains(r.Stderr, "/etc/passwd") || !strings.Contains(r.Stderr, "NONROOT_PASSWD=off") {
		t.Errorf("auto: exit %d; want 78 naming /etc/passwd and NONROOT_PASSWD=off\nstderr: %s", r.Code, r.Stderr)
	}
}

// TestTrustIdentityCRLF: /etc/passwd and /etc/group with CRLF line ends
// are read correctly: a UID they list is found, and the nss_wrapper copy
// keeps every image user and group (it used to drop them all).
func TestTrustIdentityCRLF(t *testing.T) {
	harness.NeedTool(t, "sed", "getent", "id")
	idNeedLib(t)
	crlf := `sed -i 's/$/\r/' /etc/passwd /etc/group`
	state := filepath.Join(harness.SharedDir(t), "state")
	env := []string{"NONROOT_STATE_DIR=" + state}

	r := trustIDEtcRun(t, 0, crlf, env, "--", "sh", "-c", `getent passwd root; getent passwd 1000680000; getent group 0; id -gn`)
	want := "root:x:0:0:root:/root:/bin/bash\n" +
		"default:x:1000680000:0:default:" + filepath.Join(state, "home") + ":/bin/sh\n" +
		"root:x:0:\n" +
		"root\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("unknown uid: exit %d, stdout %q; want 0, %q\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
	}

	// A home the UID can write: an entry whose home is missing gets a copy (issue #11).
	known := crlf + "\nmkdir /etc/app-home && chown 1000680000 /etc/app-home && printf 'app:x:1000680000:0:app:/etc/app-home:/bin/sh\\r\\n' >> /etc/passwd"
	r = trustIDEtcRun(t, 0, known, env, "--", harness.Child(t), "env")
	if r.Code != 0 {
		t.Fatalf("known uid: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	got := idEnv(t, r)
	if got["USER"] != "app" {
		t.Errorf("known uid: USER=%q; want app (its CRLF entry)", got["USER"])
	}
	if v, ok := got["NSS_WRAPPER_PASSWD"]; ok {
		t.Errorf("known uid: NSS_WRAPPER_PASSWD=%s exported for a uid with an entry", v)
	}
}

// TestTrustIdentityGroupNameUnique: a generated group never takes a name
// the image's group file has (default and default-GID are both taken).
func TestTrustIdentityGroupNameUnique(t *testing.T) {
	harness.NeedTool(t, "getent")
	idNeedLib(t)
	prepare := `printf 'default:x:100:\ndefault-4242:x:101:\n' >> /etc/group`
	state := filepath.Join(harness.SharedDir(t), "state")
	r := trustIDEtcRun(t, 4242, prepare, []string{"NONROOT_STATE_DIR=" + state}, "--", "sh", "-c",
		`getent group 4242; getent group default-4242; getent group default`)
	want := "default-4242-2:x:4242:\ndefault-4242:x:101:\ndefault:x:100:\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("exit %d, stdout %q; want 0, %q\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
	}
}

// trustIDWritablePasswd returns a copy of /etc/passwd that GID 0 may
// write (the legacy OpenShift pattern), with its contents, for
// trustIDEtcRun to bind-mount over /etc/passwd ("mount --bind $PASSWD
// /etc/passwd").
func trustIDWritablePasswd(t *testing.T) (string, []byte) {
	t.Helper()
	real, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Skipf("no /etc/passwd: %v", err)
	}
	p := filepath.Join(harness.SharedDir(t), "passwd")
	if err := os.WriteFile(p, real, 0o664); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o664); err != nil {
		t.Fatal(err)
	}
	return p, real
}

// trustIDUsageExit is the status of a usage error found before step 1.
func trustIDUsageExit(code int) bool { return code == 2 }

// TestTrustIdentityRootNameRefused: NONROOT_USERNAME=root (or any name
// whose entry is UID 0) is refused before anything is written, whatever
// the method; it used to give COMMAND root's name and, in etc-passwd mode,
// write a second root line for good.
func TestTrustIdentityRootNameRefused(t *testing.T) {
	idNeedLib(t)
	for _, tc := range []struct {
		name, mode, prepare string
	}{
		{"root", "etc-passwd", ""},
		{"root", "auto", ""},
		{"root", "off", ""},
		{"toor", "auto", `echo 'toor:x:0:0::/root:/bin/sh' >> /etc/passwd`},
	} {
		passwd, real := trustIDWritablePasswd(t)
		state := filepath.Join(harness.SharedDir(t), "state")
		prepare := `mount --bind "$PASSWD" /etc/passwd`
		if tc.prepare != "" {
			prepare = tc.prepare // an overlay /etc/passwd, not the copy
		}
		r := trustIDEtcRun(t, 0, prepare, []string{"PASSWD=" + passwd, "NONROOT_USERNAME=" + tc.name, "NONROOT_PASSWD=" + tc.mode, "NONROOT_STATE_DIR=" + state},
			"--", "sh", "-c", "echo COMMAND ran")
		if !trustIDUsageExit(r.Code) || strings.Contains(r.Stdout, "COMMAND ran") || !strings.Contains(r.Stderr, "NONROOT_USERNAME="+tc.name) {
			t.Errorf("%s, %s: exit %d, stdout %q; want a usage error naming NONROOT_USERNAME=%s, COMMAND not started\nstderr: %s", tc.name, tc.mode, r.Code, r.Stdout, tc.name, r.Stderr)
		}
		if _, err := os.Lstat(state); !os.IsNotExist(err) {
			t.Errorf("%s, %s: the state dir was made (lstat: %v)", tc.name, tc.mode, err)
		}
		if got, _ := os.ReadFile(passwd); string(got) != string(real) {
			t.Errorf("%s, %s: /etc/passwd gained %q", tc.name, tc.mode, strings.TrimPrefix(string(got), string(real)))
		}
	}
}

// TestTrustIdentityEtcPasswdTakenName: in etc-passwd mode a name the image
// has for another UID is an error saying to use nss_wrapper; no second
// line of that name is ever written.
func TestTrustIdentityEtcPasswdTakenName(t *testing.T) {
	passwd, real := trustIDWritablePasswd(t)
	if _, ok := identity.LookupUID(real, 1); !ok {
		t.Skip("needs an entry for uid 1 (daemon) in /etc/passwd")
	}
	e, _ := identity.LookupUID(real, 1)
	r := trustIDEtcRun(t, 0, `mount --bind "$PASSWD" /etc/passwd`,
		[]string{"PASSWD=" + passwd, "NONROOT_USERNAME=" + e.Name, "NONROOT_PASSWD=etc-passwd"}, "--", "true")
	if r.Code != 78 || !strings.Contains(r.Stderr, "nss_wrapper") || !strings.Contains(r.Stderr, e.Name) {
		t.Errorf("exit %d; want 78 naming %s and nss_wrapper\nstderr: %s", r.Code, e.Name, r.Stderr)
	}
	if got, _ := os.ReadFile(passwd); string(got) != string(real) {
		t.Errorf("/etc/passwd gained %q", strings.TrimPrefix(string(got), string(real)))
	}
}

// TestTrustIdentityDoctorRootName: doctor reports NONROOT_USERNAME=root as
// a problem, in text and JSON.
func TestTrustIdentityDoctorRootName(t *testing.T) {
	for _, args := range [][]string{{"doctor"}, {"doctor", "--json"}} {
		r := harness.Run(t, idTimeout, harness.Opts{UID: harness.OpenShiftUID, GID: 0, Env: []string{"NONROOT_USERNAME=root", "HOME=/"}}, args...)
		if r.Code != 1 || !strings.Contains(r.Stdout, "NONROOT_USERNAME=root names an entry of uid 0") {
			t.Errorf("%v: exit %d; want 1 with the problem naming NONROOT_USERNAME=root\nstdout: %s\nstderr: %s", args, r.Code, r.Stdout, r.Stderr)
		}
	}
}

// trustIDHostileDirs makes, in a shared directory, xdg (mode 0777) and
// open/sticky (1777 below 0777): bases whose STATE_DIR another user could
// rename away, directly or one level up.
func trustIDHostileDirs(t *testing.T) (xdg, tmpdir string) {
	t.Helper()
	shared := harness.SharedDir(t)
	xdg, open := filepath.Join(shared, "xdg"), filepath.Join(shared, "open")
	tmpdir = filepath.Join(open, "sticky")
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{xdg, 0o777}, {open, 0o777}, {tmpdir, 0o777 | os.ModeSticky}} {
		if err := os.Mkdir(d.path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d.path, d.mode); err != nil {
			t.Fatal(err)
		}
	}
	return xdg, tmpdir
}

// TestTrustIdentityHostileStateDirParent: with XDG_RUNTIME_DIR mode 0777
// (no sticky bit) and TMPDIR below a 0777 directory, another user could
// swap STATE_DIR/home/.bashrc; both are skipped with a warning, and the
// state dir goes to /tmp (an overlay here, so the real /tmp is not
// shared with other tests).
func TestTrustIdentityHostileStateDirParent(t *testing.T) {
	idNeedLib(t)
	xdg, tmpdir := trustIDHostileDirs(t)
	r := trustIDOverlayRun(t, "/tmp", 0, "", []string{"XDG_RUNTIME_DIR=" + xdg, "TMPDIR=" + tmpdir}, "--", harness.Child(t), "env")
	if r.Code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	got := idEnv(t, r)
	if got["NSS_WRAPPER_PASSWD"] != "/tmp/nonroot-init/passwd" || got["HOME"] != "/tmp/nonroot-init/home" {
		t.Errorf("NSS_WRAPPER_PASSWD=%q HOME=%q; want them in /tmp/nonroot-init, not below %s or %s\nstderr: %s", got["NSS_WRAPPER_PASSWD"], got["HOME"], xdg, tmpdir, r.Stderr)
	}
	for _, d := range []string{xdg, tmpdir} {
		warned := false
		for _, l := range idLines(r.Stderr) {
			warned = warned || (strings.Contains(l, "level=WARN") && strings.Contains(l, filepath.Join(d, "nonroot-init")))
		}
		if !warned {
			t.Errorf("no warning names the skipped %s:\n%s", filepath.Join(d, "nonroot-init"), r.Stderr)
		}
	}
}

// TestTrustIdentityDoctorHostileStateDir: doctor reports a hostile
// STATE_DIR parent as a problem, in text and JSON.
func TestTrustIdentityDoctorHostileStateDir(t *testing.T) {
	xdg, _ := trustIDHostileDirs(t)
	for _, args := range [][]string{{"doctor"}, {"doctor", "--json"}} {
		r := harness.Run(t, idTimeout, harness.Opts{UID: harness.OpenShiftUID, GID: 0, Env: []string{"XDG_RUNTIME_DIR=" + xdg, "HOME=/"}}, args...)
		if r.Code != 1 || !strings.Contains(r.Stdout, "another user") || !strings.Contains(r.Stdout, xdg) {
			t.Errorf("%v: exit %d; want 1 with a problem naming %s and another user\nstdout: %s\nstderr: %s", args, r.Code, xdg, r.Stdout, r.Stderr)
		}
	}
}
