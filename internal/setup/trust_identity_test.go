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

// TestTrustRunRootNameIsUsageError: NONROOT_USERNAME naming a UID-0 entry
// is an identity.UsageError from Run, found before step 1 changes anything
// (main exits 2 for it), never a FailedError (78).
func TestTrustRunRootNameIsUsageError(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Username: "root", Passwd: config.PasswdAuto, StateDir: filepath.Join(dir, "state")}
	host := Host{PasswdFile: passwd, GroupFile: filepath.Join(dir, "group"), ProcDir: "/proc"}
	_, err := Run(cfg, host, ReadCreds(), slog.New(slog.NewTextHandler(io.Discard, nil)), Processes{})
	var ue *identity.UsageError
	var fe *FailedError
	if !errors.As(err, &ue) || errors.As(err, &fe) {
		t.Errorf("Run(NONROOT_USERNAME=root) err = %#v; want an identity.UsageError that is no FailedError", err)
	}
	if _, err := os.Lstat(cfg.StateDir); !os.IsNotExist(err) {
		t.Errorf("the state dir was made (lstat: %v)", err)
	}
}
