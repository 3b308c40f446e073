package doctor

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

func TestSecretsSection(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "db")
	if err := os.WriteFile(good, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	cfg := &config.Config{FileEnv: []string{"DB_PASSWORD", "API_KEY", "UNSET"}}
	h := host.Host{Environ: []string{"DB_PASSWORD_FILE=" + good, "API_KEY_FILE=" + missing}}
	s, js := secretsSection(cfg, h, host.Creds{})
	want := []Secret{
		{Name: "DB_PASSWORD", FileVar: "DB_PASSWORD_FILE", File: good, Readable: true},
		{Name: "API_KEY", FileVar: "API_KEY_FILE", File: missing, Readable: false},
	}
	if len(js) != 2 || js[0].Name != want[0].Name || js[0].File != good || !js[0].Readable || js[0].Problem != nil ||
		js[1].Name != want[1].Name || js[1].FileVar != "API_KEY_FILE" || js[1].Readable || js[1].Problem == nil || !strings.Contains(*js[1].Problem, "does not exist") {
		t.Errorf("secretsSection JSON = %+v; want %+v with API_KEY's problem", js, want)
	}
	if len(s.Problems) != 1 || !strings.Contains(s.Problems[0].What, "API_KEY_FILE="+missing+": does not exist") {
		t.Errorf("secretsSection problems = %+v; want API_KEY's missing file", s.Problems)
	}
	r := New(s)
	r.Secrets = js
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), "DB_PASSWORD_FILE="+good) {
		t.Errorf("report shows the value, or not the file:\n%s", b.String())
	}

	// Both set: the usage error the init would stop on.
	h.Environ = append(h.Environ, "DB_PASSWORD=x")
	s, _ = secretsSection(cfg, h, host.Creds{})
	if len(s.Problems) == 0 || !strings.Contains(s.Problems[0].What, "DB_PASSWORD and DB_PASSWORD_FILE are both set") {
		t.Errorf("secretsSection(both set) problems = %+v; want the conflict", s.Problems)
	}
	if s, js := secretsSection(&config.Config{}, h, host.Creds{}); len(s.Problems) != 0 || len(js) != 0 {
		t.Errorf("secretsSection(none) = %+v, %+v", s, js)
	}
}

// Templates render in doctor with the values, as at step 5, and their
// errors do not show them.
func TestTemplatesSectionSecrets(t *testing.T) {
	dir, src := t.TempDir(), t.TempDir()
	file := filepath.Join(dir, "db")
	if err := os.WriteFile(file, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "a.conf.tmpl"), []byte("{{ .Env.DB_PASSWORD }}"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out")
	cfg := &config.Config{FileEnv: []string{"DB_PASSWORD"}, Templates: []config.Template{{Src: src, Dst: dst}}}
	h := host.Host{Environ: []string{"DB_PASSWORD_FILE=" + file}}
	s, _ := templatesSection(cfg, h, host.ReadCreds(), nil)
	if len(s.Problems) != 0 || len(s.Facts) != 1 {
		t.Errorf("templatesSection(.Env.DB_PASSWORD) = %+v; want it rendered", s)
	}
	if err := os.WriteFile(filepath.Join(src, "b.conf.tmpl"), []byte("{{ .Env.DB_PASSWORD | port }}"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, js := templatesSection(cfg, h, host.ReadCreds(), nil)
	if len(s.Problems) != 1 || strings.Contains(s.Problems[0].What, "hunter2") || !strings.Contains(s.Problems[0].What, "b.conf.tmpl:1:") ||
		js[0].Problem == nil || strings.Contains(*js[0].Problem, "hunter2") {
		t.Errorf("templatesSection(error echoing the value) = %+v, %+v; want the value redacted", s.Problems, js)
	}
	if _, err := os.Lstat(dst); err == nil {
		t.Errorf("doctor created %s", dst)
	}
}
