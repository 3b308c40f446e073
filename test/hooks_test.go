package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// hookDir makes a hook directory any UID can read, with each name's
// script as an executable #!/bin/sh file.
func hookDir(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := filepath.Join(harness.SharedDir(t), "hooks.d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, script := range scripts {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// hookEnv returns opts with env added.
func hookEnv(opts harness.Opts, env ...string) harness.Opts {
	opts.Env = append(append([]string(nil), opts.Env...), env...)
	return opts
}

func TestHooksRunInOrderAcrossDirectories(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			out := filepath.Join(harness.SharedDir(t), "order")
			a := hookDir(t, map[string]string{
				"2-b":  "echo a/2-b >> " + out,
				"10-a": "echo a/10-a >> " + out,
				"B":    "echo a/B >> " + out,
			})
			b := hookDir(t, map[string]string{"01-first-name": "echo b/01 >> " + out})
			r := harness.Run(t, timeout, hookEnv(m.opts, "NONROOT_HOOKS="+a+","+b), "sh", "-c", "echo COMMAND >> "+out+"; cat "+out)
			want := "a/10-a\na/2-b\na/B\nb/01\nCOMMAND\n"
			if r.Code != 0 || r.Stdout != want {
				t.Fatalf("exit %d, stdout %q; want 0 and %q\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
			}
			for _, h := range []string{filepath.Join(a, "10-a"), filepath.Join(b, "01-first-name")} {
				if !strings.Contains(r.Stderr, "running hook") || !strings.Contains(r.Stderr, "hook finished") || !strings.Contains(r.Stderr, h) {
					t.Errorf("stderr does not log the start and end of %s: %s", h, r.Stderr)
				}
			}
		})
	}
}

func TestHooksSeeCommandsEnvironmentAndUser(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			wd := harness.SharedDir(t)
			report := `echo "uid=$(id -u) gid=$(id -g) home=$HOME user=$USER port=$HTTP_PORT pwd=$(pwd) umask=$(umask) extra=$EXTRA"`
			out := filepath.Join(harness.SharedDir(t), "hook")
			dir := hookDir(t, map[string]string{"report": report + " > " + out})
			opts := hookEnv(m.opts, "NONROOT_HOOKS="+dir, "NONROOT_PORTS=HTTP_PORT=80", "NONROOT_UMASK=0027", "EXTRA=from-image")
			opts.Dir = wd
			r := harness.Run(t, timeout, opts, "sh", "-c", report)
			hook, err := os.ReadFile(out)
			if r.Code != 0 || err != nil {
				t.Fatalf("exit %d, hook output %v; want 0\nstderr: %s", r.Code, err, r.Stderr)
			}
			if string(hook) != r.Stdout {
				t.Fatalf("hook saw %q;\nCOMMAND saw %q; want the same user, environment, directory and umask", hook, r.Stdout)
			}
			for _, want := range []string{"pwd=" + wd + " ", "umask=0027", "extra=from-image", "home=/", "user="} {
				if !strings.Contains(string(hook), want) {
					t.Errorf("hook saw %q; want %q in it", hook, want)
				}
			}
			if m.opts.UID == harness.OpenShiftUID {
				for _, want := range []string{"uid=1000680000 gid=0 ", "user=default ", "port=8080 "} {
					if !strings.Contains(string(hook), want) {
						t.Errorf("hook saw %q; want %q in it (the generated identity, the resolved port)", hook, want)
					}
				}
			}
		})
	}
}

func TestHookFailureStopsTheStart(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			marks := harness.SharedDir(t)
			dir := hookDir(t, map[string]string{
				"10-ok":    "touch " + marks + "/10",
				"20-fails": "echo migration failed >&2; exit 3",
				"30-later": "touch " + marks + "/30",
			})
			r := harness.Run(t, timeout, hookEnv(m.opts, "NONROOT_HOOKS="+dir), "sh", "-c", "touch "+marks+"/command")
			if r.Code != 78 {
				t.Fatalf("exit %d; want 78\nstderr: %s", r.Code, r.Stderr)
			}
			if want := filepath.Join(dir, "20-fails") + " exited with status 3"; !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, "migration failed") {
				t.Errorf("stderr does not say %q (with the hook's own stderr): %s", want, r.Stderr)
			}
			for name, ran := range map[string]bool{"10": true, "30": false, "command": false} {
				if _, err := os.Stat(filepath.Join(marks, name)); (err == nil) != ran {
					t.Errorf("%s ran: %v; want %v", name, err == nil, ran)
				}
			}
		})
	}
}

func TestHookKilledBySignal(t *testing.T) {
	marks := harness.SharedDir(t)
	dir := hookDir(t, map[string]string{"killed": "kill -KILL $$"})
	r := harness.Run(t, timeout, harness.Opts{PID1: true, UID: harness.OpenShiftUID, Env: []string{"NONROOT_HOOKS=" + dir}}, "sh", "-c", "touch "+marks+"/command")
	if want := filepath.Join(dir, "killed") + " killed by signal SIGKILL"; r.Code != 78 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("exit %d; want 78 and %q in stderr: %s", r.Code, want, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(marks, "command")); err == nil {
		t.Error("COMMAND ran after a hook was killed")
	}
}

func TestHookTimeout(t *testing.T) {
	marks := harness.SharedDir(t)
	// The hook ignores SIGTERM and its child (started before the trap, so
	// it does not inherit the ignored disposition) does not: SIGTERM goes to
	// the hook's process group, SIGKILL follows after GRACE_PERIOD.
	dir := hookDir(t, map[string]string{"slow": "sh -c 'trap \"touch " + marks + "/child-term; exit 0\" TERM; while :; do sleep 0.05; done' & trap '' TERM; while :; do sleep 0.05; done"})
	env := []string{"NONROOT_HOOKS=" + dir, "NONROOT_HOOK_TIMEOUT=1s", "NONROOT_GRACE_PERIOD=1s"}
	r := harness.Run(t, time.Minute, harness.Opts{PID1: true, UID: harness.OpenShiftUID, Env: env}, "sh", "-c", "touch "+marks+"/command")
	if want := filepath.Join(dir, "slow") + " outlived NONROOT_HOOK_TIMEOUT (1s) and was killed"; r.Code != 78 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("exit %d; want 78 and %q in stderr: %s", r.Code, want, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(marks, "child-term")); err != nil {
		t.Errorf("the hook's child did not get SIGTERM (the group is signalled): %v", err)
	}
	if _, err := os.Stat(filepath.Join(marks, "command")); err == nil {
		t.Error("COMMAND ran after a hook timed out")
	}
}

func TestHookOrphansReaped(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			// Orphans that exit while the hook runs are reaped by the
			// hook's loop (the hook checks itself); one the hook leaves
			// running is reaped once it exits while COMMAND runs.
			dir := hookDir(t, map[string]string{
				"10-orphans": harness.Child(t) + " orphans 200 && " + zombieCheck + " | sed s/^/hook-/",
				"20-leaves":  "(sleep 0.5; exit 0) > /dev/null 2>&1 &",
			})
			r := harness.Run(t, 2*time.Minute, hookEnv(m.opts, "NONROOT_HOOKS="+dir), "sh", "-c", "sleep 1.5; "+zombieCheck)
			if r.Code != 0 || !strings.Contains(r.Stdout, "hook-zombies=0") || !strings.Contains(r.Stdout, "\nzombies=0") {
				t.Fatalf("exit %d, stdout %q; want 0, hook-zombies=0 and zombies=0\nstderr: %s", r.Code, r.Stdout, r.Stderr)
			}
		})
	}
}

func TestSigtermDuringHook(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			marks := harness.SharedDir(t)
			dir := hookDir(t, map[string]string{
				"10-waits": "trap 'echo hook-got-TERM; exit 0' TERM; echo hook-ready; while :; do sleep 0.05; done",
				"20-later": "touch " + marks + "/later",
			})
			p := harness.Start(t, hookEnv(m.opts, "NONROOT_HOOKS="+dir), "sh", "-c", "touch "+marks+"/command")
			p.Expect(t, timeout, "hook-ready")
			p.Signal(t, syscall.SIGTERM)
			r := p.Wait(t, timeout)
			if r.Code != 143 || !strings.Contains(r.Stdout, "hook-got-TERM") {
				t.Fatalf("exit %d, stdout %q; want 143 and the hook to get SIGTERM\nstderr: %s", r.Code, r.Stdout, r.Stderr)
			}
			for _, name := range []string{"later", "command"} {
				if _, err := os.Stat(filepath.Join(marks, name)); err == nil {
					t.Errorf("%s ran after SIGTERM", name)
				}
			}
		})
	}
}

func TestHookReadsRenderedTemplate(t *testing.T) {
	src, dst := harness.SharedDir(t), filepath.Join(harness.SharedDir(t), "conf")
	if err := os.WriteFile(filepath.Join(src, "app.conf.tmpl"), []byte(`listen {{ port "HTTP_PORT" }} as {{ .User.Name }}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := hookDir(t, map[string]string{"check": "cat " + dst + "/app.conf; echo"})
	env := []string{"NONROOT_HOOKS=" + dir, "NONROOT_TEMPLATES=" + src + ":" + dst, "NONROOT_PORTS=HTTP_PORT=80"}
	r := harness.Run(t, timeout, harness.Opts{PID1: true, UID: harness.OpenShiftUID, Env: env}, "true")
	if want := "listen 8080 as default\n"; r.Code != 0 || r.Stdout != want {
		t.Fatalf("exit %d, stdout %q; want 0 and %q (templates are rendered before the hooks)\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
	}
}

func TestHooksSkipNonExecutableAndDotFiles(t *testing.T) {
	marks := harness.SharedDir(t)
	dir := hookDir(t, map[string]string{
		".hidden": "touch " + marks + "/hidden",
		"run":     "touch " + marks + "/run",
	})
	// Executable by its owner (root) only: not by UID 1000680000, which
	// the effective-ID check must see (the file has x bits).
	plain := filepath.Join(dir, "owner-only")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\ntouch "+marks+"/owner-only\n"), 0o744); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(plain, 0o744); err != nil {
		t.Fatal(err)
	}
	r := harness.Run(t, timeout, harness.Opts{PID1: true, UID: harness.OpenShiftUID, Env: []string{"NONROOT_HOOKS=" + dir}}, "true")
	if r.Code != 0 {
		t.Fatalf("exit %d; want 0\nstderr: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "level=WARN") || !strings.Contains(r.Stderr, "hook skipped") || !strings.Contains(r.Stderr, plain) || !strings.Contains(r.Stderr, "not executable by uid 1000680000") {
		t.Errorf("stderr does not warn that %s is skipped as not executable: %s", plain, r.Stderr)
	}
	if strings.Contains(r.Stderr, ".hidden") {
		t.Errorf("stderr mentions the dot-file: %s", r.Stderr)
	}
	for name, ran := range map[string]bool{"run": true, "hidden": false, "owner-only": false} {
		if _, err := os.Stat(filepath.Join(marks, name)); (err == nil) != ran {
			t.Errorf("%s ran: %v; want %v", name, err == nil, ran)
		}
	}
}

func TestHooksMissingDirectory(t *testing.T) {
	missing := filepath.Join(harness.SharedDir(t), "docker-entrypoint.d")
	marks := harness.SharedDir(t)
	r := harness.Run(t, timeout, harness.Opts{PID1: true, UID: harness.OpenShiftUID, Env: []string{"NONROOT_HOOKS=" + missing}}, "sh", "-c", "touch "+marks+"/command")
	if r.Code != 78 || !strings.Contains(r.Stderr, missing) {
		t.Fatalf("exit %d; want 78 and %s named in stderr: %s", r.Code, missing, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(marks, "command")); err == nil {
		t.Error("COMMAND ran with a missing hook directory")
	}
}

func TestHooksRunBeforeExec(t *testing.T) {
	dir := hookDir(t, map[string]string{"pid": "echo hook-pid=$$"})
	r := harness.Run(t, timeout, harness.Opts{PID1: true, UID: harness.OpenShiftUID, Env: []string{"NONROOT_HOOKS=" + dir, "NONROOT_EXEC=true"}}, "sh", "-c", "echo command-pid=$$")
	if r.Code != 0 || !strings.Contains(r.Stdout, "command-pid=1\n") || !strings.Contains(r.Stdout, "hook-pid=") || strings.Contains(r.Stdout, "hook-pid=1\n") {
		t.Fatalf("exit %d, stdout %q; want the hook run as a child, then COMMAND exec'd as pid 1\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
}

func TestHooksGetCommandsPrivileges(t *testing.T) {
	// Started as root with RUN_AS and a port below 1024: the hook runs as
	// the target user with no_new_privs and the ambient
	// CAP_NET_BIND_SERVICE, exactly as COMMAND does.
	report := `grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapAmb|CapBnd|NoNewPrivs):' /proc/self/status`
	out := filepath.Join(harness.SharedDir(t), "hook")
	dir := hookDir(t, map[string]string{"report": report + " > " + out})
	env := []string{"NONROOT_HOOKS=" + dir, "NONROOT_RUN_AS=1000680000:0", "NONROOT_PORTS=HTTP_PORT=80"}
	r := harness.Run(t, timeout, harness.Opts{PID1: true, Env: env}, "sh", "-c", report)
	hook, err := os.ReadFile(out)
	if r.Code != 0 || err != nil {
		t.Fatalf("exit %d, hook output %v; want 0\nstderr: %s", r.Code, err, r.Stderr)
	}
	if string(hook) != r.Stdout {
		t.Fatalf("hook:\n%s\nCOMMAND:\n%s\nwant the same IDs, capabilities and no_new_privs", hook, r.Stdout)
	}
	for _, want := range []string{"Uid:\t1000680000", "NoNewPrivs:\t1", "CapAmb:\t0000000000000400"} {
		if !strings.Contains(string(hook), want) {
			t.Errorf("hook's status %q lacks %q", hook, want)
		}
	}
}

// TestHookGetsTerminal runs the init on a pseudo-terminal (script from
// util-linux): the hook's process group, then COMMAND's, must each be
// the terminal's foreground group.
func TestHookGetsTerminal(t *testing.T) {
	harness.NeedTool(t, "script")
	report := `echo "$0 $(cut -d' ' -f5,8 /proc/self/stat)"`
	dir := hookDir(t, map[string]string{"hook": report})
	command := filepath.Join(hookDir(t, map[string]string{"command": report}), "command")
	inner := harness.Init(t) + " -- " + command
	cmd := exec.Command("script", "-qec", inner, "/dev/null")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NONROOT_LOG_LEVEL=error", "NONROOT_HOOKS=" + dir}
	r := harness.Wait(t, timeout, cmd)
	seen := map[string]bool{}
	for _, line := range strings.Split(r.Stdout, "\n") {
		var who string
		var pgrp, tpgid int
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "%s %d %d", &who, &pgrp, &tpgid); err == nil && (filepath.Base(who) == "hook" || filepath.Base(who) == "command") {
			if pgrp == 0 || pgrp != tpgid {
				t.Errorf("%s: group %d, terminal's foreground group %d; want equal", who, pgrp, tpgid)
			}
			seen[filepath.Base(who)] = true
		}
	}
	if r.Code != 0 || !seen["hook"] || !seen["command"] {
		t.Fatalf("exit %d, output %q; want a line from the hook and from COMMAND", r.Code, r.Stdout)
	}
}

// TestHookCtrlCOnTerminal: Ctrl-C typed on the terminal while a hook
// runs reaches the hook's group (the foreground), not the init: the hook
// dies of SIGINT, which SPEC.md step 8 makes a failed hook, exit 78
// naming it and its status; COMMAND does not run.
func TestHookCtrlCOnTerminal(t *testing.T) {
	harness.NeedTool(t, "script")
	ready := filepath.Join(harness.SharedDir(t), "ready")
	dir := hookDir(t, map[string]string{"hook": "touch " + ready + "; sleep 60"})
	inner := harness.Init(t) + " -- /bin/sh -c 'echo command ran'"
	cmd := exec.Command("script", "-qec", inner, "/dev/null")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NONROOT_HOOKS=" + dir}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer stdin.Close()
		for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(ready); err == nil {
				_, _ = stdin.Write([]byte{3}) // ^C
				time.Sleep(5 * time.Second)   // script ends at EOF on stdin
				return
			}
		}
	}()
	r := harness.Wait(t, timeout, cmd)
	// script(1) puts the init's stderr on the terminal too: its lines
	// are in Stdout.
	if r.Code != 78 || strings.Contains(r.Stdout, "command ran") || !strings.Contains(r.Stdout, "killed by signal SIGINT") {
		t.Fatalf("exit %d; want 78 naming the hook killed by SIGINT, COMMAND not run\noutput: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
}
