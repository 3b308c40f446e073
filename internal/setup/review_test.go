package setup

import (
	"bytes"
	"errors"
	"github.com/nonroot-init/nonroot-init/internal/render"
	"github.com/nonroot-init/nonroot-init/internal/secrets"
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
		if err := renderTemplates(cfg, NewEnv(nil), user, nil, nil, log); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
		if !strings.Contains(logs.String(), want) || strings.Count(logs.String(), "templates ") != 1 {
			t.Errorf("start %d logged %q; want one line %s", i+1, logs.String(), want)
		}
	}
}

// A listed NAME that step 2 or 4 always sets, with NAME_FILE set, is the
// usage error of the check before step 1, not a failed step 6.
func TestPlanSecretsSetLater(t *testing.T) {
	for _, name := range []string{"HOME", "USER", "LOGNAME", "HTTP_PORT"} {
		cfg := &config.Config{FileEnv: []string{name}, Ports: []config.Port{{Name: "HTTP_PORT", Port: 8080}}}
		err := planSecrets(cfg, NewEnv([]string{name + "_FILE=/run/secrets/x"}))
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), name+"_FILE is set, but "+name+" is set by ") {
			t.Errorf("planSecrets(%s_FILE) = %v; want a UsageError naming the step that sets %s", name, err, name)
		}
	}
	// With *, such a name is kept (step 6 warns), as for any set X.
	cfg := &config.Config{FileEnvAll: true}
	if err := planSecrets(cfg, NewEnv([]string{"HOME_FILE=/run/secrets/x"})); err != nil {
		t.Errorf("planSecrets(*, HOME_FILE) = %v; want nil", err)
	}
}

// redact withholds the detail of each template problem holding a value,
// keeping its file:line, and leaves the other problems as they are.
func TestRedactWithholds(t *testing.T) {
	var r secrets.Redactor
	r.Add("xyz", "DB_PASSWORD")
	err := redact(&r, &FailedError{Step: "templates", Err: &render.Error{Problems: []error{
		errors.New(`/cm/a.tmpl:1:3: at <port>: error calling port: port "xyz" is not in NONROOT_PORTS`),
		errors.New(`/cm/b.tmpl:2: function "nope" not defined`),
	}}})
	var fe *FailedError
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if !errors.As(err, &fe) || fe.Step != "templates" || strings.Contains(msg, "xyz") || strings.Contains(msg, "[redacted") ||
		!strings.Contains(msg, "/cm/a.tmpl:1:3: "+secrets.Withheld) || !strings.Contains(msg, `/cm/b.tmpl:2: function "nope" not defined`) {
		t.Errorf("redact = %v; want a's detail withheld, b's kept", err)
	}
}
