package test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// TestSupervisorMissingInterpreter runs a script whose #! interpreter is
// missing (127) or not executable (126): the init names the interpreter.
func TestSupervisorMissingInterpreter(t *testing.T) {
	dir := harness.SharedDir(t)
	missing := filepath.Join(dir, "no-such-interp")
	plain := filepath.Join(dir, "plain-interp")
	if err := os.WriteFile(plain, []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		interp string
		want   int
	}{{missing, 127}, {plain, 126}} {
		script := filepath.Join(dir, "script-"+filepath.Base(c.interp))
		if err := os.WriteFile(script, []byte("#!"+c.interp+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, m := range modes {
			t.Run(m.name+"/"+filepath.Base(c.interp), func(t *testing.T) {
				r := harness.Run(t, timeout, m.opts, script)
				if r.Code != c.want || !strings.Contains(r.Stderr, "interpreter "+c.interp+" ") {
					t.Fatalf("%s: exit %d, stderr %q; want %d naming the interpreter %s", script, r.Code, r.Stderr, c.want, c.interp)
				}
			})
		}
	}
}

// setuidRootChild copies the test child into dir as a setuid-root
// program and returns its path.
func setuidRootChild(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(harness.Child(t))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "rootsleep")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	return p
}

// readPID waits (bounded) for a pid file and returns its pid.
func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %q: %v", b, err)
	}
	return pid
}

// TestSupervisorUnkillableLeftover runs the init as UID 1000680000 while
// COMMAND leaves behind a process that became root (a setuid-root
// program): the init cannot kill it (EPERM). It must still exit with
// COMMAND's status, soon after the SIGKILL, and log the pid as left
// rather than claim it killed it.
func TestSupervisorUnkillableLeftover(t *testing.T) {
	harness.NeedRoot(t)
	for _, pid1 := range []bool{false, true} {
		name := "subreaper"
		if pid1 {
			name = "pid1"
		}
		t.Run(name, func(t *testing.T) {
			dir := harness.SharedDir(t)
			prog := setuidRootChild(t, dir)
			pidFile := filepath.Join(dir, "pid")
			script := fmt.Sprintf(`%s rootsleep %s & while [ ! -s %s ]; do sleep 0.01; done; exit 3`, prog, pidFile, pidFile)
			opts := harness.Opts{PID1: pid1, UID: harness.OpenShiftUID, Env: []string{"NONROOT_GRACE_PERIOD=200ms"}}
			r := harness.Run(t, time.Minute, opts, "sh", "-c", script)
			pid := readPID(t, pidFile)
			if !pid1 {
				// Outside a PID namespace the leftover outlives the init:
				// it must still be there (the init could not kill it), and
				// the test, as root, ends it.
				err := syscall.Kill(pid, 0)
				syscall.Kill(pid, syscall.SIGKILL)
				if err != nil {
					t.Errorf("leftover %d is gone (%v); want it alive, out of the init's reach", pid, err)
				}
			}
			if r.Code != 3 {
				t.Fatalf("exit %d; want COMMAND's 3; stderr: %s", r.Code, r.Stderr)
			}
			if !strings.Contains(r.Stderr, "survived SIGKILL") || !strings.Contains(r.Stderr, strconv.Itoa(pid)) {
				t.Errorf("stderr %q; want the leftover %d logged as surviving SIGKILL", r.Stderr, pid)
			}
			if strings.Contains(r.Stderr, "killed leftover") {
				t.Errorf("stderr %q claims the leftover was killed", r.Stderr)
			}
		})
	}
}

// TestSupervisorForeignProc runs the init as a subreaper in a PID
// namespace that has no /proc of its own (unshare --pid without
// --mount-proc): /proc shows the host's processes. The init is PID 2 of
// the namespace, so the host's PID 2 (kthreadd) and its many children
// mean nothing to it; the numbers of those host processes are, in the
// namespace, the init's own threads and a decoy that is not its
// descendant. The decoy must receive no signal, the init must not signal
// itself, and COMMAND's leftover (in its process group) must still be
// terminated.
func TestSupervisorForeignProc(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare")
	dir := harness.SharedDir(t)
	decoyOut := filepath.Join(dir, "decoy")
	leftPID := filepath.Join(dir, "left")
	driver := fmt.Sprintf(`%s -- sh -c 'sleep 1000 & echo $! > %s; exit 3' &
init=$!
%s signals PWR > %s &
decoy=$!
wait $init; echo init-exit=$?
while ! grep -q ready %s; do sleep 0.01; done
kill -PWR $decoy; wait $decoy; echo decoy-exit=$?
kill -0 $(cat %s) 2>/dev/null && echo leftover-alive; exit 0`, harness.Init(t), leftPID, harness.Child(t), decoyOut, decoyOut, leftPID)
	cmd := exec.Command("unshare", "--pid", "--fork", "sh", "-c", driver)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + harness.SharedDir(t), "NONROOT_GRACE_PERIOD=10m"}
	r := harness.Wait(t, time.Minute, cmd)
	decoy, _ := os.ReadFile(decoyOut)
	if !strings.Contains(r.Stdout, "init-exit=3\n") || !strings.Contains(r.Stdout, "decoy-exit=0\n") || strings.Contains(r.Stdout, "leftover-alive") {
		t.Errorf("stdout %q; want init-exit=3, decoy-exit=0, and the leftover gone; stderr: %s", r.Stdout, r.Stderr)
	}
	if string(decoy) != "ready\nSIGPWR\n" {
		t.Errorf("decoy outside the init's tree got %q; want only the final SIGPWR", decoy)
	}
}

// sigIgn returns the SigIgn line of /proc/PID/status.
func sigIgn(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no SigIgn in /proc/%d/status", pid)
	return ""
}

// childOf returns the one child of pid, started by any of its threads.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var kids []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		kids = append(kids, strings.Fields(string(b))...)
	}
	if len(kids) != 1 {
		t.Fatalf("process %d has children %q; want one", pid, kids)
	}
	n, err := strconv.Atoi(kids[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSupervisorRealtimeReservedSignals sends 32, 33 and 34 (the signals
// the Go runtime reserves for C libraries and installs no handler for) to
// a subreaper init. They are not forwarded, and must not end the init:
// COMMAND's status is still delivered. COMMAND has no signal ignored.
// (TestChildMaskClearedAfterBlockedParent covers a parent that ignores
// 32 and 34.)
func TestSupervisorRealtimeReservedSignals(t *testing.T) {
	p := startSignals(t, harness.Opts{})
	child := childOf(t, p.InitPID(t))
	// Should the init die, COMMAND would keep the output pipe open.
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })
	if got := sigIgn(t, child); got != "0000000000000000" {
		t.Errorf("COMMAND's SigIgn %s; want none ignored", got)
	}
	for _, s := range []syscall.Signal{32, 33, 34} {
		p.Signal(t, s)
	}
	// Had one of them ended the init, COMMAND would get no SIGUSR1 (its
	// stdout closes) or the init's status would not be COMMAND's.
	p.Signal(t, syscall.SIGUSR1)
	if got := p.ReadLine(t, timeout); got != "SIGUSR1" {
		t.Fatalf("COMMAND got %q after 32 to 34; want SIGUSR1 only", got)
	}
	p.Signal(t, syscall.SIGPWR)
	if r := p.Wait(t, timeout); r.Code != 0 {
		t.Fatalf("exit %d; want COMMAND's 0; stderr: %s", r.Code, r.Stderr)
	}
}

// TestSupervisorClosedStderr runs the init with stderr a pipe whose
// reader is gone. The init's own log lines then fail with EPIPE and raise
// SIGPIPE in the init: that SIGPIPE is its own and must not reach
// COMMAND, while a SIGPIPE sent to the init from outside still must.
// Signals are forwarded in the order they came, and the shell runs its
// traps in signal-number order, so got-USR1 shows that every SIGPIPE the
// init had queued before it was handled.
func TestSupervisorClosedStderr(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	script := `trap 'echo got-PIPE' PIPE; trap 'echo got-USR1' USR1; trap 'echo got-TERM; exit 0' TERM
echo ready; while :; do sleep 0.01; done`
	for _, m := range []struct {
		name string
		opts harness.Opts
	}{{"subreaper", harness.Opts{}}, modes[0], modes[1]} {
		t.Run(m.name, func(t *testing.T) {
			cmd := harness.Command(t, m.opts, "sh", "-c", script)
			cmd.Stderr = w // an *os.File: the init gets the pipe itself as fd 2
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer harness.KillTree(cmd.Process.Pid)
			lines := make(chan string, 16)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			var got []string
			next := func(want string) {
				t.Helper()
				select {
				case l, ok := <-lines:
					if ok {
						got = append(got, l)
					}
					if l != want {
						t.Fatalf("COMMAND printed %q; want %q", got, want)
					}
				case <-time.After(timeout):
					t.Fatalf("COMMAND printed %q, then nothing within %v; want %q", got, timeout, want)
				}
			}
			next("ready")
			initPID := cmd.Process.Pid
			if m.opts.PID1 {
				if initPID, err = harness.ChildPID(cmd.Process.Pid); err != nil {
					t.Fatal(err)
				}
			}
			syscall.Kill(initPID, syscall.SIGUSR1)
			next("got-USR1")
			syscall.Kill(initPID, syscall.SIGPIPE)
			next("got-PIPE")
			syscall.Kill(initPID, syscall.SIGTERM)
			next("got-TERM")
			res := harness.Wait(t, timeout, cmd)
			if res.Code != 0 {
				t.Fatalf("exit %d; want COMMAND's 0", res.Code)
			}
		})
	}
}
