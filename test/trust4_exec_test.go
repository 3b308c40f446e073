package test

import (
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
