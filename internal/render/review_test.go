package render

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// A rendered file that holds secret material (a NONROOT_FILE_ENV value
// in its output, or anything read with file) is owner-only, whatever the
// source's mode; other files keep the source's mode.
func TestRenderSecretMode(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "password")
	must(t, os.WriteFile(secret, []byte("hunter2\n"), 0o400))
	src := filepath.Join(dir, "src")
	must(t, os.Mkdir(src, 0o755))
	for name, text := range map[string]string{
		"env.conf.tmpl":   `pw={{ .Env.DB_PASSWORD }}`,
		"file.conf.tmpl":  `{{ if file "` + secret + `" }}set{{ end }}`,
		"plain.conf.tmpl": `user={{ .User.Name }}`,
		"group.conf.tmpl": `pw={{ .Env.DB_PASSWORD }}`,
	} {
		must(t, os.WriteFile(filepath.Join(src, name), []byte(text), 0o644))
	}
	must(t, os.Chmod(filepath.Join(src, "group.conf.tmpl"), 0o750))
	data := Data{Env: map[string]string{"DB_PASSWORD": "s3cr3t"}, User: User{Name: "default"}, Secrets: []string{"s3cr3t"}}
	files, err := Render([]config.Template{{Src: src, Dst: filepath.Join(dir, "dst")}}, data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{"env.conf": 0o600, "file.conf": 0o600, "plain.conf": 0o644, "group.conf": 0o700}
	for _, f := range files {
		if f.Mode != want[f.Rel] || f.Secret != (want[f.Rel]&0o077 == 0) {
			t.Errorf("%s: mode %04o, Secret %v; want %04o", f.Rel, f.Mode, f.Secret, want[f.Rel])
		}
	}
	if len(files) != len(want) {
		t.Errorf("got %d files; want %d", len(files), len(want))
	}
}

// port does not echo its argument: a value piped into it must not come
// back in the error.
func TestPortDoesNotEcho(t *testing.T) {
	_, err := Execute("t.tmpl", []byte(`{{ .Env.DB_PASSWORD | port }}`), Data{Env: map[string]string{"DB_PASSWORD": "s3cr3t"}})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "t.tmpl:1:") {
		t.Errorf("Execute(port of a value) = %v; want an error with file:line and without the value", err)
	}
}
