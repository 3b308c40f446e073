package test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// Tests of issue #11, COMMAND's C library: a musl program is never given
// glibc's nss_wrapper, a static one is told it gets nothing (or served by
// a writable /etc/passwd), a glibc one still gets nss_wrapper; doctor --
// COMMAND says which.

// appsGetpwSrc prints the name getpwuid(getuid()) returns, or "none".
const appsGetpwSrc = `#include <pwd.h>
#include <stdio.h>
#include <unistd.h>
int main(void) { struct passwd *p = getpwuid(getuid()); puts(p ? p->pw_name : "none"); return 0; }
`

// appsBuildGetpw compiles appsGetpwSrc with cc and flags into a directory
// the test's UID can read, skipping when cc is missing.
func appsBuildGetpw(t *testing.T, name, cc string, flags ...string) string {
	t.Helper()
	harness.NeedTool(t, cc)
	dir := harness.SharedDir(t)
	src := filepath.Join(dir, "getpw.c")
	if err := os.WriteFile(src, []byte(appsGetpwSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	args := append(append([]string{}, flags...), "-o", out, src)
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", cc, strings.Join(args, " "), err, b)
	}
	if err := os.Chmod(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// appsGroupWritable makes the namespace's /etc/passwd copy writable by
// group 0, as some images ship it for OpenShift.
const appsGroupWritable = `chgrp 0 /etc/passwd; chmod g+w /etc/passwd`

// TestAppsLibcMusl: a musl program that calls getpwuid starts and runs
// (glibc's nss_wrapper used to be preloaded into it: the musl loader
// refused it and the init exited 127), and the log warns naming it; with
// a group-writable /etc/passwd (auto) the entry is appended and served.
func TestAppsLibcMusl(t *testing.T) {
	idNeedLib(t)
	prog := appsBuildGetpw(t, "getpw-musl", "musl-gcc")

	r := trustIDEtcRun(t, 0, "", nil, "--", prog)
	if r.Code != 0 || r.Stdout != "none\n" {
		t.Errorf("musl program, no entry: exit %d, stdout %q; want 0, \"none\"\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "level=WARN") || !strings.Contains(r.Stderr, prog+" (musl)") || !strings.Contains(r.Stderr, "will fail") || !strings.Contains(r.Stderr, "apk add nss_wrapper") {
		t.Errorf("musl program, no entry: the log does not warn naming %s, that its lookups will fail, and the fix\nstderr: %s", prog, r.Stderr)
	}
	if strings.Contains(r.Stderr, "provided through nss_wrapper") {
		t.Errorf("musl program: the log says nss_wrapper was provided\nstderr: %s", r.Stderr)
	}

	r = trustIDEtcRun(t, 0, appsGroupWritable, nil, "--", prog)
	if r.Code != 0 || r.Stdout != "default\n" {
		t.Errorf("musl program, writable /etc/passwd: exit %d, stdout %q; want 0, \"default\"\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestAppsLibcStatic: a `gcc -static` and a `musl-gcc -static` program
// get the warning (the log used to say the entry was provided through
// nss_wrapper); the musl one runs and finds no entry (the glibc one
// crashes by itself here: its getpwuid of an unknown UID dlopens the
// nsswitch.conf modules, which a static glibc program cannot load). A
// busybox sh started by the init still passes nss_wrapper to the
// dynamically linked whoami it runs.
func TestAppsLibcStatic(t *testing.T) {
	lib := idNeedLib(t)
	for _, cc := range []string{"gcc", "musl-gcc"} {
		prog := appsBuildGetpw(t, "getpw-static-"+cc, cc, "-static")
		r := trustIDEtcRun(t, 0, "", nil, "--", prog)
		if cc == "musl-gcc" && (r.Code != 0 || r.Stdout != "none\n") {
			t.Errorf("static musl program, no entry: exit %d, stdout %q; want 0, \"none\"\nstderr: %s", r.Code, r.Stdout, r.Stderr)
		}
		appsWantStaticWarning(t, prog, r)
	}

	harness.NeedTool(t, "busybox")
	whoami, err := exec.LookPath("whoami")
	if err != nil {
		t.Skipf("needs coreutils' whoami: %v", err)
	}
	busybox, _ := exec.LookPath("busybox")
	r := trustIDEtcRun(t, 0, "", nil, "--", busybox, "sh", "-c", whoami+`; echo "LD_PRELOAD=$LD_PRELOAD"`)
	if r.Code != 0 || r.Stdout != "default\nLD_PRELOAD="+lib+"\n" {
		t.Errorf("static busybox sh -c whoami: exit %d, stdout %q; want 0, default and LD_PRELOAD=%s\nstderr: %s", r.Code, r.Stdout, lib, r.Stderr)
	}
	appsWantStaticWarning(t, busybox, r)
}

// appsWantStaticWarning checks that the log of r warns that the static
// prog's own lookups fail, with the fix, and says nss_wrapper is not for it.
func appsWantStaticWarning(t *testing.T, prog string, r harness.Result) {
	t.Helper()
	if !strings.Contains(r.Stderr, "level=WARN") || !strings.Contains(r.Stderr, prog+" (static) is statically linked") || !strings.Contains(r.Stderr, "chmod g+w /etc/passwd") {
		t.Errorf("static program: the log does not warn naming %s with the fix\nstderr: %s", prog, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "not for COMMAND itself") {
		t.Errorf("static program: the INFO line does not say nss_wrapper is not for COMMAND\nstderr: %s", r.Stderr)
	}
}

// TestAppsLibcStaticWritablePasswd: with a group-writable /etc/passwd
// (auto mode), busybox-static whoami prints the login name: the entry is
// appended there besides nss_wrapper.
func TestAppsLibcStaticWritablePasswd(t *testing.T) {
	idNeedLib(t)
	harness.NeedTool(t, "busybox")
	busybox, _ := exec.LookPath("busybox")
	r := trustIDEtcRun(t, 0, appsGroupWritable, nil, "--", busybox, "whoami")
	if r.Code != 0 || r.Stdout != "default\n" {
		t.Errorf("busybox whoami, writable /etc/passwd: exit %d, stdout %q; want 0, \"default\"\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if strings.Contains(r.Stderr, "level=WARN") {
		t.Errorf("busybox whoami, writable /etc/passwd: a warning, though its lookups are served\nstderr: %s", r.Stderr)
	}
}

// TestAppsLibcGlibc: a glibc dynamic program still gets nss_wrapper.
func TestAppsLibcGlibc(t *testing.T) {
	idNeedLib(t)
	prog := appsBuildGetpw(t, "getpw-glibc", "gcc")
	r := trustIDEtcRun(t, 0, "", nil, "--", prog)
	if r.Code != 0 || r.Stdout != "default\n" {
		t.Errorf("glibc program: exit %d, stdout %q; want 0, \"default\"\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "provided through nss_wrapper for COMMAND") || !strings.Contains(r.Stderr, "libc=glibc") {
		t.Errorf("glibc program: the INFO line does not say nss_wrapper is for COMMAND (glibc)\nstderr: %s", r.Stderr)
	}
}

// TestAppsLibcDoctor: `doctor -- COMMAND` says COMMAND's C library and
// whether its lookups will find the entry, in text and JSON; a script is
// judged by its #! interpreter.
func TestAppsLibcDoctor(t *testing.T) {
	idNeedLib(t)
	musl := appsBuildGetpw(t, "getpw-musl", "musl-gcc")
	glibc := appsBuildGetpw(t, "getpw-glibc", "gcc")
	static := appsBuildGetpw(t, "getpw-static", "musl-gcc", "-static")
	script := filepath.Join(harness.SharedDir(t), "run.sh")
	if err := os.WriteFile(script, []byte("#!"+musl+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prog, libc string
		finds      bool
		problem    bool
	}{
		{glibc, "glibc", true, false},
		{musl, "musl", false, true},
		{static, "static", false, true},
		{script, "musl", false, true},
	} {
		r := trustIDEtcRun(t, 0, "", nil, "doctor", "--json", "--", tc.prog, "arg")
		var rep struct {
			Identity struct {
				Command *struct {
					Path, Program, Libc string
					LookupsFindEntry    *bool `json:"lookups_find_entry"`
				}
			}
		}
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			t.Fatalf("doctor --json -- %s: %v\nstdout: %s\nstderr: %s", tc.prog, err, r.Stdout, r.Stderr)
		}
		c := rep.Identity.Command
		if c == nil || c.Path != tc.prog || c.Libc != tc.libc || c.LookupsFindEntry == nil || *c.LookupsFindEntry != tc.finds {
			t.Errorf("doctor --json -- %s: identity.command = %+v; want path %s, libc %s, lookups_find_entry %v\nstdout: %s", tc.prog, c, tc.prog, tc.libc, tc.finds, r.Stdout)
		}
		if wantCode := map[bool]int{false: 0, true: 1}[tc.problem]; r.Code != wantCode {
			t.Errorf("doctor --json -- %s: exit %d; want %d\nstdout: %s", tc.prog, r.Code, wantCode, r.Stdout)
		}
		r = trustIDEtcRun(t, 0, "", nil, "doctor", "--", tc.prog)
		if !strings.Contains(r.Stdout, "command libc:") || !strings.Contains(r.Stdout, tc.libc) {
			t.Errorf("doctor -- %s: the text report does not give the C library %s\nstdout: %s", tc.prog, tc.libc, r.Stdout)
		}
	}
	r := trustIDEtcRun(t, 0, "", nil, "doctor", "--json")
	if strings.Contains(r.Stdout, `"command": {`) {
		t.Errorf("doctor --json without COMMAND has a command object\nstdout: %s", r.Stdout)
	}
}
