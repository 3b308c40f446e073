// Package test holds the integration tests: they build the real
// nonroot-init binary and run it as PID 1 of a fresh PID namespace and as
// an arbitrary UID with GID 0.
package test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

const timeout = 30 * time.Second

// modes are the two ways every supervision test runs: as PID 1 of a new
// PID namespace as root, and as PID 1 as OpenShift's arbitrary UID with
// GID 0 and no passwd entry.
var modes = []struct {
	name string
	opts harness.Opts
}{
	{"pid1-root", harness.Opts{PID1: true}},
	{"pid1-uid1000680000", harness.Opts{PID1: true, UID: harness.OpenShiftUID, GID: 0}},
}

func TestExitStatus(t *testing.T) {
	cases := []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 1", 1},
		{"exit 3", 3},
		{"exit 255", 255},
		{"kill -KILL $$", 128 + 9},
		{"kill -SEGV $$", 128 + 11},
	}
	for _, m := range modes {
		for _, c := range cases {
			t.Run(m.name+"/"+c.script, func(t *testing.T) {
				r := harness.Run(t, timeout, m.opts, "sh", "-c", c.script)
				if r.Code != c.want {
					t.Fatalf("sh -c %q: exit %d; want %d; stderr: %s", c.script, r.Code, c.want, r.Stderr)
				}
			})
		}
	}
}

func TestExecFailures(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(dir, "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		argv     []string
		want     int
		wantText string
	}{
		{[]string{"no-such-command-xyz"}, 127, "no-such-command-xyz"},
		{[]string{"/no/such/path"}, 127, "/no/such/path"},
		{[]string{notExec}, 126, notExec},
		{[]string{dir}, 126, dir},
	}
	for _, m := range modes {
		for _, c := range cases {
			t.Run(m.name+"/"+c.argv[0], func(t *testing.T) {
				r := harness.Run(t, timeout, m.opts, c.argv...)
				if r.Code != c.want || !strings.Contains(r.Stderr, c.wantText) {
					t.Fatalf("%v: exit %d, stderr %q; want %d naming %q", c.argv, r.Code, r.Stderr, c.want, c.wantText)
				}
			})
		}
	}
}

// startSignals starts testchild in signals mode, which prints each
// signal it gets; PWR makes it exit 0.
func startSignals(t *testing.T, opts harness.Opts, env ...string) *harness.Proc {
	opts.Env = append(opts.Env, env...)
	p := harness.Start(t, opts, harness.Child(t), "signals", "PWR")
	p.Expect(t, timeout, "ready")
	return p
}

func TestSignalsForwarded(t *testing.T) {
	sigs := []syscall.Signal{
		syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGCONT,
		syscall.SIGALRM, syscall.SIGSYS, syscall.SIGPIPE, syscall.Signal(35), syscall.Signal(64),
	}
	// SIGPROF and 32 to 34 are left out: the Go runtime keeps them (see
	// supervisor.NotifyAll), in the init and in this Go test child alike.
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			p := startSignals(t, m.opts)
			for _, s := range sigs {
				p.Signal(t, s)
				want := sigName(s)
				if got := p.ReadLine(t, timeout); got != want {
					t.Fatalf("sent %s to the init; child got %q; want %q", want, got, want)
				}
			}
			p.Signal(t, syscall.SIGPWR)
			if r := p.Wait(t, timeout); r.Code != 0 {
				t.Fatalf("exit %d; want 0; stderr: %s", r.Code, r.Stderr)
			}
		})
	}
}

func sigName(s syscall.Signal) string {
	if s >= 34 {
		return "SIG" + strconv.Itoa(int(s))
	}
	names := map[syscall.Signal]string{
		syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT", syscall.SIGHUP: "SIGHUP",
		syscall.SIGQUIT: "SIGQUIT", syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2",
		syscall.SIGWINCH: "SIGWINCH", syscall.SIGCONT: "SIGCONT", syscall.SIGPROF: "SIGPROF",
		syscall.SIGALRM: "SIGALRM", syscall.SIGTSTP: "SIGTSTP", syscall.SIGTTIN: "SIGTTIN",
		syscall.SIGTTOU: "SIGTTOU", syscall.SIGSYS: "SIGSYS", syscall.SIGPIPE: "SIGPIPE",
	}
	return names[s]
}

func TestRewriteSignals(t *testing.T) {
	p := startSignals(t, harness.Opts{PID1: true}, "NONROOT_REWRITE_SIGNALS=TERM:QUIT,USR1:USR2")
	p.Signal(t, syscall.SIGTERM)
	if got := p.ReadLine(t, timeout); got != "SIGQUIT" {
		t.Fatalf("TERM with TERM:QUIT: child got %q; want SIGQUIT", got)
	}
	p.Signal(t, syscall.SIGUSR1)
	if got := p.ReadLine(t, timeout); got != "SIGUSR2" {
		t.Fatalf("USR1 with USR1:USR2: child got %q; want SIGUSR2", got)
	}
	p.Signal(t, syscall.SIGHUP)
	if got := p.ReadLine(t, timeout); got != "SIGHUP" {
		t.Fatalf("HUP, not rewritten: child got %q; want SIGHUP", got)
	}
	p.Signal(t, syscall.SIGPWR)
	if r := p.Wait(t, timeout); r.Code != 0 {
		t.Fatalf("exit %d; want 0", r.Code)
	}
}

// TestSignalGroup checks that with SIGNAL_GROUP a grandchild in COMMAND's
// process group gets the signal, and without it only COMMAND does.
func TestSignalGroup(t *testing.T) {
	for _, group := range []bool{true, false} {
		t.Run(fmt.Sprintf("group=%v", group), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "grandchild")
			// sh starts the grandchild in the background (same process
			// group), then waits for it; sh itself ignores USR1 so that
			// only the grandchild's reaction shows.
			script := fmt.Sprintf(`trap '' USR1; %s signals USR1 > %s & echo started; wait; echo done`, harness.Child(t), out)
			p := harness.Start(t, harness.Opts{PID1: true, Env: []string{"NONROOT_SIGNAL_GROUP=" + strconv.FormatBool(group)}}, "sh", "-c", script)
			p.Expect(t, timeout, "started")
			waitFile(t, out, "ready\n")
			p.Signal(t, syscall.SIGUSR1)
			if group {
				p.Expect(t, timeout, "done")
				if b, _ := os.ReadFile(out); string(b) != "ready\nSIGUSR1\n" {
					t.Fatalf("grandchild wrote %q; want ready and SIGUSR1", b)
				}
				if r := p.Wait(t, timeout); r.Code != 0 {
					t.Fatalf("exit %d", r.Code)
				}
				return
			}
			// Without the group, the grandchild must not get USR1: give
			// the init time to (wrongly) forward it, then check.
			time.Sleep(300 * time.Millisecond)
			if b, _ := os.ReadFile(out); string(b) != "ready\n" {
				t.Fatalf("grandchild wrote %q without SIGNAL_GROUP; want only ready", b)
			}
			p.Signal(t, syscall.SIGKILL)
		})
	}
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(path)
		if string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q; want %q", path, b, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIgnoredTermDoesNotKillInit(t *testing.T) {
	script := `trap '' TERM; trap 'exit 7' USR1; echo ready; while :; do sleep 0.05; done`
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			p := harness.Start(t, m.opts, "sh", "-c", script)
			p.Expect(t, timeout, "ready")
			p.Signal(t, syscall.SIGTERM)
			p.Signal(t, syscall.SIGTERM)
			p.Signal(t, syscall.SIGUSR1)
			if r := p.Wait(t, timeout); r.Code != 7 {
				t.Fatalf("exit %d; want 7 (the child's, after TERM was ignored); stderr: %s", r.Code, r.Stderr)
			}
		})
	}
}

func TestStopSignalsDoNotStopInit(t *testing.T) {
	p := startSignals(t, harness.Opts{PID1: true})
	pid := p.InitPID(t)
	for _, s := range []syscall.Signal{syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU} {
		p.Signal(t, s)
		if got := p.ReadLine(t, timeout); got != sigName(s) {
			t.Fatalf("child got %q; want %s", got, sigName(s))
		}
		st, err := harness.State(pid)
		if err != nil || st == "T" {
			t.Fatalf("init state after %s: %q, %v; want not stopped", sigName(s), st, err)
		}
	}
	p.Signal(t, syscall.SIGPWR)
	if r := p.Wait(t, timeout); r.Code != 0 {
		t.Fatalf("exit %d; want 0", r.Code)
	}
}

// TestSigurgNotForwarded sends SIGURG to the init: the Go runtime uses it
// for preemption, so it must never reach COMMAND. The first subtest
// proves the detector: the same shell does report a SIGURG sent to it.
func TestSigurgNotForwarded(t *testing.T) {
	script := `trap 'echo URG' URG; trap 'echo bye; exit 0' USR1; echo ready $$; while :; do sleep 0.02; done`
	t.Run("detector", func(t *testing.T) {
		p := harness.Start(t, harness.Opts{}, "sh", "-c", script)
		f := strings.Fields(p.ReadLine(t, timeout))
		pid, _ := strconv.Atoi(f[1])
		if err := syscall.Kill(pid, syscall.SIGURG); err != nil {
			t.Fatal(err)
		}
		p.Expect(t, timeout, "URG")
		p.Signal(t, syscall.SIGUSR1)
		p.Wait(t, timeout)
	})
	t.Run("via-init", func(t *testing.T) {
		p := harness.Start(t, harness.Opts{PID1: true}, "sh", "-c", script)
		p.ReadLine(t, timeout)
		for i := 0; i < 20; i++ {
			p.Signal(t, syscall.SIGURG)
			time.Sleep(5 * time.Millisecond)
		}
		p.Signal(t, syscall.SIGUSR1)
		r := p.Wait(t, timeout)
		if strings.Contains(r.Stdout, "URG") || !strings.Contains(r.Stdout, "bye") {
			t.Fatalf("child printed %q; want bye and no URG", r.Stdout)
		}
	})
}

func TestSignalStorm(t *testing.T) {
	p := startSignals(t, harness.Opts{PID1: true, UID: harness.OpenShiftUID})
	pid := p.InitPID(t)
	storm := []syscall.Signal{
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP, syscall.SIGWINCH,
		syscall.SIGCONT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU,
		syscall.SIGALRM, syscall.SIGPIPE, syscall.SIGURG, syscall.SIGCHLD,
	}
	for i := 0; i < 1000; i++ {
		if err := syscall.Kill(pid, storm[i%len(storm)]); err != nil {
			t.Fatalf("signal %d: %v", i, err)
		}
	}
	p.Signal(t, syscall.SIGPWR)
	r := p.Wait(t, timeout)
	if r.Code != 0 || !strings.HasSuffix(r.Stdout, "SIGPWR\n") {
		t.Fatalf("after 1,000 signals: exit %d, last lines %q; want 0 after SIGPWR", r.Code, tail(r.Stdout, 3))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// zombieCheck is a shell snippet that waits (bounded) until no process of
// the namespace is a zombie, then prints how many are left.
const zombieCheck = `
n=0
for i in $(seq 500); do
  n=$(cat /proc/[0-9]*/stat 2>/dev/null | awk '{ sub(/.*\) /, ""); if ($1 == "Z") z++ } END { print z+0 }')
  [ "$n" = 0 ] && break
  sleep 0.02
done
echo zombies=$n`

func TestReapsOrphansAsPID1(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			script := harness.Child(t) + " orphans 2000 && " + zombieCheck
			r := harness.Run(t, 2*time.Minute, m.opts, "sh", "-c", script)
			if r.Code != 0 || !strings.Contains(r.Stdout, "zombies=0") {
				t.Fatalf("exit %d, stdout %q; want 0 and zombies=0; stderr: %s", r.Code, r.Stdout, r.Stderr)
			}
		})
	}
}

// TestReapsOrphansAsSubreaper runs the init outside a PID namespace: it
// registers as subreaper, so COMMAND's orphans become its children and
// must be reaped by it.
func TestReapsOrphansAsSubreaper(t *testing.T) {
	// $PPID of sh is the init. Orphans reparented to it and not reaped
	// would show as zombies whose parent is the init.
	script := harness.Child(t) + ` orphans 200 && n=0
for i in $(seq 500); do
  n=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v p=$PPID '{ sub(/.*\) /, ""); if ($1 == "Z" && $2 == p) z++ } END { print z+0 }')
  [ "$n" = 0 ] && break
  sleep 0.02
done
echo zombies=$n
grep -c . /proc/$PPID/task/$PPID/children 2>/dev/null; echo children=$(cat /proc/$PPID/task/$PPID/children)`
	r := harness.Run(t, time.Minute, harness.Opts{}, "sh", "-c", script)
	if r.Code != 0 || !strings.Contains(r.Stdout, "zombies=0") {
		t.Fatalf("exit %d, stdout %q; want zombies=0", r.Code, r.Stdout)
	}
}

func TestLeftoversTerminated(t *testing.T) {
	t.Run("terminated-within-grace", func(t *testing.T) {
		// The child leaves a process behind that records the SIGTERM it
		// gets, then dies of it (default action restored, sent again).
		// With a grace period longer than the test's timeout, finishing
		// at all shows the init did not wait for SIGKILL; the record
		// shows the SIGTERM came from the init: the kernel's SIGKILL of
		// the namespace when PID 1 exits leaves none.
		mark := filepath.Join(harness.SharedDir(t), "mark")
		script := fmt.Sprintf(`sh -c 'trap "echo got-term > %s; trap - TERM; kill -TERM \$\$" TERM; echo up > %s.up; while :; do sleep 0.02; done' &
while [ ! -e %s.up ]; do sleep 0.01; done; exit 0`, mark, mark, mark)
		r := harness.Run(t, timeout, harness.Opts{PID1: true, Env: []string{"NONROOT_GRACE_PERIOD=10m"}}, "sh", "-c", script)
		b, _ := os.ReadFile(mark)
		if r.Code != 0 || string(b) != "got-term\n" {
			t.Fatalf("exit %d, mark %q; want 0 and got-term (the leftover's record of SIGTERM)", r.Code, b)
		}
	})
	t.Run("trap-term-finishes", func(t *testing.T) {
		mark := filepath.Join(harness.SharedDir(t), "mark")
		script := fmt.Sprintf(`sh -c 'trap "echo got-term > %s; exit 0" TERM; echo up > %s.up; while :; do sleep 0.02; done' &
while [ ! -e %s.up ]; do sleep 0.01; done; exit 5`, mark, mark, mark)
		r := harness.Run(t, timeout, harness.Opts{PID1: true, UID: harness.OpenShiftUID, Env: []string{"NONROOT_GRACE_PERIOD=10m"}}, "sh", "-c", script)
		b, _ := os.ReadFile(mark)
		if r.Code != 5 || string(b) != "got-term\n" {
			t.Fatalf("exit %d, mark %q; want 5 and got-term", r.Code, b)
		}
	})
	t.Run("stopped-leftover-gets-term", func(t *testing.T) {
		// A leftover stopped with SIGSTOP still handles SIGTERM within
		// the grace period: the init follows SIGTERM with SIGCONT.
		mark := filepath.Join(harness.SharedDir(t), "mark")
		script := fmt.Sprintf(`sh -c 'trap "echo got-term > %s; exit 0" TERM; echo $$ > %s.pid; while :; do sleep 0.02; done' &
while [ ! -s %s.pid ]; do sleep 0.01; done; kill -STOP $(cat %s.pid); exit 0`, mark, mark, mark, mark)
		r := harness.Run(t, timeout, harness.Opts{PID1: true, Env: []string{"NONROOT_GRACE_PERIOD=10m"}}, "sh", "-c", script)
		b, _ := os.ReadFile(mark)
		if r.Code != 0 || string(b) != "got-term\n" {
			t.Fatalf("exit %d, mark %q; want 0 and got-term", r.Code, b)
		}
	})
	t.Run("ignoring-term-killed-at-grace", func(t *testing.T) {
		dir := t.TempDir()
		pidFile := filepath.Join(dir, "pid")
		script := fmt.Sprintf(`sh -c 'trap "" TERM; echo $$ > %s.tmp; mv %s.tmp %s; while :; do sleep 0.02; done' &
while [ ! -e %s ]; do sleep 0.01; done; exit 0`, pidFile, pidFile, pidFile, pidFile)
		// As a subreaper (no PID namespace) the leftover survives the
		// init unless the init killed it, so its death is observable.
		r := harness.Run(t, timeout, harness.Opts{Env: []string{"NONROOT_GRACE_PERIOD=300ms"}}, "sh", "-c", script)
		if r.Code != 0 {
			t.Fatalf("exit %d; want 0; stderr %s", r.Code, r.Stderr)
		}
		b, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if err := syscall.Kill(pid, 0); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("leftover %d ignoring TERM is still alive after the init exited", pid)
		}
		if !strings.Contains(r.Stderr, "killed leftover") {
			t.Errorf("stderr %q; want the SIGKILL after the grace period logged", r.Stderr)
		}
	})
}

// TestSubreaperSignalsOnlyDescendants runs an unrelated process beside
// the init (outside any PID namespace); it must get no signal when the
// init terminates its leftovers, nor when signals are forwarded.
func TestSubreaperSignalsOnlyDescendants(t *testing.T) {
	bystander := harness.Start(t, harness.Opts{Env: []string{"NONROOT_SUBREAPER=off"}}, harness.Child(t), "signals", "PWR")
	bystander.Expect(t, timeout, "ready")
	p := harness.Start(t, harness.Opts{Env: []string{"NONROOT_GRACE_PERIOD=200ms"}}, "sh", "-c", `sh -c 'trap "" TERM; while :; do sleep 0.02; done' & trap 'exit 3' USR1; echo ready; while :; do sleep 0.02; done`)
	p.Expect(t, timeout, "ready")
	p.Signal(t, syscall.SIGUSR1)
	if r := p.Wait(t, timeout); r.Code != 3 {
		t.Fatalf("exit %d; want 3", r.Code)
	}
	bystander.Signal(t, syscall.SIGPWR)
	r := bystander.Wait(t, timeout)
	if r.Stdout != "SIGPWR\n" {
		t.Fatalf("bystander got %q; want only the final SIGPWR", r.Stdout)
	}
}

func TestRemapExit(t *testing.T) {
	cases := []struct {
		remap string
		want  int
	}{
		{"", 143},
		{"143:0", 0},
		{"1:2,143:9", 9},
	}
	for _, c := range cases {
		r := harness.Run(t, timeout, harness.Opts{PID1: true, Env: []string{"NONROOT_REMAP_EXIT=" + c.remap}}, "sh", "-c", "kill -TERM $$")
		if r.Code != c.want {
			t.Errorf("REMAP_EXIT=%q after a SIGTERM death: exit %d; want %d", c.remap, r.Code, c.want)
		}
	}
}

func TestStdioPassthrough(t *testing.T) {
	in := make([]byte, 1<<20)
	if _, err := rand.Read(in); err != nil {
		t.Fatal(err)
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts := m.opts
			opts.Stdin = in
			r := harness.Run(t, timeout, opts, harness.Child(t), "cat")
			if r.Code != 0 || !bytes.Equal([]byte(r.Stdout), in) {
				t.Fatalf("exit %d, %d bytes out; want 0 and the same 1 MiB", r.Code, len(r.Stdout))
			}
		})
	}
}

func TestArgsAndEnvUnchanged(t *testing.T) {
	args := []string{"a b", `"quoted"`, "it's", "line1\nline2", "", "tab\there", "--", "-x", "ünï"}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := harness.Run(t, timeout, m.opts, append([]string{harness.Child(t), "args"}, args...)...)
			var got []string
			if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || !reflect.DeepEqual(got, args) {
				t.Fatalf("args %q (%v); want %q", got, err, args)
			}
			env := []string{"SPACES=a b c", "NEWLINE=x\ny", "EMPTY=", "EQUALS=a=b=c", "HOME=/nonexistent-home"}
			opts := m.opts
			opts.Env = env
			r = harness.Run(t, timeout, opts, harness.Child(t), "env")
			var gotEnv []string
			if err := json.Unmarshal([]byte(r.Stdout), &gotEnv); err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, kv := range gotEnv {
				have[kv] = true
			}
			for _, kv := range env {
				if !have[kv] && !strings.HasPrefix(kv, "HOME=") {
					t.Errorf("child env lacks %q; got %q", kv, gotEnv)
				}
			}
		})
	}
}

func TestChildSignalStateAndCwd(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts := m.opts
			opts.Dir = dir
			r := harness.Run(t, timeout, opts, harness.Child(t), "sigstate")
			want := "SigBlk: 0000000000000000\nSigIgn: 0000000000000000\ncwd: " + dir + "\n"
			if r.Stdout != want {
				t.Fatalf("child state:\n%s\nwant:\n%s", r.Stdout, want)
			}
		})
	}
}

// TestChildMaskClearedAfterBlockedParent starts the init from a parent
// that blocked and ignored signals: COMMAND must still start with none
// blocked or ignored. The
// control shows the parent really passes its mask on.
func TestChildMaskClearedAfterBlockedParent(t *testing.T) {
	control := harness.Wait(t, timeout, exec.Command(harness.Child(t), "blocked", harness.Child(t), "sigstate"))
	if strings.Contains(control.Stdout, "SigBlk: 0000000000000000") || strings.Contains(control.Stdout, "SigIgn: 0000000000000000") {
		t.Fatalf("control: %q; want signals blocked and ignored when started directly", control.Stdout)
	}
	r := harness.Wait(t, timeout, exec.Command(harness.Child(t), "blocked", harness.Init(t), harness.Child(t), "sigstate"))
	if r.Code != 0 || !strings.Contains(r.Stdout, "SigBlk: 0000000000000000\nSigIgn: 0000000000000000\n") {
		t.Fatalf("through the init: exit %d, %q; want SigBlk and SigIgn 0; stderr %s", r.Code, r.Stdout, r.Stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		env  []string
		want int
		text []string
	}{
		{nil, nil, 2, []string{"no COMMAND"}},
		{[]string{"--help"}, nil, 0, nil},
		{[]string{"--no-such-flag", "true"}, nil, 2, []string{"no-such-flag"}},
		{[]string{"true"}, []string{"NONROOT_PORTS=HTTP=0", "NONROOT_GRACE_PERIOD=soon", "NONROOT_LOG_LEVEL=loud"}, 2,
			[]string{"NONROOT_PORTS", "NONROOT_GRACE_PERIOD", "NONROOT_LOG_LEVEL", "3 problems"}},
		{[]string{"--grace-period=1s", "true"}, []string{"NONROOT_GRACE_PERIOD=soon"}, 0, nil},
		{[]string{"--", "version"}, nil, 127, []string{"version"}},
	}
	for _, c := range cases {
		r := harness.Run(t, timeout, harness.Opts{Env: c.env}, c.args...)
		if r.Code != c.want {
			t.Errorf("%q %q: exit %d; want %d; stderr %s", c.env, c.args, r.Code, c.want, r.Stderr)
		}
		for _, s := range c.text {
			if !strings.Contains(r.Stderr, s) {
				t.Errorf("%q %q: stderr %q lacks %q", c.env, c.args, r.Stderr, s)
			}
		}
	}
}

func TestExecMode(t *testing.T) {
	// With EXEC the init replaces itself: COMMAND keeps the init's pid.
	r := harness.Run(t, timeout, harness.Opts{PID1: true, Env: []string{"NONROOT_EXEC=true"}}, "sh", "-c", "echo $$")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "1" {
		t.Fatalf("EXEC=true: exit %d, pid %q; want 0 and pid 1", r.Code, r.Stdout)
	}
	r = harness.Run(t, timeout, harness.Opts{PID1: true}, "sh", "-c", "echo $$")
	if strings.TrimSpace(r.Stdout) == "1" {
		t.Fatalf("supervised COMMAND runs as pid 1; want a child of the init")
	}
}

// TestTerminalHandedToCommand runs the init on a pseudo-terminal (script
// from util-linux): COMMAND's process group must be the terminal's
// foreground group, or a shell in it could not read the terminal.
func TestTerminalHandedToCommand(t *testing.T) {
	harness.NeedTool(t, "script")
	inner := harness.Init(t) + ` -- sh -c 'echo "pgrp-tpgid $(cut -d" " -f5,8 /proc/self/stat)"'`
	cmd := exec.Command("script", "-qec", inner, "/dev/null")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NONROOT_LOG_LEVEL=error"}
	r := harness.Wait(t, timeout, cmd)
	var pgrp, tpgid int
	for _, line := range strings.Split(r.Stdout, "\n") {
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "pgrp-tpgid %d %d", &pgrp, &tpgid); err == nil {
			break
		}
	}
	if r.Code != 0 || pgrp == 0 || pgrp != tpgid {
		t.Fatalf("exit %d, output %q: COMMAND's group %d, terminal's foreground group %d; want equal", r.Code, r.Stdout, pgrp, tpgid)
	}
}
