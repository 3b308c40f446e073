package setup

import (
	"errors"
	"log/slog"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// renderTemplates is step 5: it renders every SRC:DST of NONROOT_TEMPLATES.
func renderTemplates(cfg *config.Config, env *Env, resolvedPorts map[string]int, log *slog.Logger) error {
	if len(cfg.Templates) == 0 {
		return nil
	}
	return &FailedError{Step: "templates", Err: errors.New("NONROOT_TEMPLATES is not supported by this build yet")}
}
