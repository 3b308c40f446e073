package setup

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/privileges"
)

// TestCredsStepsReceiveInjected: Run hands the steps the credentials it
// is given, not the test's own: step 1 judges RUN_AS from them and step
// 2 provides the entry of their UID.
func TestCredsStepsReceiveInjected(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	lines := "root:x:0:0:root:/root:/bin/sh\napp:x:1000680000:0:app:" + dir + ":/bin/sh\n"
	if err := os.WriteFile(passwd, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	// A ProcDir that does not exist: should a step read the real
	// credentials again and find root, it fails before changing any.
	h := Host{PasswdFile: passwd, GroupFile: filepath.Join(dir, "group"), ProcDir: filepath.Join(dir, "noproc"),
		Environ: []string{"HOME=" + dir}}
	app := Creds{UID: 1000680000, GID: 0, EUID: 1000680000, EGID: 0, Groups: []int{0}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	cfg := &config.Config{Passwd: config.PasswdAuto, Username: "default", StateDir: filepath.Join(dir, "state")}
	res, err := Run(cfg, h, app, quiet, Processes{})
	if err != nil {
		t.Fatalf("Run(uid 1000680000): %v", err)
	}
	if user, _ := res.Env.Get("USER"); user != "app" {
		t.Errorf("Run(uid 1000680000): USER=%q; want app, the entry of the injected uid", user)
	}

	cfg.RunAs = &config.IDs{UID: 2000, GID: 2000}
	_, err = Run(cfg, h, app, quiet, Processes{})
	var re *privileges.RunAsError
	if !errors.As(err, &re) || re.UID != 1000680000 || re.GID != 0 {
		t.Errorf("Run(uid 1000680000, RUN_AS 2000:2000) = %v; want a RunAsError for uid 1000680000 gid 0", err)
	}
}

// TestCredsAfterStepOne: with nothing to switch, step 1 hands on the
// credentials it was given, unchanged.
func TestCredsAfterStepOne(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	for _, creds := range []Creds{
		{UID: 1000680000, GID: 0, EUID: 1000680000, EGID: 0, Groups: []int{0, 1000680000}},
		{UID: 0, GID: 0, EUID: 0, EGID: 0}, // root without RUN_AS: stays root
	} {
		got, err := dropPrivileges(&config.Config{}, Host{ProcDir: filepath.Join(t.TempDir(), "noproc")}, creds, log)
		if err != nil || !reflect.DeepEqual(got, creds) {
			t.Errorf("dropPrivileges(no RUN_AS, %+v) = %+v, %v; want the same credentials", creds, got, err)
		}
	}
}
