package setup

import (
	"log/slog"
	"strings"
	"syscall"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/internal/reload"
	"github.com/nonroot-init/nonroot-init/internal/render"
	"github.com/nonroot-init/nonroot-init/internal/secrets"
	"github.com/nonroot-init/nonroot-init/internal/supervisor"
)

// watchTemplates starts watching every template SRC for
// NONROOT_RELOAD_SIGNAL, before step 5 reads them: a change made while
// step 5 renders, or during the steps after it, is then not lost but
// handled once COMMAND runs (a re-render that finds nothing new does
// nothing). It returns nil when reload is off, or when inotify is not
// available, which is warned about: COMMAND then runs without reloads.
func watchTemplates(cfg *config.Config, log *slog.Logger) *reload.Watcher {
	if p := cfg.ReloadProblem(); p != "" {
		log.Warn(p)
		return nil
	}
	if cfg.ReloadSignal == 0 {
		return nil
	}
	srcs := make([]string, len(cfg.Templates))
	for i, p := range cfg.Templates {
		srcs[i] = p.Src
	}
	w, err := reload.New(srcs, reload.Debounce, log)
	if err != nil {
		log.Warn("NONROOT_RELOAD_SIGNAL: no reload; COMMAND runs with the files rendered at the start", "err", err)
		return nil
	}
	dirs := make([]string, 0, len(w.Watches()))
	for _, x := range w.Watches() {
		dirs = append(dirs, x.Dir)
	}
	log.Info("watching template sources for changes", "signal", supervisor.SignalNames([]syscall.Signal{cfg.ReloadSignal}),
		"check", strings.Join(cfg.ReloadCheck, " "), "dirs", strings.Join(dirs, ","))
	return w
}

// reloadOptions is what the supervisor needs to reload: w's changes,
// and Apply, which renders every pair again with the same data as step 5
// (COMMAND's environment, the user of step 2, the ports of step 4) and
// writes the set, all or nothing.
//
// Step 6's values are handled as at the start: a file holding one is
// written owner-only, and a render error that contains one is withheld
// before the supervisor logs it.
func reloadOptions(cfg *config.Config, w *reload.Watcher, env *Env, user identity.User, resolvedPorts map[string]int, values *secrets.Redactor, log *slog.Logger) *supervisor.ReloadOptions {
	if w == nil {
		return nil
	}
	if len(cfg.ReloadCheck) > 0 {
		// Found now, in COMMAND's PATH, rather than at the first reload.
		pathEnv, _ := env.Get("PATH")
		if _, err := supervisor.LookPath(cfg.ReloadCheck[0], pathEnv); err != nil {
			log.Warn("NONROOT_RELOAD_CHECK cannot be run: every reload will put the previous files back and send no signal; "+supervisor.CheckFix(cfg.ReloadCheck[0], err),
				"check", strings.Join(cfg.ReloadCheck, " "), "err", err)
		}
	}
	return &supervisor.ReloadOptions{
		Changes: w.C(),
		Apply: func() (supervisor.Applied, error) {
			data := render.Data{
				Env:     env.Map(),
				User:    render.User{Name: user.Name, UID: user.UID, GID: user.GID, Home: user.Home},
				Ports:   resolvedPorts,
				Secrets: values.Values(),
			}
			files, err := render.Render(cfg.Templates, data)
			if err != nil {
				return nil, redact(values, err)
			}
			a, err := render.WriteSet(files)
			if err != nil {
				return nil, redact(values, err)
			}
			logSwept(log, "reload: ", a)
			return a, nil
		},
		Check:        cfg.ReloadCheck,
		CheckTimeout: supervisor.CheckTimeout,
		Signal:       cfg.ReloadSignal,
	}
}

// closeWatch stops w, when there is one.
func closeWatch(w *reload.Watcher) {
	if w != nil {
		_ = w.Close()
	}
}
