package doctor

import (
	"strings"
	"syscall"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/reload"
	"github.com/nonroot-init/nonroot-init/internal/supervisor"
)

// Reload is NONROOT_RELOAD_SIGNAL: whether the init would watch the
// template sources while COMMAND runs, and how it would reload.
type Reload struct {
	Enabled bool     `json:"enabled"`
	Signal  *string  `json:"signal"` // "SIGHUP", null when off
	Check   []string `json:"check"`  // NONROOT_RELOAD_CHECK's argv, [] for none
	// CheckTimeoutSeconds bounds one run of the check; null when off.
	CheckTimeoutSeconds *int          `json:"check_timeout_seconds"`
	Watches             []ReloadWatch `json:"watches"`
}

// ReloadWatch is one directory watched for a SRC.
type ReloadWatch struct {
	Src string `json:"src"`
	Dir string `json:"dir"`
	// Name is a file SRC's name in Dir: only changes of it, or of the
	// kubelet's ..data, count; null for a directory SRC.
	Name *string `json:"name"`
}

// reloadSection is what the init would watch for NONROOT_RELOAD_SIGNAL
// (reload.Plan, as the watcher uses it), and the sources it could not
// watch or that never change (subPath mounts).
func reloadSection(cfg *config.Config, h host.Host) (Section, *Reload) {
	s := Section{Name: "reload"}
	js := &Reload{Check: orEmpty(cfg.ReloadCheck), Watches: []ReloadWatch{}}
	if p := cfg.ReloadProblem(); p != "" {
		// A note, as the start only warns: the container works, with
		// the files rendered once.
		s.Notes = append(s.Notes, p)
		return s, js
	}
	if cfg.ReloadSignal == 0 {
		s.Add("NONROOT_RELOAD_SIGNAL", "empty (off): template sources are rendered once, at the start")
		return s, js
	}
	name := supervisor.SignalNames([]syscall.Signal{cfg.ReloadSignal})
	js.Enabled, js.Signal = true, &name
	js.CheckTimeoutSeconds = ptr(int(supervisor.CheckTimeout.Seconds()))
	s.Add("NONROOT_RELOAD_SIGNAL", "%s, sent to COMMAND after a template source changed and was rendered again", name)
	if len(cfg.ReloadCheck) > 0 {
		s.Add("NONROOT_RELOAD_CHECK", "%s (run before the signal; a non-zero status, or a run longer than %s, puts the previous files back)",
			strings.Join(cfg.ReloadCheck, " "), supervisor.CheckTimeout)
		pathEnv, _ := host.NewEnv(h.Environ).Get("PATH")
		if _, err := supervisor.LookPath(cfg.ReloadCheck[0], pathEnv); err != nil {
			s.Problem("NONROOT_RELOAD_CHECK cannot be run ("+err.Error()+"): every reload would put the previous files back and send no signal",
				supervisor.CheckFix(cfg.ReloadCheck[0], err))
		}
	} else {
		s.Add("NONROOT_RELOAD_CHECK", "empty: the new files are kept and the signal sent at once")
	}
	srcs := make([]string, len(cfg.Templates))
	for i, p := range cfg.Templates {
		srcs[i] = p.Src
	}
	ws, errs := reload.Plan(srcs)
	for _, w := range ws {
		x := ReloadWatch{Src: w.Src, Dir: w.Dir, Name: optional(w.Name)}
		js.Watches = append(js.Watches, x)
		if w.Name != "" {
			s.Add("watch", "%s (for %s, and the kubelet's ..data)", w.Dir, w.Name)
			if reload.SubPathMounted(w.Src) {
				s.Problem(w.Src+" is a file mounted on its own (a ConfigMap key mounted with subPath): the kubelet never updates it, so it is never reloaded",
					"mount the whole ConfigMap as a directory and name the file in it, or the directory, in NONROOT_TEMPLATES")
			}
		} else {
			s.Add("watch", "%s", w.Dir)
		}
	}
	for _, err := range errs {
		s.Notes = append(s.Notes, "cannot be watched, so not reloaded: "+err.Error())
	}
	s.Notes = append(s.Notes, "a ConfigMap key mounted with subPath is never updated by the kubelet: mount the ConfigMap as a directory to have it reloaded")
	return s, js
}
