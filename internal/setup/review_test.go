package setup

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
)

// A second start whose templates give the same bytes and modes writes
// nothing, and says so rather than "templates written".
func TestRenderTemplatesUnchanged(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.conf.tmpl"), []byte("{{ .User.Name }}"), 0o644); err != nil {
		t.Fatal(err)
	}
	user := identity.User{Name: "default", UID: 1000680000, Home: "/home/default"}
	cfg := &config.Config{Templates: []config.Template{{Src: src, Dst: filepath.Join(t.TempDir(), "out")}}}
	for i, want := range []string{`msg="templates written"`, `msg="templates unchanged"`} {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		if err := renderTemplates(cfg, NewEnv(nil), user, nil, log); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
		if !strings.Contains(logs.String(), want) || strings.Count(logs.String(), "templates ") != 1 {
			t.Errorf("start %d logged %q; want one line %s", i+1, logs.String(), want)
		}
	}
}
