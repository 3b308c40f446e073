package identity

import (
	"bytes"
	"debug/elf"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/elfinfo"
)

// libcBuild compiles a tiny C file with cc and flags into dir/name,
// skipping when cc is missing (CI installs gcc and musl-tools).
func libcBuild(t *testing.T, dir, name, cc string, flags ...string) string {
	t.Helper()
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("needs %s (apt-get install gcc musl-tools): %v", cc, err)
	}
	src := filepath.Join(t.TempDir(), "x.c")
	must(t, os.WriteFile(src, []byte("#include <stdio.h>\nint f(void){return puts(\"x\");}\nint main(void){return f();}\n"), 0o644))
	out := filepath.Join(dir, name)
	args := append(append([]string{}, flags...), "-o", out, src)
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", cc, args, err, b)
	}
	return out
}

func TestLibAccepts(t *testing.T) {
	libcs := []elfinfo.Libc{elfinfo.Glibc, elfinfo.Musl, elfinfo.Unknown}
	want := map[elfinfo.Libc][]bool{ // by the library's libc, in libcs' order
		elfinfo.Glibc:   {true, false, true},
		elfinfo.Musl:    {false, true, false},
		elfinfo.Static:  {true, true, true},
		elfinfo.Unknown: {true, true, true},
	}
	for cmd, w := range want {
		for i, lib := range libcs {
			if got := libAccepts(cmd, lib); got != w[i] {
				t.Errorf("libAccepts(command %s, library %s) = %v; want %v", cmd, lib, got, w[i])
			}
		}
	}
}

// TestFindLibForCommand: a musl COMMAND gets the musl build or none, never
// glibc's; a glibc one never musl's; an explicit library of the wrong C
// library is an error naming the setting; a library reached twice (Debian's
// /lib is /usr/lib) is listed once.
func TestFindLibForCommand(t *testing.T) {
	root := t.TempDir()
	g, m, alias := filepath.Join(root, "g"), filepath.Join(root, "m"), filepath.Join(root, "alias")
	must(t, os.Mkdir(g, 0o755))
	must(t, os.Mkdir(m, 0o755))
	must(t, os.Symlink(g, alias))
	glibcLib := libcBuild(t, g, "libnss_wrapper.so", "gcc", "-shared", "-fPIC")
	muslLib := libcBuild(t, m, "libnss_wrapper.so", "musl-gcc", "-shared", "-fPIC")
	musl := command{path: "/app/prog", program: "/app/prog", libc: elfinfo.Musl}
	glibc := command{path: "/app/prog", program: "/app/prog", libc: elfinfo.Glibc}
	static := command{path: "/bin/busybox", program: "/bin/busybox", libc: elfinfo.Static}

	cases := []struct {
		name     string
		explicit string
		dirs     []string
		cmd      command
		want     string
	}{
		{"musl takes musl's", "", []string{g, m}, musl, muslLib},
		{"glibc takes glibc's", "", []string{m, g}, glibc, glibcLib},
		{"static takes the first", "", []string{m, g}, static, muslLib},
		{"unknown takes the first", "", []string{g, m}, command{libc: elfinfo.Unknown}, glibcLib},
	}
	for _, c := range cases {
		got, err := findLib(c.explicit, c.dirs, "amd64", c.cmd)
		if got != c.want || err != nil {
			t.Errorf("%s: findLib(%q, %v, %s) = %q, %v; want %q", c.name, c.explicit, c.dirs, c.cmd.libc, got, err, c.want)
		}
	}

	_, err := findLib("", []string{g, alias}, "amd64", musl)
	var me *LibcMismatchError
	if !errors.As(err, &me) || len(me.Skipped) != 1 || !strings.Contains(err.Error(), "built for glibc") || !strings.Contains(err.Error(), "/app/prog (musl)") {
		t.Errorf("findLib(glibc's only, twice, musl COMMAND) = %v; want one LibcMismatchError naming the glibc build once and COMMAND", err)
	}
	if _, err := findLib("", []string{root}, "amd64", musl); !errors.As(err, &me) {
		t.Errorf("findLib(nothing, musl COMMAND) = %v; want a LibcMismatchError (no musl build)", err)
	}
	if _, err := findLib(glibcLib, nil, "amd64", musl); err == nil || !strings.Contains(err.Error(), "NONROOT_NSS_WRAPPER_LIB") || !errors.As(err, &me) {
		t.Errorf("findLib(explicit glibc build, musl COMMAND) = %v; want an error naming NONROOT_NSS_WRAPPER_LIB", err)
	}
	if _, err := findLib(muslLib, nil, "amd64", glibc); err == nil || !strings.Contains(err.Error(), "NONROOT_NSS_WRAPPER_LIB") {
		t.Errorf("findLib(explicit musl build, glibc COMMAND) = %v; want an error naming NONROOT_NSS_WRAPPER_LIB", err)
	}
}

// libcFixture is a fixture whose only nss_wrapper is a real glibc build,
// with a passwd file writable or not (a symbolic link counts as not).
func libcFixture(t *testing.T, passwdWritable bool) fixture {
	t.Helper()
	f := newFixture(t, false)
	libcBuild(t, f.libDir, "libnss_wrapper.so", "gcc", "-shared", "-fPIC")
	if !passwdWritable {
		real := filepath.Join(f.root, "passwd.real")
		must(t, os.Rename(f.passwd, real))
		must(t, os.Symlink(real, f.passwd))
	}
	return f
}

func logTo(b *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// TestProvideMuslCommand: a musl COMMAND is never given glibc's library;
// with no writable passwd the warning names it and gives the fix; with a
// writable one (auto) the entry is appended; PASSWD=nss-wrapper is an
// error.
func TestProvideMuslCommand(t *testing.T) {
	bin := t.TempDir()
	prog := libcBuild(t, bin, "prog", "musl-gcc")

	f := libcFixture(t, false)
	o := f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"})
	o.GOARCH = ccGOARCH(t, f)
	o.Command = []string{prog}
	var log bytes.Buffer
	res, err := Provide(o, logTo(&log))
	if err != nil {
		t.Fatal(err)
	}
	if env := envOf(res); res.Method != MethodEnv || env["LD_PRELOAD"] != "" {
		t.Errorf("Provide(musl COMMAND, glibc build only) = %+v; want environment only, no LD_PRELOAD", res)
	}
	if s := log.String(); strings.Count(s, "level=WARN") != 1 || !strings.Contains(s, prog+" (musl)") || !strings.Contains(s, "apk add nss_wrapper") {
		t.Errorf("log:\n%s\nwant one warning naming %s (musl) and the fix", s, prog)
	}

	f = libcFixture(t, true)
	o = f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"})
	o.GOARCH = ccGOARCH(t, f)
	o.Command = []string{prog}
	res, err = Provide(o, quiet)
	if p, _ := os.ReadFile(f.passwd); err != nil || res.Method != MethodEtcPasswd || !strings.Contains(string(p), ":1000680000:") {
		t.Errorf("Provide(musl COMMAND, writable passwd) = %+v, %v, passwd %q; want appended", res, err, p)
	}

	f = libcFixture(t, true)
	o = f.options(1000680000, config.PasswdNSSWrapper, map[string]string{"HOME": "/"})
	o.GOARCH = ccGOARCH(t, f)
	o.Command = []string{prog}
	if _, err := Provide(o, quiet); err == nil || !strings.Contains(err.Error(), "no musl build") {
		t.Errorf("Provide(nss-wrapper, musl COMMAND, glibc build only) = %v; want an error saying there is no musl build", err)
	}
}

// TestProvideStaticCommand: a static COMMAND still gets nss_wrapper for
// the programs it starts, and its own entry in an already writable passwd
// file (auto only); otherwise a warning naming it.
func TestProvideStaticCommand(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "static")
	fakeELF(t, prog, elf.ET_EXEC, elf.EM_X86_64) // no program headers: no loader
	script := filepath.Join(t.TempDir(), "run.sh")
	must(t, os.WriteFile(script, []byte("#!"+prog+"\n"), 0o755))
	cases := []struct {
		name     string
		writable bool
		mode     config.PasswdMode
		appended bool
		warned   bool
	}{
		{"auto, passwd not writable", false, config.PasswdAuto, false, true},
		{"auto, passwd writable", true, config.PasswdAuto, true, false},
		{"nss-wrapper, passwd writable", true, config.PasswdNSSWrapper, false, true},
	}
	for _, c := range cases {
		f := libcFixture(t, c.writable)
		o := f.options(1000680000, c.mode, map[string]string{"HOME": "/"})
		o.GOARCH = ccGOARCH(t, f)
		o.Command = []string{script, prog}
		var log bytes.Buffer
		res, err := Provide(o, logTo(&log))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if env := envOf(res); res.Method != MethodNSSWrapper || env["LD_PRELOAD"] == "" || env["NSS_WRAPPER_PASSWD"] == "" {
			t.Errorf("%s: Provide(static COMMAND) = %+v; want nss_wrapper's variables for its children", c.name, res)
		}
		p, _ := os.ReadFile(f.passwd)
		if appended := strings.Contains(string(p), ":1000680000:"); appended != c.appended {
			t.Errorf("%s: entry appended to the passwd file: %v; want %v", c.name, appended, c.appended)
		}
		s := log.String()
		if warned := strings.Contains(s, "level=WARN") && strings.Contains(s, script+" (run by "+prog+", static) is statically linked"); warned != c.warned {
			t.Errorf("%s: warned naming the script and its program: %v; want %v\nlog:\n%s", c.name, warned, c.warned, s)
		}
		if !strings.Contains(s, "not for COMMAND itself") {
			t.Errorf("%s: the INFO line does not say nss_wrapper is not for COMMAND\nlog:\n%s", c.name, s)
		}

		in := Inspect(o)
		want := c.appended
		if in.Command == nil || in.Command.Libc != "static" || in.Command.LookupsFindEntry == nil || *in.Command.LookupsFindEntry != want || (in.Command.Problem != "") != c.warned {
			t.Errorf("%s: Inspect(static COMMAND).Command = %+v; want static, lookups_find_entry %v, problem %v", c.name, in.Command, want, c.warned)
		}
	}
}
