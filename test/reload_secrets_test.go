package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// TestReloadKeepsSecretRules: a template that holds a NONROOT_FILE_ENV
// value is written owner-only at the start AND after a reload, and a
// reload whose render error contains the value never logs it. (Before,
// the reload path rendered without step 6's values: the new file came
// out 0644 and the error was logged as it was.)
func TestReloadKeepsSecretRules(t *testing.T) {
	const value = "Reload-S3cret-Value"
	secret := filepath.Join(tmplBase(t), "password")
	tmplMust(t, os.WriteFile(secret, []byte(value+"\n"), 0o400))
	tmplMust(t, os.Chown(secret, harness.OpenShiftUID, 0))

	r := startReload(t, "v1 pw={{ .Env.DB_PASSWORD }}\n", func(string) []string {
		return []string{"NONROOT_FILE_ENV=DB_PASSWORD", "DB_PASSWORD_FILE=" + secret}
	})
	mode := func() os.FileMode {
		t.Helper()
		fi, err := os.Stat(r.conf)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if got := r.content(t); got != "v1 pw="+value+"\n" || mode()&0o077 != 0 {
		t.Fatalf("at the start %s = %q, mode %v; want the value, owner-only", r.conf, got, mode())
	}

	stamp := cmSwap(t, r.src, reloadStamp, "..2026_12_03_10_00_00.123", map[string]string{"app.conf.tmpl": "v2 pw={{ .Env.DB_PASSWORD }}\n"})
	r.waitLog(t, "msg=reloaded")
	if got := r.content(t); got != "v2 pw="+value+"\n" || mode()&0o077 != 0 {
		t.Errorf("after a reload %s = %q, mode %v; want the new render, still owner-only", r.conf, got, mode())
	}

	// required's MESSAGE is the value: the render error would hold it.
	cmSwap(t, r.src, stamp, "..2026_12_03_10_00_01.123", map[string]string{"app.conf.tmpl": `v3 {{ required .Env.DB_PASSWORD "" }}` + "\n"})
	r.waitLog(t, "cannot be rendered again")
	hups := r.stop(t)
	if len(hups) != 1 {
		t.Errorf("COMMAND got %d reload signals, want 1 (the failed render sends none): %q", len(hups), hups)
	}
	if strings.Contains(r.p.Stderr(), value) {
		t.Errorf("the secret value is in the init's log:\n%s", r.p.Stderr())
	}
}
