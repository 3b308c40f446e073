package test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// TestTrust4RootExecRunsAsRunAs: `nonroot-init exec` started as root (a
// kubectl exec session as root into a container whose init drops to
// NONROOT_RUN_AS) gives its COMMAND the user the init's COMMAND has, not
// root: the same switch as step 1 (groups, no_new_privs), without
// fix-permissions. Found by the review of issue #11: the session stayed
// root with a generated identity.
func TestTrust4RootExecRunsAsRunAs(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "sh", "id")
	r := harness.Run(t, 30*time.Second, harness.Opts{Env: []string{"NONROOT_RUN_AS=1000680000:0", "NONROOT_PASSWD=off"}},
		"exec", "--", "sh", "-c", `id -u; id -g; grep NoNewPrivs /proc/self/status`)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if r.Code != 0 || len(lines) != 3 || lines[0] != "1000680000" || lines[1] != "0" || !strings.HasSuffix(lines[2], "1") {
		t.Errorf("root exec with NONROOT_RUN_AS=1000680000:0: exit %d, stdout %q; want uid 1000680000, gid 0, no_new_privs 1\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestTrust4ExecMuslCommand: `nonroot-init exec` with no running init
// provides the identity itself, and like the init it picks the
// nss_wrapper build for the program the kernel runs: a musl COMMAND is
// never given glibc's library, whose preload its loader refuses. Found by
// the review of issue #11: exec did not pass COMMAND to the C-library
// check.
func TestTrust4ExecMuslCommand(t *testing.T) {
	idNeedLib(t)
	prog := appsBuildGetpw(t, "getpw-musl", "musl-gcc")
	// An explicit STATE_DIR that no init made: exec must provide the
	// identity itself (another test's /tmp/nonroot-init must not count).
	state := filepath.Join(idSharedDir(t), "state")
	r := trustIDEtcRun(t, 0, "", []string{"NONROOT_STATE_DIR=" + state}, "exec", "--", prog)
	if r.Code != 0 || r.Stdout != "none\n" {
		t.Errorf("exec of a musl program, no running init: exit %d, stdout %q; want 0, \"none\"\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
}
