package setup

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/supervisor"
)

func hookFile(t *testing.T, dir, name, script string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func hookCfg(dirs ...string) *config.Config {
	return &config.Config{Hooks: dirs, HookTimeout: time.Minute, GracePeriod: time.Second, Umask: -1}
}

func TestRunHooksFailureStopsTheStart(t *testing.T) {
	d, out := t.TempDir(), t.TempDir()
	hookFile(t, d, "10-ok", "echo $STEP_VAR > "+out+"/10")
	hookFile(t, d, "20-fail", "exit 3")
	hookFile(t, d, "30-later", "touch "+out+"/30")
	env := NewEnv([]string{"PATH=/usr/bin:/bin"})
	env.Set("STEP_VAR", "from-step-4")
	in := supervisor.NewInbox(make(chan os.Signal), nil)
	err := runHooks(hookCfg(d), env, Processes{Inbox: in}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Step != "hooks" {
		t.Fatalf("runHooks = %v; want a *FailedError of step hooks", err)
	}
	if want := filepath.Join(d, "20-fail") + " exited with status 3"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if b, _ := os.ReadFile(out + "/10"); strings.TrimSpace(string(b)) != "from-step-4" {
		t.Errorf("10-ok saw STEP_VAR=%q; want from-step-4 (COMMAND's environment)", b)
	}
	if _, err := os.Stat(out + "/30"); err == nil {
		t.Error("30-later ran after 20-fail failed")
	}
}

func TestRunHooksTimeout(t *testing.T) {
	d := t.TempDir()
	hookFile(t, d, "slow", "trap '' TERM; while :; do sleep 0.05; done")
	cfg := hookCfg(d)
	cfg.HookTimeout, cfg.GracePeriod = 300*time.Millisecond, 200*time.Millisecond
	err := runHooks(cfg, NewEnv([]string{"PATH=/usr/bin:/bin"}), Processes{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if want := "outlived NONROOT_HOOK_TIMEOUT (300ms) and was killed"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("runHooks = %v; want an error saying %q", err, want)
	}
}

func TestRunHooksStopBeforeAHook(t *testing.T) {
	d, out := t.TempDir(), t.TempDir()
	hookFile(t, d, "a", "touch "+out+"/a")
	ch := make(chan os.Signal, 2)
	ch <- syscall.SIGHUP // held for COMMAND, not sent to the hook
	ch <- syscall.SIGTERM
	in := supervisor.NewInbox(ch, nil)
	err := runHooks(hookCfg(d), NewEnv(nil), Processes{Inbox: in}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.Signal != syscall.SIGTERM || ie.Step != "hooks" {
		t.Fatalf("runHooks = %v; want InterruptedError{hooks, SIGTERM}", err)
	}
	if _, err := os.Stat(out + "/a"); err == nil {
		t.Error("the hook ran after SIGTERM arrived")
	}
	if h, d := in.Held(), in.Dropped(); len(h) != 0 || len(d) != 1 || d[0] != syscall.SIGHUP {
		t.Errorf("held %v, dropped %v; want SIGHUP dropped (it would kill COMMAND at its start)", h, d)
	}
}

func TestRunHooksMissingDirectory(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "entrypoint.d")
	err := runHooks(hookCfg(missing), NewEnv(nil), Processes{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var fe *FailedError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("runHooks = %v; want a *FailedError naming %s", err, missing)
	}
}
