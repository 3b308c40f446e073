package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/setup"
)

// every NONROOT_ variable of SPEC.md's settings table.
var settings = []string{"USERNAME", "HOME", "PASSWD", "NSS_WRAPPER_LIB", "STATE_DIR", "VOLUMES", "VOLUME_CHECK",
	"TEMPLATES", "PORTS", "PORT_OFFSET", "RUN_AS", "UMASK", "SUBREAPER", "EXEC", "SIGNAL_GROUP",
	"REWRITE_SIGNALS", "GRACE_PERIOD", "REMAP_EXIT", "LOG_LEVEL", "LOG_FORMAT", "NO_NEW_PRIVS"}

// testHost is a host whose passwd file knows our uid, whose environment
// has PATH set to an empty directory, and whose state goes to a temporary
// directory. NONROOT_ variables of the test's own environment are unset.
func testHost(t *testing.T) setup.Host {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "NONROOT_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	emptyBin := filepath.Join(dir, "bin")
	state := filepath.Join(dir, "state")
	for _, d := range []string{emptyBin, state} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	uid, gid := os.Getuid(), os.Getgid()
	passwd := filepath.Join(dir, "passwd")
	group := filepath.Join(dir, "group")
	if err := os.WriteFile(passwd, []byte(fmt.Sprintf("tester:x:%d:%d:tester:%s:/bin/sh\n", uid, gid, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(group, []byte(fmt.Sprintf("testers:x:%d:\n", gid)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", emptyBin)
	t.Setenv("NONROOT_STATE_DIR", state)
	return setup.Host{
		PasswdFile: passwd,
		GroupFile:  group,
		ProcDir:    "/proc",
		Environ:    []string{"PATH=" + emptyBin, "HOME=" + dir},
		PID:        os.Getpid(),
		RootDir:    "/",
		CgroupDir:  "/sys/fs/cgroup",
	}
}

// runArgs calls run and returns its status, stdout and stderr.
func runArgs(t *testing.T, host setup.Host, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	files := make([]*os.File, 3)
	for i, name := range []string{"stdin", "stdout", "stderr"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files[i] = f
	}
	// run registers every signal when it supervises; undo it.
	defer signal.Reset()
	code := run(args, host, setup.ReadCreds(), files[0], files[1], files[2])
	read := func(f *os.File) string {
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return code, read(files[1]), read(files[2])
}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env        map[string]string
		args       []string
		want       int
		stdout     []string // substrings
		stderr     []string
		noStdout   bool
		noStderr   bool
		stdoutVars bool // stdout lists every NONROOT_ variable
	}{
		{name: "--help", args: []string{"--help"}, want: 0, stdoutVars: true, noStderr: true},
		{name: "-h", args: []string{"-h"}, want: 0, stdoutVars: true, noStderr: true},
		{name: "help subcommand", args: []string{"help"}, want: 0, stdoutVars: true, noStderr: true},
		{name: "no command", args: nil, want: 2, stderr: []string{"no COMMAND given", "--help"}, noStdout: true},
		{name: "only flags", args: []string{"--exec"}, want: 2, stderr: []string{"no COMMAND given"}, noStdout: true},
		{name: "only --", args: []string{"--"}, want: 2, stderr: []string{"no COMMAND given"}, noStdout: true},
		{name: "version", args: []string{"version"}, want: 0, stdout: []string{"nonroot-init ", "commit "}, noStderr: true},
		{name: "version after flags", args: []string{"--log-level", "debug", "version"}, want: 0, stdout: []string{"nonroot-init "}},
		{name: "unknown flag", args: []string{"--bogus", "true"}, want: 2, stderr: []string{"bogus", "--help"}, noStdout: true},
		{name: "flag without value", args: []string{"--volumes"}, want: 2, stderr: []string{"volumes"}, noStdout: true},
		{name: "bad settings from env", env: map[string]string{"NONROOT_PORT_OFFSET": "0", "NONROOT_LOG_FORMAT": "xml"},
			args: []string{"/bin/true"}, want: 2, noStdout: true,
			stderr: []string{"invalid settings, nothing was changed", "2 problems", "NONROOT_PORT_OFFSET", "NONROOT_LOG_FORMAT"}},
		{name: "bad setting from a flag", args: []string{"--volume-check", "maybe", "/bin/true"}, want: 2, noStdout: true,
			stderr: []string{"NONROOT_VOLUME_CHECK", `"maybe"`}},
		{name: "flag fixes a bad env value", env: map[string]string{"NONROOT_LOG_FORMAT": "xml"},
			args: []string{"--log-format", "text", "--", "version"}, want: 127, stderr: []string{"version"}},
		{name: "-- makes version a COMMAND", args: []string{"--", "version"}, want: 127, noStdout: true, stderr: []string{"cannot run version"}},
		{name: "-- makes help a COMMAND", args: []string{"--", "help"}, want: 127, noStdout: true, stderr: []string{"cannot run help"}},
		{name: "COMMAND not in PATH", args: []string{"no-such-command"}, want: 127, noStdout: true, stderr: []string{"no-such-command"}},
		{name: "COMMAND path missing", args: []string{"/nonexistent/cmd"}, want: 127, noStdout: true, stderr: []string{"/nonexistent/cmd"}},
		{name: "COMMAND is a directory", args: []string{"/"}, want: 126, noStdout: true},
		{name: "doctor with an argument", args: []string{"doctor", "extra"}, want: 2, stderr: []string{"unexpected argument"}},
		{name: "fix-permissions without PATH", args: []string{"fix-permissions"}, want: 2, stderr: []string{"no PATH given"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := testHost(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := runArgs(t, host, tc.args...)
			if code != tc.want {
				t.Errorf("run(%q) = %d, want %d\nstdout: %s\nstderr: %s", tc.args, code, tc.want, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("run(%q): stdout %q does not contain %q", tc.args, stdout, s)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("run(%q): stderr %q does not contain %q", tc.args, stderr, s)
				}
			}
			if tc.noStdout && stdout != "" {
				t.Errorf("run(%q): stdout %q, want nothing", tc.args, stdout)
			}
			if tc.noStderr && stderr != "" {
				t.Errorf("run(%q): stderr %q, want nothing", tc.args, stderr)
			}
			if tc.stdoutVars {
				for _, v := range settings {
					if !strings.Contains(stdout, "NONROOT_"+v+" ") {
						t.Errorf("run(%q): usage does not list NONROOT_%s:\n%s", tc.args, v, stdout)
					}
					flagName := "--" + strings.ToLower(strings.ReplaceAll(v, "_", "-")) + " "
					if !strings.Contains(stdout, flagName) {
						t.Errorf("run(%q): usage does not list %s:\n%s", tc.args, flagName, stdout)
					}
				}
			}
		})
	}
}

// Bad settings change nothing: the state directory stays empty.
func TestRunBadSettingsChangeNothing(t *testing.T) {
	host := testHost(t)
	state := os.Getenv("NONROOT_STATE_DIR")
	t.Setenv("NONROOT_PASSWD", "nss-wrapper")
	t.Setenv("NONROOT_UMASK", "9")
	code, _, stderr := runArgs(t, host, "--", "version")
	if code != 2 {
		t.Errorf("run with NONROOT_UMASK=9: %d, want 2; stderr: %s", code, stderr)
	}
	entries, err := os.ReadDir(state)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("state dir %s has %d entries after a usage error, want none", state, len(entries))
	}
}

// A real COMMAND runs and its status comes back through REMAP_EXIT.
func TestRunCommandStatus(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skipf("no /bin/sh: %v", err)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want int
	}{
		{[]string{"/bin/sh", "-c", "exit 3"}, nil, 3},
		{[]string{"--", "/bin/sh", "-c", "kill -KILL $$"}, nil, 137},
		{[]string{"--remap-exit", "3:0", "/bin/sh", "-c", "exit 3"}, nil, 0},
		{[]string{"/bin/sh", "-c", "exit 143"}, map[string]string{"NONROOT_REMAP_EXIT": "143:0,1:2"}, 0},
	} {
		host := testHost(t)
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		code, _, stderr := runArgs(t, host, tc.args...)
		if code != tc.want {
			t.Errorf("run(%q) env %v = %d, want %d; stderr: %s", tc.args, tc.env, code, tc.want, stderr)
		}
	}
}
