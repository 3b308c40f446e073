package setup

import (
	"log/slog"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/internal/render"
)

// renderTemplates is step 5: it renders every SRC:DST of
// NONROOT_TEMPLATES in memory with COMMAND's environment so far, the user
// of step 2 and the ports of step 4, then writes the files. Any render
// error writes nothing. secretValues are step 6's values: a rendered
// file holding one (or that read a file with the function file) is
// written owner-only, and one info line names those files.
func renderTemplates(cfg *config.Config, env *Env, user identity.User, resolvedPorts map[string]int, secretValues []string, log *slog.Logger) error {
	if len(cfg.Templates) == 0 {
		return nil
	}
	data := render.Data{
		Env:     env.Map(),
		User:    render.User{Name: user.Name, UID: user.UID, GID: user.GID, Home: user.Home},
		Ports:   resolvedPorts,
		Secrets: secretValues,
	}
	files, err := render.Render(cfg.Templates, data)
	if err != nil {
		return &FailedError{Step: "templates", Err: err}
	}
	applied, err := render.WriteSet(files)
	if err != nil {
		return &FailedError{Step: "templates", Err: err}
	}
	logSwept(log, "", applied)
	unchanged := applied.Unchanged()
	if err := applied.Commit(); err != nil {
		return &FailedError{Step: "templates", Err: err}
	}
	rendered := 0
	for _, f := range files {
		if f.Rendered {
			rendered++
		}
	}
	msg := "templates written"
	if unchanged {
		// Every DST already held these bytes and modes: nothing was
		// written, and the log says so.
		msg = "templates unchanged"
	}
	var owner []string
	for _, f := range files {
		if f.Secret {
			owner = append(owner, f.Path())
		}
	}
	if len(owner) > 0 {
		log.Info("templates hold secret values: written owner-only (no group or other permission)", "files", strings.Join(owner, ","))
	}
	log.Info(msg, "rendered", rendered, "copied", len(files)-rendered, "to", templateDsts(cfg.Templates))
	return nil
}

// logSwept says what a write removed of an interrupted earlier one, if
// anything; prefix starts the message ("reload: ").
func logSwept(log *slog.Logger, prefix string, a *render.Applied) {
	if swept := a.Swept(); len(swept) > 0 {
		log.Info(prefix+"removed what an interrupted earlier write left (temporary files and backups of ours)", "files", strings.Join(swept, ","))
	}
}

func templateDsts(pairs []config.Template) string {
	dsts := make([]string, len(pairs))
	for i, p := range pairs {
		dsts[i] = p.Dst
	}
	return strings.Join(dsts, ",")
}
