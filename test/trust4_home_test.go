package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// TestTrust4RootExecSharedHome: a root `nonroot-init exec` session (kubectl
// exec as root into a container run as root) never gets a HOME that another
// user could plant files in, even when NONROOT_HOME names it: that user's
// .bashrc would run as root. A missing NONROOT_HOME below a shared
// directory is the same (anyone could make it first). Found by a hostile
// review: HOME was NONROOT_HOME and an interactive bash ran the planted
// .bashrc as uid 0.
func TestTrust4RootExecSharedHome(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "sh")
	base := idSharedDir(t)
	owned := filepath.Join(base, "apphome")
	if err := os.Mkdir(owned, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(owned, ".profile"), []byte("echo planted\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(owned, harness.OpenShiftUID, 0); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(base, "world")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	for _, home := range []string{owned, filepath.Join(shared, "missing")} {
		r := harness.Run(t, 30*time.Second, harness.Opts{Env: []string{"HOME=/root", "NONROOT_HOME=" + home}},
			"exec", "--", "sh", "-c", `echo "$HOME"`)
		got := strings.TrimSpace(r.Stdout)
		if r.Code != 0 || got == home || strings.HasPrefix(got, base) {
			t.Errorf("root exec with NONROOT_HOME=%s: exit %d, HOME %q; want a HOME outside the shared directories\nstderr: %s", home, r.Code, got, r.Stderr)
		}
		if !strings.Contains(r.Stderr, "NONROOT_HOME is not used as HOME") {
			t.Errorf("root exec with NONROOT_HOME=%s: the log does not say why it was passed over\nstderr: %s", home, r.Stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(shared, "missing")); !os.IsNotExist(err) {
		t.Errorf("root made the shared NONROOT_HOME (stat: %v)", err)
	}
}
