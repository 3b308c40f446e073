package doctor

import (
	"fmt"
	"os"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/hooks"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// Wait is NONROOT_WAIT (step 7): what the start would wait for. doctor
// connects to nothing: it reports the plan, not whether each is ready.
type Wait struct {
	Dependencies []WaitDependency `json:"dependencies"`
	// TimeoutSeconds is NONROOT_WAIT_TIMEOUT, for all together; null
	// when nothing is awaited.
	TimeoutSeconds *float64 `json:"timeout_seconds"`
}

// WaitDependency is one NONROOT_WAIT item, its credentials and query
// values redacted as in every message.
type WaitDependency struct {
	Dep    string `json:"dep"`
	Scheme string `json:"scheme"`
}

// Hooks is NONROOT_HOOKS (step 8): what the start would run, in order,
// and what it would skip.
type Hooks struct {
	Dirs    []string      `json:"dirs"`
	Run     []string      `json:"run"`
	Skipped []HookSkipped `json:"skipped"`
	// TimeoutSeconds is NONROOT_HOOK_TIMEOUT, per hook; null for none.
	TimeoutSeconds *float64 `json:"timeout_seconds"`
	// NotChecked says why run and skipped are empty: doctor runs as
	// root and the start runs the hooks as NONROOT_RUN_AS's user.
	NotChecked *string `json:"not_checked"`
}

// HookSkipped is an entry of a hook directory that would not run.
type HookSkipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// fixMissingHooks is the advice for a NONROOT_HOOKS directory that is
// not there.
const fixMissingHooks = "create the directory (or mount it) or remove it from NONROOT_HOOKS: the start fails on it (exit 78)"

// waitSection is step 7's plan.
func waitSection(cfg *config.Config) (Section, *Wait) {
	s := Section{Name: "wait"}
	js := &Wait{Dependencies: []WaitDependency{}}
	if len(cfg.Wait) == 0 {
		s.Add("NONROOT_WAIT", "empty: COMMAND does not wait for anything")
		return s, js
	}
	names := make([]string, len(cfg.Wait))
	for i, d := range cfg.Wait {
		js.Dependencies = append(js.Dependencies, WaitDependency{Dep: d.Raw, Scheme: d.Scheme})
		names[i] = d.Raw
	}
	js.TimeoutSeconds = ptr(cfg.WaitTimeout.Seconds())
	s.Add("NONROOT_WAIT", "%s", strings.Join(names, ", "))
	s.Add("NONROOT_WAIT_TIMEOUT", "%s for all of them together; then the start fails (exit 78) naming each one not ready", cfg.WaitTimeout)
	s.Notes = append(s.Notes, "doctor connects to none of NONROOT_WAIT: whether each is ready is known only at the start")
	return s, js
}

// hooksSection is step 8's plan: the hooks of NONROOT_HOOKS in the order
// they would run, as the effective IDs of doctor may execute them (run
// doctor as COMMAND's user), and a directory the start would fail on.
func hooksSection(cfg *config.Config, creds host.Creds) (Section, *Hooks) {
	s := Section{Name: "hooks"}
	js := &Hooks{Dirs: orEmpty(cfg.Hooks), Run: []string{}, Skipped: []HookSkipped{}}
	if len(cfg.Hooks) == 0 {
		s.Add("NONROOT_HOOKS", "empty: no start-up hooks")
		return s, js
	}
	if cfg.HookTimeout > 0 {
		js.TimeoutSeconds = ptr(cfg.HookTimeout.Seconds())
	}
	s.Add("NONROOT_HOOKS", "%s", strings.Join(cfg.Hooks, ", "))
	if uid, ok := rootForTarget(cfg, creds); ok {
		// What root may list and execute says nothing of what the
		// start, as NONROOT_RUN_AS's user, may.
		why := fmt.Sprintf("not checked: doctor runs as root, the start lists and runs the hooks as uid %d (NONROOT_RUN_AS); run doctor as that user (nonroot-init exec, or the pod itself) to check them", uid)
		js.NotChecked = &why
		s.Notes = append(s.Notes, why)
		// What root can judge for every user: a directory that is not
		// there, or is not a directory.
		for _, dir := range cfg.Hooks {
			if info, err := os.Stat(dir); err != nil {
				s.Problem("NONROOT_HOOKS: "+err.Error(), fixMissingHooks)
			} else if !info.IsDir() {
				s.Problem("NONROOT_HOOKS: "+dir+" is not a directory", "name a directory of hooks in NONROOT_HOOKS: the start fails on it (exit 78)")
			}
		}
		return s, js
	}
	list, err := hooks.List(cfg.Hooks)
	if err != nil {
		s.Problem(err.Error(), fixMissingHooks)
	}
	js.Run = orEmpty(list.Hooks)
	for _, h := range list.Hooks {
		s.Add("run", "%s", h)
	}
	for _, sk := range list.Skipped {
		js.Skipped = append(js.Skipped, HookSkipped{Path: sk.Path, Reason: sk.Reason})
		s.Notes = append(s.Notes, "skipped at the start (warned): "+sk.Path+": "+sk.Reason)
	}
	if cfg.HookTimeout > 0 {
		s.Add("NONROOT_HOOK_TIMEOUT", "%s per hook", cfg.HookTimeout)
	}
	return s, js
}
