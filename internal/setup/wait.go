package setup

import (
	"context"
	"log/slog"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/wait"
)

// waitDependencies is step 7: it waits for every NONROOT_WAIT dependency
// under proc.Inbox, so that SIGTERM, SIGINT or SIGQUIT ends the start at
// once (InterruptedError, exit 128+N) and every other signal is held for
// COMMAND or dropped with a warning (supervisor.Inbox.Hold). A timeout is a failed step (exit 78). A nil Inbox (a caller
// that handles no signals) waits without one.
func waitDependencies(cfg *config.Config, proc Processes, log *slog.Logger) error {
	if len(cfg.Wait) == 0 {
		return nil
	}
	f := func(ctx context.Context) error { return wait.All(ctx, cfg.Wait, cfg.WaitTimeout, log) }
	if proc.Inbox == nil {
		if err := f(context.Background()); err != nil {
			return &FailedError{Step: "wait", Err: err}
		}
		return nil
	}
	sig, err := proc.Inbox.During(f)
	if sig != 0 {
		return &InterruptedError{Step: "wait", Signal: sig}
	}
	if err != nil {
		return &FailedError{Step: "wait", Err: err}
	}
	return nil
}
