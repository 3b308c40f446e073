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
	"github.com/nonroot-init/nonroot-init/internal/render"
	"github.com/nonroot-init/nonroot-init/internal/secrets"
)

func TestPlanSecretsUsageError(t *testing.T) {
	cfg := &config.Config{FileEnv: []string{"DB_PASSWORD"}}
	err := planSecrets(cfg, NewEnv([]string{"DB_PASSWORD=hunter2", "DB_PASSWORD_FILE=/run/secrets/db"}))
	var ue *UsageError
	if !errors.As(err, &ue) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("planSecrets(both set) = %v; want a UsageError without the value", err)
	}
	if err := planSecrets(&config.Config{}, NewEnv([]string{"A=1", "A_FILE=/x"})); err != nil {
		t.Fatalf("planSecrets(no FILE_ENV) = %v; want nil", err)
	}
}

func TestApplySecrets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(file, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := NewEnv([]string{"DB_PASSWORD_FILE=" + file})
	r, err := applySecrets(&config.Config{FileEnv: []string{"DB_PASSWORD"}}, env, log)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := env.Get("DB_PASSWORD"); v != "hunter2" {
		t.Errorf("DB_PASSWORD = %q; want hunter2", v)
	}
	if strings.Contains(logs.String(), "hunter2") || !strings.Contains(logs.String(), "names=DB_PASSWORD") {
		t.Errorf("log %q; want the name, never the value", logs.String())
	}

	// A template error echoing the value: the FailedError keeps its
	// step, and no message in it holds the value.
	err = redact(r, &FailedError{Step: "templates", Err: &render.Error{Problems: []error{errors.New(`a.tmpl:1:3: port "hunter2" is not in NONROOT_PORTS`)}}})
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Step != "templates" || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "a.tmpl:1:3: "+secrets.Withheld) {
		t.Errorf("redact = %v; want a templates FailedError with the value replaced", err)
	}
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "hunter2") {
			t.Errorf("an error in the chain holds the value: %v", e)
		}
	}
	ie := &InterruptedError{Step: "wait"}
	if got := redact(r, ie); got != ie {
		t.Errorf("redact(InterruptedError) = %v; want it as it is", got)
	}

	// A NAME an earlier step set (identity's HOME) is a conflict now:
	// a failed step (78), not a usage error.
	env = NewEnv([]string{"HOME_FILE=" + file})
	env.Set("HOME", "/home/default")
	_, err = applySecrets(&config.Config{FileEnv: []string{"HOME"}}, env, log)
	var ce *secrets.ConflictError
	if !errors.As(err, &fe) || fe.Step != "secrets" || errors.As(err, &ce) || !strings.Contains(err.Error(), "earlier setup step") {
		t.Errorf("applySecrets(HOME set by step 2) = %v; want a secrets FailedError naming the earlier step", err)
	}
}
