package doctor

import (
	"fmt"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/secrets"
)

// Secret is one variable NONROOT_FILE_ENV would set (step 6): the file
// it reads and whether it can. The value is never in the report.
type Secret struct {
	Name     string  `json:"name"`
	FileVar  string  `json:"file_var"`
	File     string  `json:"file"`
	Readable bool    `json:"readable"`
	Problem  *string `json:"problem"`
	// NotChecked says why doctor did not judge the file (readable is
	// then false, and it is no problem): doctor runs as root and the
	// start reads it as NONROOT_RUN_AS's user.
	NotChecked *string `json:"not_checked"`
}

// secretsSection is step 6 as doctor sees it, with doctor's own
// credentials creds: for each variable NONROOT_FILE_ENV would set, which
// file it reads and whether that file can be read (it is read, as the
// step would, and dropped). As root with NONROOT_RUN_AS (a non-root
// target), root's read would prove nothing about the target's, and
// judging the target's access by mode bits along a path root resolves
// is what a planted link could fool: the file is reported as not
// checked, which is not a problem.
func secretsSection(cfg *config.Config, h host.Host, creds host.Creds) (Section, []Secret) {
	s := Section{Name: "secrets"}
	js := []Secret{}
	if len(cfg.FileEnv) == 0 && !cfg.FileEnvAll {
		s.Add("NONROOT_FILE_ENV", "empty")
		return s, js
	}
	plan, err := secrets.NewPlanBefore(host.NewEnv(h.Environ), cfg.FileEnv, cfg.FileEnvAll, laterVars(cfg))
	if err != nil {
		s.Problem(err.Error(), "")
		return s, js
	}
	target, asTarget := rootForTarget(cfg, creds)
	for _, src := range plan.Sources {
		j := Secret{Name: src.Name, FileVar: src.Var(), File: src.File, Readable: true}
		if asTarget {
			why := fmt.Sprintf("not checked: doctor reads as root, the start reads it as uid %d (NONROOT_RUN_AS); run doctor as that user (nonroot-init exec, or the pod itself) to check it", target)
			j.Readable, j.NotChecked = false, &why
			s.Add(src.Name, "from %s=%s: %s", src.Var(), src.File, why)
			js = append(js, j)
			continue
		}
		if _, err := secrets.Read(src); err != nil {
			j.Readable, j.Problem = false, ptr(err.Error())
			s.Problem(err.Error(), "")
		} else {
			s.Add(src.Name, "from %s=%s: readable", src.Var(), src.File)
		}
		js = append(js, j)
	}
	for _, name := range plan.Shadowed {
		s.Add(name, "set, so %s_FILE is left as it is (NONROOT_FILE_ENV=* covers only unset variables)", name)
	}
	if len(plan.Sources) == 0 && len(plan.Shadowed) == 0 {
		s.Add("NONROOT_FILE_ENV", "no listed NAME has NAME_FILE set: nothing to do")
	}
	s.Notes = append(s.Notes, "files read with doctor's own credentials; values are never shown; `nonroot-init exec` sessions do not get them")
	return s, js
}

// secretsEnv is env with the values step 6 would set, for templates
// to render with, and the Redactor that keeps them out of the report.
// What cannot be read is left out: secretsSection reports it.
func secretsEnv(cfg *config.Config, env *host.Env) *secrets.Redactor {
	r := &secrets.Redactor{}
	if len(cfg.FileEnv) == 0 && !cfg.FileEnvAll {
		return r
	}
	plan, err := secrets.NewPlanBefore(env, cfg.FileEnv, cfg.FileEnvAll, laterVars(cfg))
	if err != nil {
		return r // the conflict is secretsSection's problem
	}
	for _, src := range plan.Sources {
		if v, err := secrets.Read(src); err == nil {
			env.Set(src.Name, v)
			env.Unset(src.Var())
			r.Add(v, src.Name)
		}
	}
	return r
}

// laterVars are the variables steps 2 and 4 always set (secrets.Later),
// which the init's check before step 1 counts as set.
func laterVars(cfg *config.Config) map[string]string {
	names := make([]string, len(cfg.Ports))
	for i, p := range cfg.Ports {
		names[i] = p.Name
	}
	return secrets.Later(names)
}
