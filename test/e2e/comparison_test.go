package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// settle bounds how long the comparison waits for something that may
// never happen (a zombie reaped, a container stopping on SIGTERM).
const settle = 5 * time.Second

// verdict is what one init did in the restricted container.
type verdict struct {
	TermStops bool // runc kill TERM stops the container (COMMAND: sleep)
	Reaped    bool // orphans reparented to PID 1 are reaped
	Whoami    bool // glibc's whoami finds the random UID on a read-only root
	Volume    bool // a root-owned volume stops the start before COMMAND runs
}

func (v verdict) row(name string) string {
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s |", name, yn(v.TermStops), yn(v.Reaped), yn(v.Whoami), yn(v.Volume))
}

// TestComparisonWithOtherInits runs tini, dumb-init, the usual
// uid_entrypoint shell script and nonroot-init as the entrypoint of the
// same restricted container, and checks the table the README shows.
func TestComparisonWithOtherInits(t *testing.T) {
	want := map[string]verdict{
		"nonroot-init":   {TermStops: true, Reaped: true, Whoami: true, Volume: true},
		"tini":           {TermStops: true, Reaped: true},
		"dumb-init":      {TermStops: true, Reaped: true},
		"uid_entrypoint": {},
	}
	table := []string{"| entrypoint | SIGTERM stops it | orphans reaped | whoami works | root-owned volume caught |", "|---|---|---|---|---|"}
	for _, tc := range []struct {
		name string
		argv []string
	}{
		{"nonroot-init", []string{initPath, "--"}},
		{"tini", []string{tiniStatic, "--"}},
		{"dumb-init", []string{dumbInit, "--"}},
		{"uid_entrypoint", []string{uidEntrypoint}},
	} {
		var got verdict
		got.TermStops, got.Reaped = supervises(t, tc.argv)
		res := run(t, box{Args: append(tc.argv, "/usr/bin/whoami"), Env: bare})
		got.Whoami = res.Code == 0 && res.Stdout == "default\n"
		res = run(t, box{
			Args:   append(tc.argv, "/bin/echo", "started"),
			Env:    append(bare, "NONROOT_VOLUMES=/data"),
			Mounts: []mount{{Src: volumeDir(t, 0, 0, 0o755), Dst: "/data"}},
		})
		got.Volume = res.Code != 0 && !strings.Contains(res.Stdout, "started")
		if got != want[tc.name] {
			t.Errorf("%s: got %+v; want %+v", tc.name, got, want[tc.name])
		}
		table = append(table, got.row(tc.name))
	}
	t.Log("\n" + strings.Join(table, "\n"))
}

// supervises runs argv + sleep as the container's process, leaves
// orphans behind with `runc exec` (they are reparented to the container's
// PID 1), and reports whether they are reaped and whether `runc kill
// TERM` then stops the container.
func supervises(t *testing.T, argv []string) (termStops, reaped bool) {
	t.Helper()
	cmd, root, id := command(t, box{Args: append(append([]string{}, argv...), "/bin/sleep", "1000"), Env: bare})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	inside := func(args ...string) string {
		out, _ := exec.Command("runc", append([]string{"--root", root, "exec", "--user", fmt.Sprintf("%d:0", uid), id}, args...)...).Output()
		return strings.TrimSpace(string(out))
	}
	poll := func(bound time.Duration, cond func() bool) bool {
		for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if cond() {
				return true
			}
		}
		return cond()
	}
	if !poll(timeout, func() bool { return strings.Contains(inside("/bin/sh", "-c", "cat /proc/[0-9]*/comm"), "sleep") }) {
		t.Fatalf("%q: COMMAND sleep did not start within %v", argv, timeout)
	}
	inside(childPath, "orphans", "20")
	reaped = poll(settle, func() bool {
		return inside("/bin/sh", "-c", `cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z '`) == "0"
	})
	if out, err := exec.Command("runc", "--root", root, "kill", id, "TERM").CombinedOutput(); err != nil {
		t.Fatalf("runc kill %s TERM: %v: %s", id, err, out)
	}
	select {
	case <-done:
		termStops = true
	case <-time.After(settle):
		// The container is killed by runc delete --force in the cleanup.
	}
	return termStops, reaped
}
