package test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// TestRenderSparseSourceRefused: a 2 GiB sparse file in a template SRC
// is refused by its size before it is read (it used to be copied dense:
// 95 s and 4.5 GB of memory): exit 78, the message names the file and
// the limit, COMMAND is not started and DST is not created.
func TestRenderSparseSourceRefused(t *testing.T) {
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	tmplConfigMap(t, src, map[string]string{"app.conf.tmpl": "user={{ .User.Name }}\n", "GeoLite2.mmdb": ""})
	big := filepath.Join(src, "..2026_11_29_11_00_00.987654321", "GeoLite2.mmdb")
	tmplMust(t, os.Truncate(big, 2<<30))
	dst := filepath.Join(tmplWritableDir(t, filepath.Join(base, "emptydir")), "etc")

	r := harness.Run(t, 60*time.Second, tmplOpts("NONROOT_TEMPLATES="+src+":"+dst), harness.Child(t), "args", "STARTED")
	if r.Code != 78 || strings.Contains(r.Stdout, "STARTED") {
		t.Errorf("exit %d, stdout %q; want 78 and COMMAND not started\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	want := filepath.Join(src, "GeoLite2.mmdb") + " is 2147483648 bytes, above the limit of 64 MiB for a file in NONROOT_TEMPLATES"
	if !strings.Contains(tmplUnquote(r.Stderr), want) {
		t.Errorf("stderr does not contain %q:\n%s", want, r.Stderr)
	}
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DST %s exists (err %v); nothing may be written", dst, err)
	}
}

// TestRenderRunawayTemplateBudget: a template that never ends stops the
// start at the render budget with exit 78 naming it and its line, and
// the healthy template beside it is not written either.
func TestRenderRunawayTemplateBudget(t *testing.T) {
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	tmplConfigMap(t, src, map[string]string{
		"app.conf.tmpl": "user={{ .User.Name }}\n",
		"loop.tmpl":     "ok\n{{ range 1000000000000 }}{{ end }}",
	})
	dst := filepath.Join(tmplWritableDir(t, filepath.Join(base, "emptydir")), "etc")

	r := harness.Run(t, 60*time.Second, tmplOpts("NONROOT_TEMPLATES="+src+":"+dst), harness.Child(t), "args", "STARTED")
	if r.Code != 78 || strings.Contains(r.Stdout, "STARTED") {
		t.Errorf("exit %d, stdout %q; want 78 and COMMAND not started\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	want := filepath.Join(src, "loop.tmpl") + ":2:9 (in a range): still rendering when the render budget of 10s for all of NONROOT_TEMPLATES ran out"
	if !strings.Contains(tmplUnquote(r.Stderr), want) {
		t.Errorf("stderr does not contain %q:\n%s", want, r.Stderr)
	}
	if strings.Contains(r.Stderr, "app.conf.tmpl") {
		t.Errorf("stderr names the healthy template:\n%s", r.Stderr)
	}
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DST %s exists (err %v); nothing may be written", dst, err)
	}
}
