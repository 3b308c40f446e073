package test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// trust2LinkAs runs `ln -s target link` as uid:gid 1000, the worker user
// who owns a volume.
func trust2LinkAs(t *testing.T, target, link string) {
	t.Helper()
	harness.NeedTool(t, "setpriv", "ln")
	out, err := exec.Command("setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups", "ln", "-s", target, link).CombinedOutput()
	if err != nil {
		t.Fatalf("ln -s %s %s as uid 1000: %v\n%s", target, link, err, out)
	}
}

// trust2Volume makes base/vol, owned by uid 1000.
func trust2Volume(t *testing.T, base string) string {
	t.Helper()
	vol := filepath.Join(base, "vol")
	tmplMust(t, os.Mkdir(vol, 0o755))
	tmplMust(t, os.Chown(vol, 1000, 1000))
	return vol
}

// TestRenderTrust2DstForeignLink is the review's scenario: uid 1000 runs
// `ln -s /mnt/etc /mnt/vol/conf`, then root runs
// `NONROOT_TEMPLATES=/mnt/src:/mnt/vol/conf nonroot-init -- true`. The
// init used to replace /mnt/etc/shadow with the rendered text, its mode
// going from 0600 to 0644; now it exits 78 naming the link, its owner
// and the fix, and /mnt/etc/shadow is unchanged.
func TestRenderTrust2DstForeignLink(t *testing.T) {
	harness.NeedRoot(t)
	base := tmplBase(t)
	etc := filepath.Join(base, "etc")
	tmplMust(t, os.Mkdir(etc, 0o755))
	shadow := filepath.Join(etc, "shadow")
	const content = "root:$6$secret:20000:0:99999:7:::\n"
	tmplMust(t, os.WriteFile(shadow, []byte(content), 0o600))
	src := filepath.Join(base, "src")
	tmplMust(t, os.Mkdir(src, 0o755))
	tmplMust(t, os.WriteFile(filepath.Join(src, "shadow.tmpl"), []byte("root::0:0:99999:7:::\n"), 0o644))
	link := filepath.Join(trust2Volume(t, base), "conf")
	trust2LinkAs(t, etc, link)

	r := harness.Run(t, 30*time.Second, harness.Opts{PID1: true, Env: []string{"NONROOT_TEMPLATES=" + src + ":" + link}}, "--", "true")
	if r.Code != 78 {
		t.Errorf("exit %d; want 78\nstderr: %s", r.Code, r.Stderr)
	}
	for _, w := range []string{link + " is a symbolic link owned by uid 1000", "remove the link"} {
		if !strings.Contains(tmplUnquote(r.Stderr), w) {
			t.Errorf("stderr does not contain %q:\n%s", w, r.Stderr)
		}
	}
	got, err := os.ReadFile(shadow)
	info, serr := os.Stat(shadow)
	if err != nil || serr != nil || string(got) != content || info.Mode() != 0o600 {
		t.Errorf("%s = %q mode %v (%v, %v); want it unchanged, mode 0600", shadow, got, info.Mode(), err, serr)
	}
	if entries, _ := os.ReadDir(etc); len(entries) != 1 {
		t.Errorf("%s holds %v; want shadow only", etc, entries)
	}
}

// TestRenderTrust2SrcForeignLink: uid 1000 points a SRC in its volume at
// a root-only directory; root's init exits 78 naming the link and copies
// nothing (it used to copy the root-only token into DST).
func TestRenderTrust2SrcForeignLink(t *testing.T) {
	harness.NeedRoot(t)
	base := tmplBase(t)
	secrets := filepath.Join(base, "secrets")
	tmplMust(t, os.Mkdir(secrets, 0o700))
	tmplMust(t, os.WriteFile(filepath.Join(secrets, "token"), []byte("root-only"), 0o600))
	link := filepath.Join(trust2Volume(t, base), "config")
	trust2LinkAs(t, secrets, link)
	dst := filepath.Join(base, "out")

	r := harness.Run(t, 30*time.Second, harness.Opts{PID1: true, Env: []string{"NONROOT_TEMPLATES=" + link + ":" + dst}}, "--", "true")
	if r.Code != 78 || !strings.Contains(tmplUnquote(r.Stderr), link+" is a symbolic link owned by uid 1000") {
		t.Errorf("exit %d; want 78 naming %s and its owner\nstderr: %s", r.Code, link, r.Stderr)
	}
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DST %s exists (err %v); nothing may be copied", dst, err)
	}
}
