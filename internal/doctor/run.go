package doctor

import (
	"errors"
	"path/filepath"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/ports"
	"github.com/nonroot-init/nonroot-init/internal/privileges"
	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

// Run runs setup's steps 2 to 6 in check-only mode, as the step packages
// gather and plan them, and returns the report; version is the binary's.
// creds is who doctor runs as (main reads it once): doctor switches no
// user, so every section judges with it. It writes nothing, not even a
// probe file.
func Run(cfg *config.Config, h host.Host, creds host.Creds, version string) Report {
	st, stErr := procfs.ReadStatus(filepath.Join(h.ProcDir, "self", "status"), procfs.Credentials)
	sw := planSwitch(cfg, h, creds, st, stErr)
	pp := planPorts(cfg, h)
	idSec, id := identitySection(cfg, h, creds, st, stErr, sw)
	volSec, vols := volumesSection(cfg, creds)
	portSec, prts := portsSection(cfg, pp)
	secSec, secs := secretsSection(cfg, h, creds)
	tmplSec, tmpls := templatesSection(cfg, h, creds, pp.decisions)
	reloadSec, rl := reloadSection(cfg, h)
	waitSec, wt := waitSection(cfg)
	hooksSec, hk := hooksSection(cfg, creds)
	procSec, proc := processSection(cfg, h, st, stErr, sw)
	r := New(idSec, volSec, portSec, secSec, tmplSec, waitSec, hooksSec, reloadSec, procSec)
	r.Version = version
	r.Identity, r.VolumeCheck, r.Volumes, r.Ports, r.Templates, r.Process = id, string(cfg.VolumeCheck), vols, prts, tmpls, proc
	r.Secrets = secs
	r.Reload = rl
	r.Wait, r.Hooks = wt, hk
	return r
}

// runAs is step 1's plan as doctor sees it: what NONROOT_RUN_AS would do
// and, for a switch, its target and plan.
type runAs struct {
	from   host.Creds // who it is planned from: doctor's own credentials
	kind   privileges.RunAs
	err    error // the switch cannot be planned: see identity
	target privileges.Target
	// untrusted says why root's groups cannot be told from the image's
	// files (every started-with group is then dropped); empty otherwise.
	untrusted string
	plan      *privileges.Plan // nil unless a switch is planned from known capabilities
}

// planSwitch plans step 1 with the calls setup makes, from this process's
// credentials creds and status st.
func planSwitch(cfg *config.Config, h host.Host, creds host.Creds, st procfs.Status, stErr error) runAs {
	r := runAs{from: creds}
	r.kind, r.err = privileges.PlanRunAs(creds.UID, creds.GID, cfg.RunAs)
	if r.err != nil || r.kind != privileges.RunAsSwitch {
		return r
	}
	img, err := privileges.ReadImageFiles(h.PasswdFile, h.GroupFile)
	if err != nil {
		r.err = err
		return r
	}
	keepBind, err := ports.RunAsNeedsBindCap(h.ProcDir, cfg.Ports)
	if err != nil {
		r.err = err
		return r
	}
	if r.target, r.untrusted, err = privileges.RunAsTarget(cfg.RunAs, img, keepBind); err != nil {
		r.err = err
		return r
	}
	if stErr != nil {
		return r // the capabilities are unknown, and so is the plan
	}
	plan, err := privileges.MakePlan(st, r.target)
	if err != nil {
		r.err = err
		return r
	}
	r.plan = &plan
	return r
}

// runAsProblem is the problem of a switch that cannot be planned, with
// its fix.
func runAsProblem(err error) (what, fix string) {
	var re *privileges.RunAsError
	if errors.As(err, &re) {
		return re.What(), re.Fix()
	}
	return err.Error(), ""
}

// rootForTarget reports whether doctor runs as root for a start that
// reads and runs as NONROOT_RUN_AS's non-root user, and that user's
// uid: what the start does as the target (the hooks, the secrets, the
// templates), doctor then does not do as root, whose reads would prove
// nothing of the target's and could show what the target may not read.
func rootForTarget(cfg *config.Config, creds host.Creds) (uid int, ok bool) {
	if creds.EUID == 0 && cfg.RunAs != nil && cfg.RunAs.UID != 0 {
		return cfg.RunAs.UID, true
	}
	return 0, false
}
