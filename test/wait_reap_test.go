package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// zombiesOf counts the zombies whose parent is pid (as the test sees
// them).
func zombiesOf(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(pid) {
			n++
		}
	}
	return n
}

// TestWaitReapsOrphansAsPID1: SPEC's Supervision says PID 1 reaps every
// zombie for as long as it runs, and WAIT (step 7) can last minutes. An
// orphan that a process entering the namespace leaves behind (a
// `kubectl exec`, an exec probe) and that exits during WAIT is reaped
// then, not once COMMAND runs. Before, it stayed a zombie for the
// whole wait.
func TestWaitReapsOrphansAsPID1(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "nsenter", "sh", "sleep")
	dir := harness.SharedDir(t)
	ready := filepath.Join(dir, "ready")
	p := harness.Start(t, harness.Opts{PID1: true, Env: []string{
		"NONROOT_WAIT=file://" + ready, "NONROOT_WAIT_TIMEOUT=2m", "NONROOT_LOG_LEVEL=debug"}}, "true")
	p.ExpectStderr(t, time.Minute, "waiting for")
	init := p.InitPID(t)
	// sh leaves sleep behind and exits: sleep becomes PID 1's child and,
	// 0.2 s later, its zombie.
	enter := exec.Command("nsenter", "--target", strconv.Itoa(init), "--pid", "--mount", "--", "sh", "-c", "sleep 0.2 & exit 0")
	if out, err := enter.CombinedOutput(); err != nil {
		t.Fatalf("nsenter: %v\n%s", err, out)
	}
	time.Sleep(300 * time.Millisecond)
	left := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if left = zombiesOf(t, init); left == 0 {
			break
		}
	}
	if left != 0 {
		t.Errorf("%d zombies of PID 1 during WAIT, 5 s after the orphan exited; want them reaped", left)
	}
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := p.Wait(t, time.Minute); r.Code != 0 {
		t.Fatalf("exit %d after the wait; want 0\nstderr: %s", r.Code, r.Stderr)
	}
}
