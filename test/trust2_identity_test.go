package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// Tests of the second review of issue #9, identity part: passwd lines a C
// library reads more leniently than nonroot-init, shared homes.

// TestTrust2IdentityLenientRootAlias: NONROOT_USERNAME naming a line that
// glibc reads as UID 0 but that is not a strict passwd line (a tab in
// GECOS, white space before the UID) is a usage error before COMMAND
// starts; getent, run in the same namespace, proves glibc's reading.
func TestTrust2IdentityLenientRootAlias(t *testing.T) {
	harness.NeedTool(t, "getent", "cut")
	for _, tc := range []struct{ name, line string }{
		{"toor", `toor:x:0:0:Root\tAdmin:/root:/bin/sh`},
		{"op", `op:x: 0:0::/root:/bin/sh`},
		{"lead", `  lead:x:0:0::/root:/bin/sh`},
		{"plus", `plus:x:+0:0::/root:/bin/sh`},
	} {
		prepare := `printf '` + tc.line + `\n' >> /etc/passwd
[ "$(getent passwd ` + tc.name + ` | cut -d: -f3)" = 0 ] || { echo "getent does not read ` + tc.name + ` as uid 0" >&2; exit 99; }`
		r := trustIDEtcRun(t, 0, prepare, []string{"NONROOT_USERNAME=" + tc.name, "NONROOT_PASSWD=off"},
			"--", "sh", "-c", `echo "COMMAND ran as USER=$USER"`)
		if r.Code == 99 {
			t.Fatalf("%s: the premise failed: %s", tc.name, r.Stderr)
		}
		if !trustIDUsageExit(r.Code) || strings.Contains(r.Stdout, "COMMAND ran") || !strings.Contains(r.Stderr, "NONROOT_USERNAME="+tc.name+" names an entry of uid 0") {
			t.Errorf("%s (%s): exit %d, stdout %q; want a usage error (2) naming NONROOT_USERNAME=%s and uid 0, COMMAND not started\nstderr: %s",
				tc.name, tc.line, r.Code, r.Stdout, tc.name, r.Stderr)
		}
	}
}

// TestTrust2IdentityUnreadableNameLine: a line of that name that nobody
// reads as UID 0 but nonroot-init cannot read strictly is refused too.
func TestTrust2IdentityUnreadableNameLine(t *testing.T) {
	r := trustIDEtcRun(t, 0, `printf 'odd:x:5:0:a\tb:/:/bin/sh\n' >> /etc/passwd`, []string{"NONROOT_USERNAME=odd", "NONROOT_PASSWD=off"},
		"--", "sh", "-c", `echo COMMAND ran`)
	if !trustIDUsageExit(r.Code) || strings.Contains(r.Stdout, "COMMAND ran") || !strings.Contains(r.Stderr, "cannot be read safely") {
		t.Errorf("exit %d, stdout %q; want a usage error (2) saying the entry cannot be read safely\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestTrust2IdentityUIDAsGlibc: whether our UID has an entry is what
// glibc's getpwuid says. A commented-out line for it is no entry, so one
// is provided (it used to count as existing, leaving whoami without one);
// a line only glibc reads (a tab in GECOS) is the entry, and nothing is
// provided beside it.
func TestTrust2IdentityUIDAsGlibc(t *testing.T) {
	harness.NeedTool(t, "getent")
	idNeedLib(t)
	state := filepath.Join(harness.SharedDir(t), "state")
	env := []string{"NONROOT_STATE_DIR=" + state}

	r := trustIDEtcRun(t, 0, `echo '#app:x:1000680000:0::/home/app:/bin/sh' >> /etc/passwd`, env,
		"--", "sh", "-c", `getent passwd 1000680000; echo "USER=$USER"`)
	want := "default:x:1000680000:0:default:" + filepath.Join(state, "home") + ":/bin/sh\nUSER=default\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("a comment: exit %d, stdout %q; want 0, %q\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
	}

	r = trustIDEtcRun(t, 0, `printf 'app:x:1000680000:0:App\tUser:/:/bin/sh\n' >> /etc/passwd`, env,
		"--", harness.Child(t), "env")
	if r.Code != 0 {
		t.Fatalf("a tab in GECOS: exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	got := idEnv(t, r)
	if got["USER"] != "app" {
		t.Errorf("a tab in GECOS: USER=%q; want app (the entry getpwuid returns)", got["USER"])
	}
	if v, ok := got["NSS_WRAPPER_PASSWD"]; ok {
		t.Errorf("a tab in GECOS: NSS_WRAPPER_PASSWD=%s exported for a uid glibc finds", v)
	}
}

// TestTrust2IdentitySharedHome: an inherited HOME another user could
// plant a .bashrc in is not used: HOME=/tmp-like (1777), and a directory
// of another UID that we may write through group 0 (0775 1234:0), give
// STATE_DIR/home with a warning saying why. A 0775 root:0 home (OpenShift)
// is still used.
func TestTrust2IdentitySharedHome(t *testing.T) {
	harness.NeedRoot(t)
	shared := harness.SharedDir(t)
	foreign := filepath.Join(shared, "foreign")
	group := filepath.Join(shared, "group")
	for _, d := range []struct {
		path string
		uid  int
	}{{foreign, 1234}, {group, 0}} {
		if err := os.Mkdir(d.path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d.path, d.uid, 0); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d.path, 0o775); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		home   string
		shared bool
	}{{shared, true}, {foreign, true}, {group, false}} {
		state := filepath.Join(harness.SharedDir(t), "state")
		r := harness.Run(t, idTimeout, harness.Opts{UID: harness.OpenShiftUID, GID: 0,
			Env: []string{"HOME=" + tc.home, "NONROOT_PASSWD=off", "NONROOT_STATE_DIR=" + state}}, "--", harness.Child(t), "env")
		if r.Code != 0 {
			t.Fatalf("HOME=%s: exit %d\nstderr: %s", tc.home, r.Code, r.Stderr)
		}
		want := tc.home
		if tc.shared {
			want = filepath.Join(state, "home")
		}
		if got := idEnv(t, r)["HOME"]; got != want {
			t.Errorf("HOME=%s: COMMAND got HOME=%s; want %s\nstderr: %s", tc.home, got, want, r.Stderr)
		}
		if warned := strings.Contains(r.Stderr, "plant files"); warned != tc.shared {
			t.Errorf("HOME=%s: the log says another user could plant files: %v; want %v\nstderr: %s", tc.home, warned, tc.shared, r.Stderr)
		}
	}
}

// TestTrust2IdentityRootHomeNoFollow: started as root, nonroot-init does
// not create a NONROOT_HOME through a symbolic link another user planted
// in a shared directory (root's mkdir -p used to follow it and make the
// directory where the link pointed), nor gives it to COMMAND as HOME; it
// warns.
func TestTrust2IdentityRootHomeNoFollow(t *testing.T) {
	harness.NeedRoot(t)
	target := t.TempDir()
	link := filepath.Join(harness.SharedDir(t), "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, 1234, 1234); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(link, "home")
	r := harness.Run(t, idTimeout, harness.Opts{Env: []string{"NONROOT_HOME=" + home, "NONROOT_PASSWD=off"}}, "--", harness.Child(t), "env")
	if r.Code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	if _, err := os.Lstat(filepath.Join(target, "home")); !os.IsNotExist(err) {
		t.Errorf("root made %s/home through the planted link (lstat: %v)", target, err)
	}
	if !strings.Contains(r.Stderr, "NONROOT_HOME") || !strings.Contains(r.Stderr, "symbolic link of uid 1234") {
		t.Errorf("no warning naming NONROOT_HOME and the link of uid 1234:\n%s", r.Stderr)
	}
	// Root does not use it either (review 4): COMMAND, root, would read
	// the rc files uid 1234 can put where the link points.
	if got := idEnv(t, r)["HOME"]; got == home {
		t.Errorf("COMMAND got HOME=%s; want another HOME (root takes no shared NONROOT_HOME)", got)
	}
}
