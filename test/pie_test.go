package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// TestPIEBuildSurvivesTrim: a build with -buildmode=pie (what GOFLAGS
// of a distribution's packaging often says, and `make build` passes on)
// supervises past the trim, 200 ms into COMMAND. The trim used to drop
// the PIE's RELRO pages, relocated by the dynamic loader and then made
// read-only, and PID 1 died of SIGSEGV in the runtime with the whole
// namespace.
func TestPIEBuildSurvivesTrim(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "sh", "sleep", "go")
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "nonroot-init-pie")
	build := exec.Command("go", "build", "-buildmode=pie", "-trimpath", "-o", bin, "./cmd/nonroot-init")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("this toolchain cannot build a PIE here: %v\n%s", err, out)
	}
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", bin, "--", "sh", "-c", "sleep 0.8; echo command done")
	cmd.Env = append(os.Environ(), "NONROOT_LOG_LEVEL=warn")
	r := harness.Wait(t, time.Minute, cmd)
	if r.Code != 0 || !strings.Contains(r.Stdout, "command done") {
		t.Fatalf("PIE init: exit %d, stdout %q; want 0 and COMMAND's output\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
}
