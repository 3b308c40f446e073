package setup

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/hooks"
	"github.com/nonroot-init/nonroot-init/internal/supervisor"
)

// runHooks is step 8: every executable of the NONROOT_HOOKS directories,
// in order, one at a time, as COMMAND will run (its environment env as
// steps 2 to 6 left it, the user step 1 left, the init's working
// directory, stdio, NONROOT_UMASK, signal forwarding), each bounded by
// NONROOT_HOOK_TIMEOUT. A hook that fails, dies of a signal or times out
// stops the start (*FailedError, 78) naming it and how it ended; a
// signal that stops the start (TERM, INT, QUIT) arriving while a hook
// runs is forwarded to it, and once it is gone the start ends
// (*InterruptedError, 128+N) whatever its status. With NONROOT_EXEC the
// hooks run the same way, as children, before the exec.
func runHooks(cfg *config.Config, env *Env, proc Processes, log *slog.Logger) error {
	if len(cfg.Hooks) == 0 {
		return nil
	}
	list, err := hooks.List(cfg.Hooks)
	if err != nil {
		return &FailedError{Step: "hooks", Err: err}
	}
	for _, dir := range list.Empty {
		log.Debug("hook directory is empty", "dir", dir)
	}
	for _, s := range list.Skipped {
		log.Warn("hook skipped", "path", s.Path, "why", s.Reason)
	}
	stdin := proc.Stdin
	if stdin == nil {
		stdin = os.Stdin
	}
	for _, path := range list.Hooks {
		// A signal sent before this hook existed is not for it: held for
		// COMMAND (or dropped, Inbox.Hold), or the end of the start.
		if proc.Inbox != nil {
			proc.Inbox.Drain()
		}
		if sig := hookStopped(proc.Inbox); sig != 0 {
			return &InterruptedError{Step: "hooks", Signal: sig}
		}
		opts := supervisor.Options{
			Path:        path,
			Argv:        []string{path},
			Env:         env.List(),
			Stdin:       stdin,
			SignalGroup: cfg.SignalGroup,
			Rewrite:     cfg.RewriteSignals,
			GracePeriod: cfg.GracePeriod,
			Umask:       cfg.Umask,
			Log:         log,
		}
		log.Info("running hook", "path", path)
		began := time.Now()
		res, err := supervisor.RunHook(opts, proc.Inbox, cfg.HookTimeout)
		took := time.Since(began).Round(time.Millisecond)
		if err != nil {
			if ee := new(supervisor.ExecError); errors.As(err, &ee) {
				err = ee.Err
			}
			return &FailedError{Step: "hooks", Err: fmt.Errorf("NONROOT_HOOKS: cannot run hook %s: %w; give it a #! line and make it executable, or remove it", path, err)}
		}
		status := supervisor.StatusText(res.Status)
		switch {
		case res.Survived:
			status = "survived SIGKILL"
		case res.TimedOut:
			status = fmt.Sprintf("outlived NONROOT_HOOK_TIMEOUT (%s) and was killed", cfg.HookTimeout)
		}
		log.Info("hook finished", "path", path, "status", status, "duration", took)
		if sig := hookStopped(proc.Inbox); sig != 0 {
			return &InterruptedError{Step: "hooks", Signal: sig}
		}
		if res.TimedOut || res.Survived || res.Status.Signaled() || res.Status.ExitStatus() != 0 {
			return &FailedError{Step: "hooks", Err: fmt.Errorf("NONROOT_HOOKS: hook %s %s; later hooks and COMMAND were not run", path, status)}
		}
	}
	if len(list.Hooks) > 0 {
		log.Info("hooks done", "ran", len(list.Hooks), "skipped", len(list.Skipped))
	}
	return nil
}

// hookStopped is the signal that ended the start, 0 when none did (or when
// there is no inbox: a caller without signals).
func hookStopped(in *supervisor.Inbox) syscall.Signal {
	if in == nil {
		return 0
	}
	return in.Stopped()
}
