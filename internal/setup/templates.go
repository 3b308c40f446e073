package setup

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/doctor"
	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/internal/ports"
	"github.com/nonroot-init/nonroot-init/internal/render"
)

// renderTemplates is step 5: it renders every SRC:DST of
// NONROOT_TEMPLATES in memory with COMMAND's environment so far, the user
// of step 2 and the ports of step 4, then writes the files. Any render
// error writes nothing.
func renderTemplates(cfg *config.Config, env *Env, user identity.User, resolvedPorts map[string]int, log *slog.Logger) error {
	if len(cfg.Templates) == 0 {
		return nil
	}
	data := render.Data{
		Env:   envMap(env),
		User:  render.User{Name: user.Name, UID: user.UID, GID: user.GID, Home: user.Home},
		Ports: resolvedPorts,
	}
	files, err := render.Render(cfg.Templates, data)
	if err != nil {
		return &FailedError{Step: "templates", Err: err}
	}
	if err := render.Write(files); err != nil {
		return &FailedError{Step: "templates", Err: err}
	}
	rendered := 0
	for _, f := range files {
		if f.Rendered {
			rendered++
		}
	}
	log.Info("templates written", "rendered", rendered, "copied", len(files)-rendered, "to", templateDsts(cfg.Templates))
	return nil
}

func envMap(env *Env) map[string]string {
	m := map[string]string{}
	for _, kv := range env.List() {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func templateDsts(pairs []config.Template) string {
	dsts := make([]string, len(pairs))
	for i, p := range pairs {
		dsts[i] = p.Dst
	}
	return strings.Join(dsts, ",")
}

// templatesSection is the templates part of doctor: each source found
// and what it would become, and every render error. Rendering happens in
// memory only, with the init's own environment (what steps 2 and 4 would
// add is not there, except the resolved ports), so doctor writes nothing.
func templatesSection(cfg *config.Config, host Host) doctor.Section {
	s := doctor.Section{Name: "templates"}
	if len(cfg.Templates) == 0 {
		s.Add("NONROOT_TEMPLATES", "empty")
		return s
	}
	env := NewEnv(host.Environ)
	resolved := map[string]int{}
	if facts, err := ports.ReadFacts(host.ProcDir); err == nil {
		if ds, err := ports.Resolve(cfg.Ports, cfg.PortOffset, facts); err == nil {
			for _, d := range ds {
				resolved[d.Name] = d.Port
				env.Set(d.Name, fmt.Sprint(d.Port))
			}
		}
	}
	home, _ := env.Get("HOME")
	name, _ := env.Get("USER")
	user := render.User{Name: name, UID: os.Getuid(), GID: os.Getgid(), Home: home}
	files, err := render.Render(cfg.Templates, render.Data{Env: envMap(env), User: user, Ports: resolved})
	if rerr, ok := err.(*render.Error); ok {
		for _, p := range rerr.Problems {
			s.Problem(p.Error(), "fix the template or the setting it names; nothing is written while any template fails")
		}
		return s
	}
	for _, f := range files {
		how := "copy"
		if f.Rendered {
			how = "render"
		}
		s.Add(f.Source, "%s to %s (mode %04o, %d bytes)", how, f.Path(), f.Mode, len(f.Content))
	}
	s.Notes = append(s.Notes, "templates were rendered in memory with the init's environment; writability of DST judged by access(2) with the effective IDs")
	return s
}
