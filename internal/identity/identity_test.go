package identity

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

func TestDecide(t *testing.T) {
	errLib := errors.New("libnss_wrapper.so not found")
	errState := errors.New("no dir")
	errWr := errors.New("/etc/passwd is not writable")
	tests := []struct {
		mode    config.PasswdMode
		p       probe
		want    Method
		wantErr bool
	}{
		{config.PasswdAuto, probe{uid: 1000, found: true, libErr: errLib}, MethodExisting, false},
		{config.PasswdNSSWrapper, probe{uid: 1000, found: true, libErr: errLib}, "", true},
		{config.PasswdNSSWrapper, probe{uid: 1000, found: true}, MethodNSSWrapper, false},
		{config.PasswdAuto, probe{uid: 1000, found: true, homeErr: errWr}, MethodNSSWrapper, false},
		{config.PasswdAuto, probe{uid: 1000, found: true, homeErr: errWr, libErr: errLib}, MethodExisting, false},
		{config.PasswdEtcPasswd, probe{uid: 1000, found: true, homeErr: errWr}, MethodExisting, false},
		{config.PasswdOff, probe{uid: 1000, found: true, homeErr: errWr}, MethodExisting, false},
		{config.PasswdAuto, probe{uid: 0}, MethodEnv, false},
		{config.PasswdEtcPasswd, probe{uid: 0}, MethodEnv, false},
		{config.PasswdAuto, probe{uid: 1000}, MethodNSSWrapper, false},
		{config.PasswdAuto, probe{uid: 1000, libErr: errLib}, MethodEtcPasswd, false},
		{config.PasswdAuto, probe{uid: 1000, stateErr: errState}, MethodEtcPasswd, false},
		{config.PasswdAuto, probe{uid: 1000, libErr: errLib, passwdWrErr: errWr}, MethodEnv, false},
		{config.PasswdOff, probe{uid: 1000}, MethodEnv, false},
		{config.PasswdNSSWrapper, probe{uid: 1000}, MethodNSSWrapper, false},
		{config.PasswdNSSWrapper, probe{uid: 1000, libErr: errLib}, "", true},
		{config.PasswdNSSWrapper, probe{uid: 1000, stateErr: errState}, "", true},
		{config.PasswdEtcPasswd, probe{uid: 1000}, MethodEtcPasswd, false},
		{config.PasswdEtcPasswd, probe{uid: 1000, passwdWrErr: errWr}, "", true},
	}
	for _, tt := range tests {
		got, reasons, err := decide(tt.mode, tt.p)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("decide(%s, %+v) = %q, %v, %v; want %q, err=%v", tt.mode, tt.p, got, reasons, err, tt.want, tt.wantErr)
		}
	}
}

func TestStateDirCandidates(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		explicit string
		env      map[string]string
		want     []string
	}{
		{"/run/x/", nil, []string{"/run/x"}},
		{"", nil, []string{"/tmp/nonroot-init"}},
		{"", map[string]string{"XDG_RUNTIME_DIR": "/run/user/5", "TMPDIR": "/var/tmp"}, []string{"/run/user/5/nonroot-init", "/var/tmp/nonroot-init", "/tmp/nonroot-init"}},
		{"", map[string]string{"TMPDIR": "relative"}, []string{"/tmp/nonroot-init"}},
		{"", map[string]string{"TMPDIR": "/tmp/"}, []string{"/tmp/nonroot-init"}},
	}
	for _, tt := range tests {
		got := stateDirCandidates(tt.explicit, env(tt.env))
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("stateDirCandidates(%q, %v) = %v; want %v", tt.explicit, tt.env, got, tt.want)
		}
	}
}

func TestOpenStateDir(t *testing.T) {
	root := t.TempDir()
	elsewhere := filepath.Join(root, "elsewhere")
	must(t, os.Mkdir(elsewhere, 0o700))
	must(t, os.Symlink(elsewhere, filepath.Join(root, "link")))
	must(t, os.Mkdir(filepath.Join(root, "open"), 0o777))
	must(t, os.Chmod(filepath.Join(root, "open"), 0o777))
	must(t, os.WriteFile(filepath.Join(root, "file"), nil, 0o600))

	for _, bad := range []string{"link", "open", "file", "missing/sub"} {
		if sd, _, err := openStateDir([]string{filepath.Join(root, bad)}, os.Geteuid()); err == nil {
			sd.close()
			t.Errorf("openStateDir(%s) accepted; want it refused", bad)
		}
	}
	sd, _, err := openStateDir([]string{filepath.Join(root, "link"), filepath.Join(root, "good")}, os.Geteuid())
	if err != nil {
		t.Fatalf("openStateDir(link, good): %v; want good", err)
	}
	defer sd.close()
	if sd.path != filepath.Join(root, "good") {
		t.Errorf("openStateDir picked %s; want %s/good", sd.path, root)
	}
	fi, err := os.Stat(sd.path)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode = %v, %v; want 0700", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
		t.Errorf("something was written through the symlink: %v", ents)
	}

	if os.Geteuid() == 0 {
		foreign := filepath.Join(root, "foreign")
		must(t, os.Mkdir(foreign, 0o700))
		must(t, os.Chown(foreign, 4321, 4321))
		if sd, _, err := openStateDir([]string{foreign}, os.Geteuid()); err == nil {
			sd.close()
			t.Errorf("openStateDir(foreign) accepted a directory owned by uid 4321")
		}
	}
}

// fakeELF writes the smallest ELF64 file debug/elf accepts: a header.
func fakeELF(t *testing.T, path string, typ elf.Type, machine elf.Machine) {
	t.Helper()
	h := elf.Header64{
		Type: uint16(typ), Machine: uint16(machine), Version: 1, Ehsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	f, err := os.Create(path)
	must(t, err)
	must(t, binary.Write(f, binary.LittleEndian, h))
	must(t, f.Close())
}

func TestFindLib(t *testing.T) {
	root := t.TempDir()
	a, b, c := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")
	for _, d := range []string{a, b, c} {
		must(t, os.Mkdir(d, 0o755))
	}
	fakeELF(t, filepath.Join(a, "libnss_wrapper.so"), elf.ET_DYN, elf.EM_AARCH64)
	fakeELF(t, filepath.Join(b, "libnss_wrapper.so.0"), elf.ET_DYN, elf.EM_X86_64)
	must(t, os.Symlink("libnss_wrapper.so.0", filepath.Join(b, "libnss_wrapper.so")))
	fakeELF(t, filepath.Join(c, "libnss_wrapper.so"), elf.ET_EXEC, elf.EM_X86_64)

	got, err := FindLib("", []string{a, b}, "amd64")
	if want := filepath.Join(b, "libnss_wrapper.so.0"); got != want || err != nil {
		t.Errorf("FindLib(amd64) = %q, %v; want the resolved %q (aarch64 one skipped)", got, err, want)
	}
	got, err = FindLib("", []string{a, b}, "arm64")
	if want := filepath.Join(a, "libnss_wrapper.so"); got != want || err != nil {
		t.Errorf("FindLib(arm64) = %q, %v; want %q", got, err, want)
	}
	if got, err := FindLib("", []string{a, c}, "amd64"); err == nil || !strings.Contains(err.Error(), "skipped") {
		t.Errorf("FindLib(wrong arch, executable) = %q, %v; want not found, naming what was skipped", got, err)
	}
	if got, err := FindLib(filepath.Join(a, "libnss_wrapper.so"), nil, "amd64"); err == nil || !strings.Contains(err.Error(), "NONROOT_NSS_WRAPPER_LIB") {
		t.Errorf("FindLib(explicit wrong arch) = %q, %v; want an error naming NONROOT_NSS_WRAPPER_LIB", got, err)
	}
	if got, err := FindLib(filepath.Join(root, "nope.so"), nil, "amd64"); err == nil {
		t.Errorf("FindLib(explicit missing) = %q; want an error", got)
	}
}

// fixture is a temporary root with a passwd, a group and a library dir.
type fixture struct {
	root, passwd, group, libDir, state string
}

func newFixture(t *testing.T, withLib bool) fixture {
	t.Helper()
	root := t.TempDir()
	f := fixture{root: root, passwd: filepath.Join(root, "passwd"), group: filepath.Join(root, "group"),
		libDir: filepath.Join(root, "lib"), state: filepath.Join(root, "state")}
	must(t, os.WriteFile(f.passwd, []byte(imagePasswd), 0o644))
	must(t, os.WriteFile(f.group, []byte("root:x:0:\n"), 0o644))
	must(t, os.Mkdir(f.libDir, 0o755))
	if withLib {
		fakeELF(t, filepath.Join(f.libDir, "libnss_wrapper.so"), elf.ET_DYN, elf.Machine(elfMachine(runtime.GOARCH)))
	}
	return f
}

func (f fixture) options(uid int, mode config.PasswdMode, env map[string]string) Options {
	return Options{
		Mode: mode, Username: "default", PasswdFile: f.passwd, GroupFile: f.group,
		LibDirs: []string{f.libDir}, GOARCH: runtime.GOARCH, StateDir: f.state, Shell: "/bin/sh",
		UID: uid, GID: 0, EUID: os.Geteuid(),
		Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}
}

func envOf(r Result) map[string]string {
	m := map[string]string{}
	for _, v := range r.Env {
		m[v.Key] = v.Value
	}
	return m
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestProvideExisting(t *testing.T) {
	f := newFixture(t, true)
	home := t.TempDir()
	must(t, os.WriteFile(f.passwd, []byte(strings.Replace(imagePasswd, "/home/app", home, 1)), 0o644))
	res, err := Provide(f.options(1001, config.PasswdAuto, map[string]string{"HOME": home}), quiet)
	if err != nil {
		t.Fatal(err)
	}
	env := envOf(res)
	if res.Method != MethodExisting || env["USER"] != "app" || env["LOGNAME"] != "app" || env["HOME"] != home || env["LD_PRELOAD"] != "" {
		t.Errorf("Provide(uid 1001 with an entry) = %+v; want existing, USER=app, HOME=%s, no LD_PRELOAD", res, home)
	}
	if _, err := os.Lstat(f.state); !os.IsNotExist(err) {
		t.Errorf("state dir created for a uid with an entry: %v", err)
	}
}

func TestProvideNSSWrapper(t *testing.T) {
	f := newFixture(t, true)
	res, err := Provide(f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/", "LD_PRELOAD": "/lib/libfoo.so"}), quiet)
	if err != nil {
		t.Fatal(err)
	}
	env := envOf(res)
	lib := filepath.Join(f.libDir, "libnss_wrapper.so")
	home := filepath.Join(f.state, "home")
	want := map[string]string{
		"LD_PRELOAD":         "/lib/libfoo.so:" + lib,
		"NSS_WRAPPER_PASSWD": filepath.Join(f.state, "passwd"),
		"NSS_WRAPPER_GROUP":  filepath.Join(f.state, "group"),
		"HOME":               home, "USER": "default", "LOGNAME": "default",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("env %s = %q; want %q", k, env[k], v)
		}
	}
	if res.User != (User{Name: "default", UID: 1000680000, GID: 0, Home: home}) {
		t.Errorf("User = %+v", res.User)
	}
	p, err := os.ReadFile(env["NSS_WRAPPER_PASSWD"])
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := LookupUID(p, 1000680000); !ok || e.Home != home || e.Name != "default" {
		t.Errorf("generated passwd %q lacks default's entry", p)
	}
	if err := validateFile(p, validPasswd); err != nil {
		t.Errorf("generated passwd invalid: %v", err)
	}
	if fi, err := os.Stat(home); err != nil || !fi.IsDir() {
		t.Errorf("home %s not created: %v", home, err)
	}
	orig, _ := os.ReadFile(f.passwd)
	if string(orig) != imagePasswd {
		t.Errorf("the image's passwd was changed")
	}
}

func TestProvideEtcPasswd(t *testing.T) {
	f := newFixture(t, false)
	must(t, os.WriteFile(f.passwd, []byte("root:x:0:0:root:/root:/bin/bash"), 0o644)) // no final newline
	for i := 0; i < 2; i++ {
		res, err := Provide(f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"}), quiet)
		if err != nil {
			t.Fatal(err)
		}
		want := []Method{MethodEtcPasswd, MethodExisting}[i]
		if res.Method != want {
			t.Errorf("run %d: method %s; want %s", i+1, res.Method, want)
		}
	}
	got, _ := os.ReadFile(f.passwd)
	want := "root:x:0:0:root:/root:/bin/bash\ndefault:x:1000680000:0:default:" + filepath.Join(f.state, "home") + ":/bin/sh\n"
	if string(got) != want {
		t.Errorf("passwd after two runs = %q; want %q", got, want)
	}
}

func TestProvideFallbacks(t *testing.T) {
	f := newFixture(t, false)
	o := f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"})
	o.PasswdFile = filepath.Join(f.root, "ro", "passwd") // missing: neither readable nor writable
	res, err := Provide(o, quiet)
	if err != nil || res.Method != MethodEnv || envOf(res)["USER"] != "default" {
		t.Errorf("Provide(no lib, passwd not writable) = %+v, %v; want environment only", res, err)
	}

	o.Mode = config.PasswdNSSWrapper
	if _, err := Provide(o, quiet); err == nil || !strings.Contains(err.Error(), "NONROOT_PASSWD=nss-wrapper") {
		t.Errorf("Provide(nss-wrapper, no lib) err = %v; want one naming NONROOT_PASSWD", err)
	}
	o.Mode = config.PasswdEtcPasswd
	if _, err := Provide(o, quiet); err == nil || !strings.Contains(err.Error(), "NONROOT_PASSWD=etc-passwd") {
		t.Errorf("Provide(etc-passwd, not writable) err = %v; want one naming NONROOT_PASSWD", err)
	}

	// UID 0 without an entry: nothing written, even to a writable file,
	// and no STATE_DIR made for its HOME.
	o = f.options(0, config.PasswdEtcPasswd, nil)
	o.StateDir = filepath.Join(f.root, "state0")
	must(t, os.WriteFile(f.passwd, []byte("app:x:1001:0::/:/bin/sh\n"), 0o644))
	if res, err := Provide(o, quiet); err != nil || res.Method != MethodEnv {
		t.Errorf("Provide(uid 0) = %+v, %v; want environment only", res, err)
	}
	if got, _ := os.ReadFile(f.passwd); string(got) != "app:x:1001:0::/:/bin/sh\n" {
		t.Errorf("passwd written for uid 0: %q", got)
	}
	if _, err := os.Lstat(o.StateDir); !os.IsNotExist(err) {
		t.Errorf("state dir made for uid 0 (lstat: %v)", err)
	}
}

func TestProvideStateDirSymlink(t *testing.T) {
	f := newFixture(t, true)
	target := filepath.Join(f.root, "target")
	must(t, os.Mkdir(target, 0o700))
	must(t, os.Symlink(target, f.state))
	res, err := Provide(f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"}), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if res.Method == MethodNSSWrapper {
		t.Errorf("nss_wrapper used through a symlinked state dir")
	}
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Errorf("written through the symlink: %v", ents)
	}
}

func TestChooseHome(t *testing.T) {
	f := newFixture(t, false)
	writable := t.TempDir()
	entryHome := t.TempDir()
	tests := []struct {
		nonrootHome, envHome, entryHome, want string
	}{
		{"/explicit/wins", writable, entryHome, "/explicit/wins"},
		{"", writable, entryHome, writable},
		{"", "/", "", filepath.Join(f.state, "home")},
		{"", "/", entryHome, entryHome},
		{"", "", "/", filepath.Join(f.state, "home")},
		{"", "relative", "", filepath.Join(f.state, "home")},
		{"", filepath.Join(f.root, "missing"), filepath.Join(f.root, "missing"), filepath.Join(f.state, "home")},
		{"", writable + ":x", "", filepath.Join(f.state, "home")},
	}
	for _, tt := range tests {
		o := f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": tt.envHome})
		if tt.nonrootHome != "" {
			o.Home = filepath.Join(f.root, tt.nonrootHome)
			tt.want = o.Home
		}
		var sd *stateDir
		state := func() (*stateDir, error) {
			var err error
			if sd == nil {
				sd, _, err = openStateDir([]string{f.state}, os.Geteuid())
			}
			return sd, err
		}
		if got := chooseHome(o, tt.entryHome, state, quiet); got != tt.want {
			t.Errorf("chooseHome(NONROOT_HOME=%q, HOME=%q, entry home %q) = %q; want %q", o.Home, tt.envHome, tt.entryHome, got, tt.want)
		}
		sd.close()
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
