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

// A listed HOME (set by step 2) or NONROOT_PORTS name (step 4) with
// NAME_FILE set is a usage error found before step 1: exit 2, and
// nothing changed, not even STATE_DIR, even as root with RUN_AS.
func TestSecretsReviewSetLaterChangesNothing(t *testing.T) {
	harness.NeedRoot(t)
	dir := secVolume(t, map[string]string{"value": secValue})
	for _, name := range []string{"HOME", "HTTP_PORT"} {
		t.Run(name, func(t *testing.T) {
			opts, state := secOpts(t, "NONROOT_FILE_ENV="+name, name+"_FILE="+filepath.Join(dir, "value"),
				"NONROOT_RUN_AS=1000680000:0", "NONROOT_PORTS=HTTP_PORT=8080")
			opts.UID = 0
			r := harness.Run(t, 60*time.Second, opts, harness.Child(t), "args", "started")
			if r.Code != 2 || !strings.Contains(r.Stderr, name+"_FILE is set, but "+name+" is set by ") || strings.Contains(r.Stdout, "started") {
				t.Errorf("exit %d, stdout %q; want 2, COMMAND not started, and the conflict\nstderr: %s", r.Code, r.Stdout, r.Stderr)
			}
			if _, err := os.Lstat(state); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s exists (err %v); a usage error changes nothing", state, err)
			}
			secNoValue(t, r, state)
		})
	}
}

// A template from a ConfigMap (0644) that holds a NONROOT_FILE_ENV value
// is written owner-only, and one info line names it, never the value.
func TestSecretsReviewTemplateOwnerOnly(t *testing.T) {
	dir := secVolume(t, map[string]string{"password": secValue})
	base := tmplBase(t)
	src := filepath.Join(base, "src")
	tmplConfigMap(t, src, map[string]string{"db.conf.tmpl": "pw={{ .Env.DB_PASSWORD }}", "plain.conf.tmpl": "user={{ .User.Name }}"})
	dst := tmplWritableDir(t, filepath.Join(base, "dst"))
	opts, state := secOpts(t, "NONROOT_FILE_ENV=DB_PASSWORD", "DB_PASSWORD_FILE="+filepath.Join(dir, "password"), "NONROOT_TEMPLATES="+src+":"+dst)
	r := harness.Run(t, 60*time.Second, opts, harness.Child(t), "args")
	if r.Code != 0 {
		t.Fatalf("exit %d; want 0\nstderr: %s", r.Code, r.Stderr)
	}
	for name, want := range map[string]fs.FileMode{"db.conf": 0o600, "plain.conf": 0o644} {
		st, err := os.Stat(filepath.Join(dst, name))
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %04o", name, st, err, want)
		}
	}
	if !strings.Contains(r.Stderr, "written owner-only") || !strings.Contains(r.Stderr, "files="+filepath.Join(dst, "db.conf")+"\n") || strings.Count(r.Stderr, "owner-only") != 1 {
		t.Errorf("stderr lacks one info line naming %s:\n%s", filepath.Join(dst, "db.conf"), r.Stderr)
	}
	secNoValue(t, r, state)
}

// A short value that also occurs in the message's paths (tmp, in /tmp)
// is not spelled out by placeholders: the detail is withheld, file:line
// kept.
func TestSecretsReviewShortValueWithheld(t *testing.T) {
	dir := secVolume(t, map[string]string{"password": "tmp"})
	base := tmplBase(t)
	src := filepath.Join(base, "src")
	tmplMust(t, os.Mkdir(src, 0o755))
	tmplMust(t, os.WriteFile(filepath.Join(src, "bad.conf.tmpl"), []byte(`{{ "" | required .Env.DB_PASSWORD }}`), 0o644))
	dst := tmplWritableDir(t, filepath.Join(base, "dst"))
	opts, _ := secOpts(t, "NONROOT_FILE_ENV=DB_PASSWORD", "DB_PASSWORD_FILE="+filepath.Join(dir, "password"), "NONROOT_TEMPLATES="+src+":"+dst)
	r := harness.Run(t, 60*time.Second, opts, harness.Child(t), "args")
	if r.Code != 78 || strings.Contains(r.Stderr, "redacted") || !strings.Contains(r.Stderr, "bad.conf.tmpl:1:") ||
		!strings.Contains(r.Stderr, "(message withheld: it contained a secret value)") {
		t.Errorf("exit %d; want 78, file:line and the withheld detail, no placeholder\nstderr: %s", r.Code, r.Stderr)
	}
}

// A value above execve's MAX_ARG_STRLEN is refused at step 6 (78,
// naming it), not left to fail COMMAND's start with 126.
func TestSecretsReviewArgStrlen(t *testing.T) {
	dir := secVolume(t, map[string]string{"password": strings.Repeat("x", 131072)})
	opts, state := secOpts(t)
	secWantFailure(t, opts, state, filepath.Join(dir, "password"), "DB_PASSWORD", "131072", "have COMMAND read DB_PASSWORD_FILE itself")
}
