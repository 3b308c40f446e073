package e2e

import (
	"bufio"
	"bytes"
	"os/exec"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// execShell is what a `kubectl exec` session checks: who it is (glibc's
// whoami, by absolute path: busybox sh would run its own NSS-less
// applet), its home, and that the home is writable.
const execShell = `/usr/bin/whoami; echo ~; touch ~/probe && echo home-writable`

// startReady starts b, whose process prints "ready" once it runs, and
// waits for that line. The container is stopped at the end of the test.
func startReady(t *testing.T, b box) (root, id string) {
	t.Helper()
	cmd, root, id := command(t, b)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = exec.Command("runc", "--root", root, "kill", id, "KILL").Run()
		select {
		case <-done:
		case <-time.After(timeout):
			harness.KillTree(cmd.Process.Pid)
			<-done
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		ready <- sc.Text()
	}()
	select {
	case l := <-ready:
		if l != "ready" {
			t.Fatalf("container printed %q; want ready\nstderr: %s", l, stderr.String())
		}
	case <-time.After(timeout):
		t.Fatalf("container not ready within %v\nstderr: %s", timeout, stderr.String())
	}
	return root, id
}

// runcExec runs argv in the running container as `kubectl exec` does:
// `runc exec` starts it with the container's configured process (its
// user, groups, capabilities and environment, HOME=/ included), not with
// what the init gave its COMMAND.
func runcExec(t *testing.T, root, id string, argv ...string) harness.Result {
	t.Helper()
	return harness.Wait(t, timeout, exec.Command("runc", append([]string{"--root", root, "exec", id}, argv...)...))
}

// TestAppsExecRuncSession: in the restricted-profile container (random
// UID, GID 0, read-only root, no capabilities), a `runc exec` session has
// no name; through `nonroot-init exec` it has the user the init gave
// COMMAND: glibc's whoami names it and ~ is its writable home. With no
// init in the container, `nonroot-init exec` provides the identity
// itself.
func TestAppsExecRuncSession(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"running init", []string{initPath, "--", "/bin/sh", "-c", "echo ready; exec /bin/sleep 300"}},
		{"no init", []string{"/bin/sh", "-c", "echo ready; exec /bin/sleep 300"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, id := startReady(t, box{Args: tc.args, Env: bare})
			if r := runcExec(t, root, id, "/usr/bin/whoami"); r.Code == 0 {
				t.Fatalf("a runc exec session without nonroot-init exec is %q; the test needs a UID with no entry", r.Stdout)
			}
			r := runcExec(t, root, id, initPath, "exec", "--", "/bin/sh", "-c", execShell)
			if want := "default\n/tmp/nonroot-init/home\nhome-writable\n"; r.Code != 0 || r.Stdout != want {
				t.Errorf("nonroot-init exec in the container: exit %d, stdout %q; want 0, %q\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
			}
		})
	}
}
