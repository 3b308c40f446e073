package setup

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
)

// execFixture is an image whose passwd has no entry for the UID, and the
// settings of an environment-only identity (no library needed) whose
// HOME goes to STATE_DIR/home.
func execFixture(t *testing.T) (*config.Config, Host, Creds) {
	t.Helper()
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Passwd: config.PasswdOff, Username: "default", StateDir: filepath.Join(dir, "state"), Umask: -1}
	h := Host{PasswdFile: passwd, GroupFile: filepath.Join(dir, "group"), ProcDir: filepath.Join(dir, "noproc"),
		Environ: []string{"PATH=/usr/bin:/bin", "HOME=/", "USER=root"}}
	// The entry is for 1000680000; the state dir belongs to our own euid.
	creds := Creds{UID: 1000680000, GID: 0, EUID: os.Geteuid(), EGID: os.Getegid()}
	return cfg, h, creds
}

var execQuiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestExecEnvFromRunningInit: Run writes the identity it gave COMMAND to
// STATE_DIR/env, and ExecEnv sets it on top of the session's own
// environment.
func TestExecEnvFromRunningInit(t *testing.T) {
	cfg, h, creds := execFixture(t)
	res, err := Run(cfg, h, creds, execQuiet, Processes{})
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(cfg.StateDir, "home")
	if got, _ := res.Env.Get("HOME"); got != home {
		t.Fatalf("Run: HOME=%q; want %q", got, home)
	}
	fi, err := os.Lstat(filepath.Join(cfg.StateDir, "env"))
	if err != nil || fi.Mode() != 0o600 {
		t.Fatalf("Run left STATE_DIR/env %v, %v; want a 0600 file", fi, err)
	}

	// A session started later: the container's environment, another PATH.
	session := h
	session.Environ = []string{"PATH=/session/bin", "HOME=/", "TERM=xterm"}
	// Settings that would give another identity, had exec provided one
	// itself: the running init's wins.
	other := *cfg
	other.Username = "someone-else"
	env, err := ExecEnv(&other, session, creds, execQuiet)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"HOME": home, "USER": "default", "LOGNAME": "default", "PATH": "/session/bin", "TERM": "xterm"} {
		if got, _ := env.Get(k); got != want {
			t.Errorf("ExecEnv: %s=%q; want %q", k, got, want)
		}
	}
}

// TestExecEnvNoRunningInit: with no STATE_DIR/env, ExecEnv provides the
// identity itself, as step 2, and writes no env file.
func TestExecEnvNoRunningInit(t *testing.T) {
	cfg, h, creds := execFixture(t)
	env, err := ExecEnv(cfg, h, creds, execQuiet)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"HOME": filepath.Join(cfg.StateDir, "home"), "USER": "default", "LOGNAME": "default"} {
		if got, _ := env.Get(k); got != want {
			t.Errorf("ExecEnv: %s=%q; want %q", k, got, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(cfg.StateDir, "env")); !os.IsNotExist(err) {
		t.Errorf("ExecEnv wrote STATE_DIR/env (lstat: %v)", err)
	}
}

// TestExecEnvRefused: a refused env file is an error, not a fallback.
func TestExecEnvRefused(t *testing.T) {
	cfg, h, creds := execFixture(t)
	if err := os.Mkdir(cfg.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.StateDir, "env"), []byte("HOME=/evil\nUSER=evil\nLOGNAME=evil\nLD_LIBRARY_PATH=/evil\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ExecEnv(cfg, h, creds, execQuiet)
	var fe *identity.EnvFileError
	if !errors.As(err, &fe) {
		t.Errorf("ExecEnv(planted env) err = %v; want an *identity.EnvFileError", err)
	}
}

// TestExecEnvNotMadeForExistingEntry: a UID with an entry and a usable
// HOME needs no STATE_DIR, and none is made for the env file.
func TestExecEnvNotMadeForExistingEntry(t *testing.T) {
	cfg, h, creds := execFixture(t)
	home := t.TempDir()
	if err := os.WriteFile(h.PasswdFile, []byte("app:x:1000680000:0::"+home+":/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.Environ = []string{"HOME=" + home}
	cfg.Passwd = config.PasswdAuto
	if _, err := Run(cfg, h, creds, execQuiet, Processes{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(cfg.StateDir); !os.IsNotExist(err) {
		t.Errorf("Run made STATE_DIR for a uid with an entry (lstat: %v)", err)
	}
}
