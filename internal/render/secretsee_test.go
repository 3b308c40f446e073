package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// A template that can see secret values (it reads the environment in a
// run with NONROOT_FILE_ENV values, or it called file) has the detail of
// an execution error withheld, whatever it did to the value: only
// file:line:column stays. The exact value was withheld before; a value
// changed by the template (upper, slice, printf %x) was not.
func TestExecErrorWithheldWhenSecretsVisible(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "password")
	must(t, os.WriteFile(secret, []byte("secret-value-123\n"), 0o600))
	data := Data{Env: map[string]string{"PW": "secret-value-123"}, Secrets: []string{"secret-value-123"}}
	for _, text := range []string{
		`{{ required (upper (env "PW")) "" }}`,
		`{{ required (slice .Env.PW 1) "" }}`,
		`{{ required (printf "%x" (env "PW")) "" }}`,
		`{{ required (file "` + secret + `" | upper) "" }}`,
	} {
		_, err := Execute("a.conf.tmpl", []byte(text), data)
		if err == nil {
			t.Fatalf("%s: no error", text)
		}
		msg := err.Error()
		for _, form := range []string{"SECRET-VALUE-123", "ecret-value-123", "7365637265742d76616c75652d313233"} {
			if strings.Contains(msg, form) {
				t.Errorf("%s: error %q shows the value as %q", text, msg, form)
			}
		}
		if !strings.HasPrefix(msg, "a.conf.tmpl:1:") {
			t.Errorf("%s: error %q lost file:line", text, msg)
		}
	}
	// A template that cannot see one keeps its message.
	_, err := Execute("b.conf.tmpl", []byte(`{{ required "set GREETING" .User.Name }}`), data)
	if err == nil || !strings.Contains(err.Error(), "set GREETING") {
		t.Errorf("template without secrets in sight: %v; want required's message", err)
	}
}

// In a run with secret values, a rendered template that reads the
// environment is written owner-only even when its output holds the
// value changed (upper), which no search for the value finds.
func TestRenderChangedSecretOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	must(t, os.Mkdir(src, 0o755))
	for name, text := range map[string]string{
		"upper.conf.tmpl": `pw={{ env "PW" | upper }}`,
		"dot.conf.tmpl":   `{{ toJSON . }}`,
		"plain.conf.tmpl": `user={{ .User.Name }}`,
	} {
		must(t, os.WriteFile(filepath.Join(src, name), []byte(text), 0o644))
	}
	data := Data{Env: map[string]string{"PW": "s3cr3t"}, User: User{Name: "default"}, Secrets: []string{"s3cr3t"}}
	files, err := Render([]config.Template{{Src: src, Dst: filepath.Join(dir, "dst")}}, data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{"upper.conf": 0o600, "dot.conf": 0o600, "plain.conf": 0o644}
	for _, f := range files {
		if f.Mode != want[f.Rel] {
			t.Errorf("%s: mode %04o; want %04o", f.Rel, f.Mode, want[f.Rel])
		}
	}
	// Without secret values in the run, reading the environment changes
	// nothing.
	data.Secrets = nil
	files, err = Render([]config.Template{{Src: src, Dst: filepath.Join(dir, "dst")}}, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Mode != 0o644 {
			t.Errorf("no secrets: %s: mode %04o; want 0644", f.Rel, f.Mode)
		}
	}
}
