package test

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/test/harness"
)

const idTimeout = 60 * time.Second

// idSharedDir returns a temporary directory the test's unprivileged UID
// can use like /tmp (mode 1777): t.TempDir and its parent are 0700 root.
func idSharedDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{filepath.Dir(d), d} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(d, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	return d
}

// idNeedLib skips unless the real libnss_wrapper is installed.
func idNeedLib(t *testing.T) string {
	t.Helper()
	lib, err := identity.FindLib("", identity.LibDirs(runtime.GOARCH), runtime.GOARCH)
	if err != nil {
		t.Skipf("needs libnss_wrapper (.ci/run installs libnss-wrapper): %v", err)
	}
	return lib
}

func idLines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

func idEnv(t *testing.T, r harness.Result) map[string]string {
	t.Helper()
	var list []string
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("testchild env output %q: %v\nstderr: %s", r.Stdout, err, r.Stderr)
	}
	m := map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// TestIdentityNSSWrapper runs as OpenShift does (random UID, GID 0, PID 1)
// with the real libnss_wrapper: libc programs find the user, HOME is
// writable, and an LD_PRELOAD of the image is kept.
func TestIdentityNSSWrapper(t *testing.T) {
	harness.NeedTool(t, "sh", "whoami", "id", "getent")
	lib := idNeedLib(t)
	dir := idSharedDir(t)
	state := filepath.Join(dir, "state")
	r := harness.Run(t, idTimeout, harness.Opts{
		PID1: true, UID: harness.OpenShiftUID, GID: 0,
		Env: []string{"HOME=/", "NONROOT_USERNAME=appuser", "NONROOT_STATE_DIR=" + state, "LD_PRELOAD=/nonexistent/libkeep.so"},
	}, "--", "sh", "-c", `whoami; id -un; getent passwd 1000680000; echo "$HOME"; touch "$HOME/probe" && echo home-writable; echo "$LD_PRELOAD"; echo "$USER $LOGNAME"`)
	if r.Code != 0 {
		t.Fatalf("exit %d; want 0\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	home := filepath.Join(state, "home")
	want := []string{
		"appuser",
		"appuser",
		"appuser:x:1000680000:0:appuser:" + home + ":/bin/sh",
		home,
		"home-writable",
		"/nonexistent/libkeep.so:" + lib,
		"appuser appuser",
	}
	if got := idLines(r.Stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s\nstderr: %s", r.Stdout, strings.Join(want, "\n"), r.Stderr)
	}
	if strings.Count(r.Stderr, "passwd entry provided through nss_wrapper") != 1 || strings.Contains(r.Stderr, "level=WARN") {
		t.Errorf("stderr: want one info line about nss_wrapper and no warning, got:\n%s", r.Stderr)
	}
}

// TestIdentityExistingEntry: a UID the image knows (CRI-O may have
// injected it), with a home it can write, gets nothing generated and no
// LD_PRELOAD. (An entry whose home is missing gets a copy: issue #11.)
func TestIdentityExistingEntry(t *testing.T) {
	e := identity.Entry{Name: "app", UID: harness.OpenShiftUID, GID: 0, Home: "/etc/app-home"}
	dir := idSharedDir(t)
	state := filepath.Join(dir, "state")
	// A home of its own: a 1777 HOME is not used (another user could plant files in it).
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, e.UID, e.GID); err != nil {
		t.Fatal(err)
	}
	prepare := `mkdir /etc/app-home && chown 1000680000 /etc/app-home && echo 'app:x:1000680000:0:app:/etc/app-home:/bin/sh' >> /etc/passwd`
	r := trustIDEtcRun(t, 0, prepare, []string{"NONROOT_STATE_DIR=" + state, "HOME=" + home}, "--", harness.Child(t), "env")
	if r.Code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.Code, r.Stderr)
	}
	env := idEnv(t, r)
	if env["USER"] != e.Name || env["LOGNAME"] != e.Name || env["HOME"] != home {
		t.Errorf("USER=%q LOGNAME=%q HOME=%q; want %q, %q, %q", env["USER"], env["LOGNAME"], env["HOME"], e.Name, e.Name, home)
	}
	for _, k := range []string{"LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s=%q exported for a uid with an entry", k, v)
		}
	}
	if _, err := os.Lstat(state); !os.IsNotExist(err) {
		t.Errorf("state dir created for a uid with an entry (lstat: %v)", err)
	}
	if strings.Contains(r.Stderr, "passwd entry") || strings.Contains(r.Stderr, "HOME") {
		t.Errorf("nothing to do, yet the identity step logged:\n%s", r.Stderr)
	}
}

// TestIdentityEtcPasswd appends to a writable /etc/passwd (a copy,
// bind-mounted over the real one in a private mount namespace) once and
// only once across two starts.
func TestIdentityEtcPasswd(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "setpriv", "mount", "sh", "whoami")
	realBefore, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Skipf("no /etc/passwd: %v", err)
	}
	dir := idSharedDir(t)
	copyPath := filepath.Join(dir, "passwd")
	if err := os.WriteFile(copyPath, realBefore, 0o664); err != nil {
		t.Fatal(err)
	}
	// The legacy OpenShift pattern: group 0 and g+w, so GID 0 may write it.
	if err := os.Chown(copyPath, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(copyPath, 0o664); err != nil {
		t.Fatal(err)
	}
	run := func() harness.Result {
		script := `mount --bind "$1" /etc/passwd && exec setpriv --reuid ` + strconv.Itoa(harness.OpenShiftUID) + ` --regid 0 --clear-groups -- "$2" --passwd etc-passwd -- sh -c 'whoami; echo "LD_PRELOAD=$LD_PRELOAD"'`
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
			"sh", "-c", script, "sh", copyPath, harness.Init(t))
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/", "NONROOT_STATE_DIR=" + filepath.Join(dir, "state")}
		return harness.Wait(t, idTimeout, cmd)
	}
	for i := 1; i <= 2; i++ {
		r := run()
		if r.Code != 0 || idLines(r.Stdout)[0] != "default" || !strings.Contains(r.Stdout, "LD_PRELOAD=\n") {
			t.Fatalf("run %d: exit %d, stdout %q; want 0, whoami default, no LD_PRELOAD\nstderr: %s", i, r.Code, r.Stdout, r.Stderr)
		}
		appended := strings.Contains(r.Stderr, "passwd entry appended")
		if appended != (i == 1) {
			t.Errorf("run %d: appended=%v; want an append on the first run only\nstderr: %s", i, appended, r.Stderr)
		}
	}
	got, _ := os.ReadFile(copyPath)
	added := strings.TrimPrefix(string(got), string(realBefore))
	want := "default:x:1000680000:0:default:" + filepath.Join(dir, "state", "home") + ":/bin/sh\n"
	if added != want {
		t.Errorf("copy of /etc/passwd gained %q; want exactly %q", added, want)
	}
	if realAfter, _ := os.ReadFile("/etc/passwd"); !bytes.Equal(realAfter, realBefore) {
		t.Fatalf("the real /etc/passwd changed")
	}
}

// TestIdentityStaticGoProgram: a Go program without cgo reads /etc/passwd
// itself, where nss_wrapper cannot help; it must resolve the user through
// USER and HOME.
func TestIdentityStaticGoProgram(t *testing.T) {
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(idSharedDir(t), "gowhoami")
	build := exec.Command("go", "build", "-o", bin, "./test/testdata/identity/gowhoami")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build gowhoami: %v\n%s", err, out)
	}
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(filepath.Dir(bin), "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, harness.OpenShiftUID, 0); err != nil {
		t.Fatal(err)
	}
	r := harness.Run(t, idTimeout, harness.Opts{
		PID1: true, UID: harness.OpenShiftUID, GID: 0,
		Env: []string{"HOME=/", "NONROOT_STATE_DIR=" + state},
	}, "--", bin)
	want := "user=default uid=1000680000 home=" + filepath.Join(state, "home") + "\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("exit %d, stdout %q; want 0, %q\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
	}
}

// TestIdentityInjectionRefused: a name or home that would corrupt a
// passwd line is a usage error (2) and nothing is written.
func TestIdentityInjectionRefused(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	for _, env := range [][]string{
		{"NONROOT_USERNAME=evil:x:0:0::/:/bin/sh"},
		{"NONROOT_USERNAME=evil\nroot"},
		{"NONROOT_USERNAME=-rf"},
		{"NONROOT_USERNAME=" + strings.Repeat("a", 33)},
		{"NONROOT_HOME=/home/x:0:0"},
		{"NONROOT_HOME=/home/x\nroot::0:0::/:/bin/sh"},
		{"NONROOT_HOME=/home/\x1b[2Jx"},
	} {
		r := harness.Run(t, idTimeout, harness.Opts{Env: append(env, "NONROOT_STATE_DIR="+state)}, "--", "true")
		if r.Code != 2 || !strings.Contains(r.Stderr, strings.Split(strings.Split(env[0], "=")[0], "NONROOT_")[1]) {
			t.Errorf("%q: exit %d, stderr %q; want 2 naming the setting", env, r.Code, r.Stderr)
		}
		if _, err := os.Lstat(state); !os.IsNotExist(err) {
			t.Fatalf("%q: the state dir was created", env)
		}
	}
}

// TestIdentityInheritedHomeNotInjected: an inherited $HOME with a ':' is
// never copied into a passwd line.
func TestIdentityInheritedHomeNotInjected(t *testing.T) {
	harness.NeedTool(t, "getent")
	idNeedLib(t)
	dir := idSharedDir(t)
	evil := filepath.Join(dir, "h:0:0")
	if err := os.Mkdir(evil, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(evil, 0o777); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	r := harness.Run(t, idTimeout, harness.Opts{
		PID1: true, UID: harness.OpenShiftUID, GID: 0,
		Env: []string{"HOME=" + evil, "NONROOT_STATE_DIR=" + state},
	}, "--", "getent", "passwd", "1000680000")
	want := "default:x:1000680000:0:default:" + filepath.Join(state, "home") + ":/bin/sh\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("exit %d, getent %q; want 0, %q\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
	}
}

// TestIdentityStateDirNotWrittenThrough: a STATE_DIR that is a symlink
// (planted in a shared /tmp) or belongs to another user is not used. The
// explicit setting is the only candidate, so nothing falls back to the
// real /tmp.
func TestIdentityStateDirNotWrittenThrough(t *testing.T) {
	idNeedLib(t)
	dir := idSharedDir(t)
	target := filepath.Join(dir, "target")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(target, harness.OpenShiftUID, 0); err != nil {
		t.Fatal(err)
	}
	// A link planted where a STATE_DIR goes.
	if err := os.Symlink(target, filepath.Join(dir, "nonroot-init")); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign")
	if err := os.Mkdir(foreign, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(foreign, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(foreign, 4242, 0); err != nil {
		t.Fatal(err)
	}
	for _, env := range [][]string{
		{"NONROOT_STATE_DIR=" + filepath.Join(dir, "nonroot-init")},
		{"NONROOT_STATE_DIR=" + foreign},
	} {
		r := harness.Run(t, idTimeout, harness.Opts{
			PID1: true, UID: harness.OpenShiftUID, GID: 0, Env: append(env, "HOME=/"),
		}, "--", harness.Child(t), "env")
		if r.Code != 0 {
			t.Fatalf("%v: exit %d\nstderr: %s", env, r.Code, r.Stderr)
		}
		got := idEnv(t, r)
		if _, ok := got["NSS_WRAPPER_PASSWD"]; ok {
			t.Errorf("%v: NSS_WRAPPER_PASSWD=%s exported from a refused state dir", env, got["NSS_WRAPPER_PASSWD"])
		}
		if got["USER"] != "default" {
			t.Errorf("%v: USER=%q; want default", env, got["USER"])
		}
		if !strings.Contains(r.Stderr, "no passwd entry") {
			t.Errorf("%v: no warning about the missing entry:\n%s", env, r.Stderr)
		}
		for _, d := range []string{target, foreign} {
			if ents, _ := os.ReadDir(d); len(ents) != 0 {
				t.Fatalf("%v: written into %s: %v", env, d, ents)
			}
		}
	}
}

// TestIdentityLibraryUnusable: a missing library, or one built for
// another architecture, exports no LD_PRELOAD and says so once.
func TestIdentityLibraryUnusable(t *testing.T) {
	dir := idSharedDir(t)
	other := filepath.Join(dir, "libnss_wrapper.so")
	h := elf.Header64{Type: uint16(elf.ET_DYN), Machine: uint16(elf.EM_S390), Version: 1, Ehsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, lib := range []string{filepath.Join(dir, "missing.so"), other} {
		r := harness.Run(t, idTimeout, harness.Opts{
			PID1: true, UID: harness.OpenShiftUID, GID: 0,
			Env: []string{"HOME=/", "NONROOT_NSS_WRAPPER_LIB=" + lib, "NONROOT_STATE_DIR=" + filepath.Join(dir, "state")},
		}, "--", harness.Child(t), "env")
		if r.Code != 0 {
			t.Fatalf("%s: exit %d\nstderr: %s", lib, r.Code, r.Stderr)
		}
		env := idEnv(t, r)
		if v, ok := env["LD_PRELOAD"]; ok {
			t.Errorf("%s: LD_PRELOAD=%q exported", lib, v)
		}
		if n := strings.Count(r.Stderr, "NONROOT_NSS_WRAPPER_LIB="+lib); n != 1 {
			t.Errorf("%s: the library is named %d times on stderr; want once:\n%s", lib, n, r.Stderr)
		}
	}
}
