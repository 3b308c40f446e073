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

// TestSecretTemplateSubPathNotOurs: a template holding a NONROOT_FILE_ENV
// value whose DST is a single bind-mounted file (a subPath) that another
// user owns with mode 0666 cannot be made owner-only: the init refuses
// (78) rather than write the secret where every UID can read it, and the
// file keeps its old content. (Before, the value was written into it.)
func TestSecretTemplateSubPathNotOurs(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "setpriv", "mount")
	const value = "SubPath-S3cret"
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	tmplMust(t, os.MkdirAll(src, 0o755))
	tmplMust(t, os.WriteFile(filepath.Join(src, "app.conf.tmpl"), []byte("pw={{ .Env.DB_PASSWORD }}\n"), 0o644))
	dst := tmplWritableDir(t, filepath.Join(base, "out"))
	target := filepath.Join(dst, "app.conf")
	tmplMust(t, os.WriteFile(target, []byte("old\n"), 0o644))
	// The file mounted over target: root's, writable by everyone.
	mounted := filepath.Join(base, "mounted")
	tmplMust(t, os.WriteFile(mounted, []byte("old\n"), 0o666))
	tmplMust(t, os.Chmod(mounted, 0o666))
	secret := filepath.Join(base, "password")
	tmplMust(t, os.WriteFile(secret, []byte(value+"\n"), 0o400))
	tmplMust(t, os.Chown(secret, harness.OpenShiftUID, 0))

	script := "mount --bind " + mounted + " " + target + " && exec setpriv --reuid " + strconv.Itoa(harness.OpenShiftUID) +
		" --regid 0 --clear-groups -- " + harness.Init(t) + " -- cat " + target
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + harness.SharedDir(t),
		"NONROOT_TEMPLATES=" + src + ":" + dst, "NONROOT_FILE_ENV=DB_PASSWORD", "DB_PASSWORD_FILE=" + secret}
	r := harness.Wait(t, 60*time.Second, cmd)
	if r.Code != 78 || !strings.Contains(r.Stderr, "owner only") {
		t.Errorf("exit %d; want 78 naming the owner-only content\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if b, _ := os.ReadFile(mounted); string(b) != "old\n" {
		t.Errorf("the mounted 0666 file now holds %q; want it untouched", b)
	}
	if strings.Contains(r.Stderr+r.Stdout, value) {
		t.Errorf("the value is in the output:\n%s%s", r.Stdout, r.Stderr)
	}
}
