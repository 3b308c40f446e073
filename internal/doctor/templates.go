package doctor

import (
	"fmt"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/ports"
	"github.com/nonroot-init/nonroot-init/internal/render"
)

// templatesSection is the templates part of doctor: each source found
// and what it would become, and every render error. Rendering happens in
// memory only, with the init's own environment (what steps 2 and 4 would
// add is not there, except the ports step 4 would resolve, decisions),
// plus the values of NONROOT_FILE_ENV that can be read, kept out of
// every problem; doctor writes nothing.
func templatesSection(cfg *config.Config, h host.Host, creds host.Creds, decisions []ports.Decision) (Section, []Template) {
	s := Section{Name: "templates"}
	js := make([]Template, len(cfg.Templates))
	for i, p := range cfg.Templates {
		js[i] = Template{Src: p.Src, Dst: p.Dst, Outputs: []TemplateFile{}}
	}
	if len(cfg.Templates) == 0 {
		s.Add("NONROOT_TEMPLATES", "empty")
		return s, js
	}
	// As root with NONROOT_RUN_AS the start renders as the target: a
	// render as root would read what the target may not (a source, a
	// NAME_FILE, a file PATH, through a link the target planted on the
	// way) and could show it, in a template's error or in a size.
	if uid, ok := rootForTarget(cfg, creds); ok {
		why := fmt.Sprintf("not rendered: doctor runs as root, the start renders as uid %d (NONROOT_RUN_AS); run doctor as that user (nonroot-init exec, or the pod itself) to check it", uid)
		for i := range js {
			js[i].NotChecked = &why
			s.Add(js[i].Src, "to %s: %s", js[i].Dst, why)
		}
		return s, js
	}
	env := host.NewEnv(h.Environ)
	red := secretsEnv(cfg, env)
	resolved := map[string]int{}
	for _, d := range decisions {
		resolved[d.Name] = d.Port
		env.Set(d.Name, fmt.Sprint(d.Port))
	}
	home, _ := env.Get("HOME")
	name, _ := env.Get("USER")
	user := render.User{Name: name, UID: creds.UID, GID: creds.GID, Home: home}
	files, err := render.Render(cfg.Templates, render.Data{Env: env.Map(), User: user, Ports: resolved, Secrets: red.Values()})
	if err != nil {
		problems := []error{err}
		if rerr, ok := err.(*render.Error); ok {
			problems = rerr.Problems
		}
		for _, p := range problems {
			msg := red.String(p.Error())
			s.Problem(msg, "fix the template or the setting it names; nothing is written while any template fails")
			for i := range js {
				if mentions(msg, js[i].Src) {
					js[i].Problem = joinProblem(js[i].Problem, msg)
				}
			}
		}
		return s, js
	}
	for i := range js {
		js[i].Files = ptr(0)
	}
	for _, f := range files {
		how := "copy"
		if f.Rendered {
			how = "render"
		}
		s.Add(f.Source, "%s to %s (mode %04o, %d bytes)", how, f.Path(), f.Mode, len(f.Content))
		for i := range js {
			if mentions(f.Source, js[i].Src) {
				*js[i].Files++
				js[i].Outputs = append(js[i].Outputs, TemplateFile{Source: f.Source, Path: f.Path(), Mode: octal(uint32(f.Mode.Perm())), Bytes: len(f.Content), Rendered: f.Rendered})
				break
			}
		}
	}
	s.Notes = append(s.Notes, "templates were rendered in memory with the init's environment and NONROOT_FILE_ENV's values; writability of DST judged by access(2) with the effective IDs")
	return s, js
}

// mentions reports whether text names path or a file below it: path
// followed by the end, ':', '/' or a space.
func mentions(text, path string) bool {
	path = strings.TrimSuffix(path, "/")
	for i := 0; path != ""; {
		j := strings.Index(text[i:], path)
		if j < 0 {
			return false
		}
		end := i + j + len(path)
		if end == len(text) || strings.ContainsRune(":/ ", rune(text[end])) {
			return true
		}
		i = end
	}
	return false
}

func joinProblem(p *string, msg string) *string {
	if p == nil {
		return &msg
	}
	return ptr(*p + "; " + msg)
}
