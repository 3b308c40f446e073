package setup

import (
	"errors"
	"log/slog"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
)

// writeExecEnv stores the identity step 2 gave COMMAND (vars) in
// STATE_DIR/env, so that `nonroot-init exec` in a `kubectl exec` session
// gives its shell the same user. It never makes a STATE_DIR: with none
// (a UID whose entry and HOME needed none), exec finds no file and
// provides the same identity itself. A failure costs COMMAND nothing and
// is a warning.
func writeExecEnv(cfg *config.Config, creds Creds, env *Env, vars []identity.Var, log *slog.Logger) {
	path, err := identity.WriteEnv(cfg.StateDir, env.Get, creds.EUID, vars)
	switch {
	case err == nil:
		log.Debug("identity written for nonroot-init exec", "file", path)
	case errors.Is(err, identity.ErrNoState):
		log.Debug("no STATE_DIR, so no identity written for nonroot-init exec; it will provide one itself", "why", err)
	default:
		log.Warn("cannot write the identity for nonroot-init exec; a kubectl exec session running it will provide one itself", "err", err)
	}
}

// ExecEnv is `nonroot-init exec`: the environment its COMMAND gets. It
// is the current environment (host.Environ) with the identity the running
// init wrote to STATE_DIR/env set on top (identity.ReadEnv finds it by
// the init's STATE_DIR rule). With no running init (no STATE_DIR, or no
// env file in it) it runs the identity step itself, as step 2 does,
// without writing STATE_DIR/env. Started as root with NONROOT_RUN_AS, it
// first switches to that user as step 1 does (without fix-permissions).
// Steps 3, 4 and 5 never run. A refused
// env file is an *identity.EnvFileError; a setting that cannot work is an
// *identity.UsageError.
func ExecEnv(cfg *config.Config, host Host, creds Creds, log *slog.Logger) (*Env, error) {
	env := NewEnv(host.Environ)
	// A session started as root (kubectl exec as root into a container
	// whose init drops to NONROOT_RUN_AS) gets the user COMMAND has, not
	// root: step 1's switch (groups, bounding set, no_new_privs), without
	// fix-permissions, which the init has run. Then the target user's
	// STATE_DIR is the one found.
	if creds.EUID == 0 && cfg.RunAs != nil && cfg.RunAs.UID != 0 {
		c := *cfg
		c.Volumes = nil
		var err error
		if creds, err = dropPrivileges(&c, host, creds, log); err != nil {
			return nil, &FailedError{Step: "privileges", Err: err}
		}
	}
	vars, path, err := identity.ReadEnv(cfg.StateDir, env.Get, creds.EUID)
	switch {
	case err == nil:
		log.Debug("identity of the running init", "file", path)
		for _, v := range vars {
			env.Set(v.Key, v.Value)
		}
		return env, nil
	case !errors.Is(err, identity.ErrNoState):
		return nil, err
	}
	log.Debug("no running init's identity found; providing it as step 2 does", "why", err)
	if _, err := provideIdentity(cfg, host, creds, env, log); err != nil {
		var ue *identity.UsageError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, &FailedError{Step: "identity", Err: err}
	}
	return env, nil
}
