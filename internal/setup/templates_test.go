package setup

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
)

func TestRenderTemplates(t *testing.T) {
	src := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("good.conf.tmpl", "{{ .User.Name }} {{ .User.UID }} {{ .User.Home }} {{ port \"HTTP_PORT\" }} {{ env \"HTTP_PORT\" }} {{ .Env.FROM_STEP_2 }}")
	write("copy.txt", "as is")
	user := identity.User{Name: "default", UID: 1000680000, GID: 0, Home: "/home/default"}
	env := NewEnv([]string{"FROM_STEP_2=yes"})
	env.Set("HTTP_PORT", "8080")
	ports := map[string]int{"HTTP_PORT": 8080}

	dst := filepath.Join(t.TempDir(), "out")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := &config.Config{Templates: []config.Template{{Src: src, Dst: dst}}}
	if err := renderTemplates(cfg, env, user, ports, nil, log); err != nil {
		t.Fatalf("renderTemplates: %v", err)
	}
	got, _ := os.ReadFile(filepath.Join(dst, "good.conf"))
	if want := "default 1000680000 /home/default 8080 8080 yes"; string(got) != want {
		t.Errorf("good.conf = %q; want %q", got, want)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "copy.txt")); string(got) != "as is" {
		t.Errorf("copy.txt = %q; want %q", got, "as is")
	}
	if !strings.Contains(logs.String(), "templates written") || !strings.Contains(logs.String(), "rendered=1 copied=1") {
		t.Errorf("log %q; want one line with the counts", logs.String())
	}

	// A broken template: FailedError, and the second DST gets nothing.
	write("bad.conf.tmpl", "{{ .Env.NOPE }}")
	dst2 := filepath.Join(t.TempDir(), "out")
	cfg = &config.Config{Templates: []config.Template{{Src: src, Dst: dst2}}}
	err := renderTemplates(cfg, env, user, ports, nil, log)
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Step != "templates" || !strings.Contains(err.Error(), filepath.Join(src, "bad.conf.tmpl")+":1:") {
		t.Errorf("renderTemplates(bad) = %v; want a templates FailedError with file:line", err)
	}
	if _, err := os.Lstat(dst2); err == nil {
		t.Errorf("%s was created despite the error", dst2)
	}

	// Nothing configured: nothing done, nothing logged.
	logs.Reset()
	if err := renderTemplates(&config.Config{}, env, user, ports, nil, log); err != nil || logs.Len() != 0 {
		t.Errorf("renderTemplates(none) = %v, log %q; want nil and no log", err, logs.String())
	}
}
