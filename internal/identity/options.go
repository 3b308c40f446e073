package identity

import (
	"runtime"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// generatedShell is the login shell of a generated passwd entry.
const generatedShell = "/bin/sh"

// NewOptions fills the identity step's options from the settings, the
// passwd and group files, who we are (after RUN_AS) and COMMAND's
// environment so far. setup's step 2 and doctor both start from it, so
// that doctor judges what setup would do.
func NewOptions(cfg *config.Config, passwdFile, groupFile string, creds host.Creds, getenv func(string) (string, bool)) Options {
	return Options{
		Mode:          cfg.Passwd,
		Username:      cfg.Username,
		Gecos:         cfg.Gecos,
		Home:          cfg.Home,
		NSSWrapperLib: cfg.NSSWrapperLib,
		StateDir:      cfg.StateDir,
		PasswdFile:    passwdFile,
		GroupFile:     groupFile,
		LibDirs:       LibDirs(runtime.GOARCH),
		GOARCH:        runtime.GOARCH,
		Shell:         generatedShell,
		UID:           creds.UID,
		GID:           creds.GID,
		EUID:          creds.EUID,
		Groups:        creds.Groups,
		Getenv:        getenv,
	}
}
