// Package setup is nonroot-init's pipeline: the ordered setup steps of
// SPEC.md between reading the settings and starting COMMAND. Each step is
// one plain function call with explicit inputs and outputs; COMMAND's
// environment is a value built up step by step, never os.Setenv.
package setup

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/internal/reload"
	"github.com/nonroot-init/nonroot-init/internal/secrets"
	"github.com/nonroot-init/nonroot-init/internal/supervisor"
	"github.com/nonroot-init/nonroot-init/internal/volumes"
)

// Host describes the machine: the files and facts the steps read (see
// package host, which doctor shares).
type Host = host.Host

// Creds is who the process is (host.Creds): main reads it once.
type Creds = host.Creds

// FailedError is a setup step that failed in strict mode: the init exits
// 78 (EX_CONFIG) and COMMAND is not started.
type FailedError struct {
	Step string
	Err  error
}

func (e *FailedError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *FailedError) Unwrap() error { return e.Err }

// InterruptedError is a signal that ended the start during a step that
// waits (WAIT, HOOKS): COMMAND was never started, and the init exits
// 128+Signal (143 for SIGTERM).
type InterruptedError struct {
	Step   string
	Signal syscall.Signal
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("%s: %s arrived, COMMAND not started", e.Step, unix.SignalName(e.Signal))
}

// Processes is what the steps that run or wait (7 and 8) share with the
// supervisor: the signals that arrive meanwhile, and COMMAND's stdin.
type Processes struct {
	Inbox *supervisor.Inbox
	Stdin *os.File
}

// Result is what the steps hand to the supervisor.
type Result struct {
	Env *Env // COMMAND's environment: the init's plus what the steps add
	// Reload is NONROOT_RELOAD_SIGNAL for the supervisor, nil when off;
	// Watcher is its watch of the template sources, for main to close.
	Reload  *supervisor.ReloadOptions
	Watcher *reload.Watcher
}

// Run runs the setup steps in SPEC.md's order and returns COMMAND's
// environment. creds is who the init started as; step 1 changes it, and
// the later steps receive what step 1 left. Nothing here starts a process.
func Run(cfg *config.Config, host Host, creds Creds, log *slog.Logger, proc Processes) (_ Result, err error) {
	// values are step 6's secrets: once read, every error returned goes
	// through redact, whichever step it comes from (a template error can
	// echo a value).
	var values *secrets.Redactor
	defer func() { err = redact(values, err) }()
	env := NewEnv(host.Environ)
	// NONROOT_FILE_ENV's NAME and NAME_FILE both set is a usage error
	// (exit 2), found before anything changes.
	if err := planSecrets(cfg, env); err != nil {
		return Result{}, err
	}

	// A NONROOT_USERNAME of a UID-0 entry is a usage error (exit 2), found
	// before anything changes. Step 2 checks it before it writes; only
	// when step 1 is to act (root with RUN_AS: fix-permissions, the
	// switch) must it be checked here first. Other starts read
	// /etc/passwd once.
	if creds.EUID == 0 && cfg.RunAs != nil {
		if err := identity.CheckUsername(host.PasswdFile, cfg.Username); err != nil {
			return Result{}, err
		}
	}

	// 1. Drop privileges (RUN_AS): fix-permissions on VOLUMES first.
	// This changes who we are: from here on, creds is who step 1 left.
	creds, err = dropPrivileges(cfg, host, creds, log)
	if err != nil {
		return Result{}, &FailedError{Step: "privileges", Err: err}
	}

	// 2. Identity: a passwd entry, HOME, USER and LOGNAME; the same
	// identity goes to STATE_DIR/env for `nonroot-init exec`.
	id, err := provideIdentity(cfg, host, creds, env, log)
	if ue := new(identity.UsageError); errors.As(err, &ue) {
		return Result{}, err // a setting, not a failed step (exit 2)
	}
	if err != nil {
		return Result{}, &FailedError{Step: "identity", Err: err}
	}
	user := id.User
	writeExecEnv(cfg, creds, env, id.Env, log)

	// 3. Volumes: prove each path writable.
	if len(cfg.Volumes) > 0 && cfg.VolumeCheck != config.CheckOff {
		err := volumes.Check(cfg.Volumes, volumes.IdentityOf(creds))
		switch {
		case err == nil:
			log.Info("volumes are writable", "paths", strings.Join(cfg.Volumes, ","))
		case cfg.VolumeCheck == config.CheckStrict:
			return Result{}, &FailedError{Step: "volumes", Err: err}
		default:
			for _, p := range volumes.Problems(err) {
				log.Warn("volume check failed, starting COMMAND anyway (NONROOT_VOLUME_CHECK=warn)", "err", p)
			}
		}
	}

	// 4. Ports: the port COMMAND can bind for each NAME=PORT.
	resolvedPorts, err := resolvePorts(cfg, host, env, log)
	if err != nil {
		return Result{}, err
	}

	// 6. Secrets (FILE_ENV), before 5 so that templates see them in
	// .Env.
	values, err = applySecrets(cfg, env, log)
	if err != nil {
		return Result{}, err
	}

	// 5. Templates: render SRC into DST; with RELOAD_SIGNAL, watch SRC
	// from before it is read.
	watch := watchTemplates(cfg, log)
	if err := renderTemplates(cfg, env, user, resolvedPorts, values.Values(), log); err != nil {
		closeWatch(watch)
		return Result{}, err
	}

	// 7. Wait: every NONROOT_WAIT dependency ready, under the Inbox.
	if err := waitDependencies(cfg, proc, log); err != nil {
		closeWatch(watch)
		return Result{}, err
	}

	// 8. Hooks: run each executable of HOOKS, as COMMAND will run.
	if err := runHooks(cfg, env, proc, log); err != nil {
		closeWatch(watch)
		return Result{}, err
	}

	return Result{Env: env, Reload: reloadOptions(cfg, watch, env, user, resolvedPorts, values, log), Watcher: watch}, nil
}

// Env is COMMAND's environment under construction (host.Env).
type Env = host.Env

// NewEnv starts COMMAND's environment from environ (host.NewEnv).
func NewEnv(environ []string) *Env { return host.NewEnv(environ) }

// ReadCreds reads who the process is (host.ReadCreds).
func ReadCreds() Creds { return host.ReadCreds() }
