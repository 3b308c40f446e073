package doctor

import (
	"fmt"
	"os"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/ports"
	"github.com/nonroot-init/nonroot-init/internal/render"
)

// templatesSection is the templates part of doctor: each source found
// and what it would become, and every render error. Rendering happens in
// memory only, with the init's own environment (what steps 2 and 4 would
// add is not there, except the ports step 4 would resolve, decisions), so
// doctor writes nothing.
func templatesSection(cfg *config.Config, h host.Host, decisions []ports.Decision) Section {
	s := Section{Name: "templates"}
	if len(cfg.Templates) == 0 {
		s.Add("NONROOT_TEMPLATES", "empty")
		return s
	}
	env := host.NewEnv(h.Environ)
	resolved := map[string]int{}
	for _, d := range decisions {
		resolved[d.Name] = d.Port
		env.Set(d.Name, fmt.Sprint(d.Port))
	}
	home, _ := env.Get("HOME")
	name, _ := env.Get("USER")
	user := render.User{Name: name, UID: os.Getuid(), GID: os.Getgid(), Home: home}
	files, err := render.Render(cfg.Templates, render.Data{Env: env.Map(), User: user, Ports: resolved})
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
