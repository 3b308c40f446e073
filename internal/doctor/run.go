package doctor

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/ports"
	"github.com/nonroot-init/nonroot-init/internal/privileges"
	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

// Run runs setup's steps 2 to 5 in check-only mode, as the step packages
// gather and plan them, and returns the report; version is the binary's.
// It writes nothing, not even a probe file.
func Run(cfg *config.Config, h host.Host, version string) Report {
	st, stErr := procfs.ReadStatus(filepath.Join(h.ProcDir, "self", "status"), procfs.Credentials)
	sw := planSwitch(cfg, h, st, stErr)
	pp := planPorts(cfg, h)
	idSec, id := identitySection(cfg, h, st, stErr, sw)
	volSec, vols := volumesSection(cfg)
	portSec, prts := portsSection(cfg, pp)
	tmplSec, tmpls := templatesSection(cfg, h, pp.decisions)
	procSec, proc := processSection(cfg, h, st, stErr, sw)
	r := New(idSec, volSec, portSec, tmplSec, procSec)
	r.Version = version
	r.Identity, r.VolumeCheck, r.Volumes, r.Ports, r.Templates, r.Process = id, string(cfg.VolumeCheck), vols, prts, tmpls, proc
	return r
}

// runAs is step 1's plan as doctor sees it: what NONROOT_RUN_AS would do
// and, for a switch, its target and plan.
type runAs struct {
	kind   privileges.RunAs
	err    error // the switch cannot be planned: see identity
	target privileges.Target
	// untrusted says why root's groups cannot be told from the image's
	// files (every started-with group is then dropped); empty otherwise.
	untrusted string
	plan      *privileges.Plan // nil unless a switch is planned from known capabilities
}

// planSwitch plans step 1 with the calls setup makes, from this process's
// status st.
func planSwitch(cfg *config.Config, h host.Host, st procfs.Status, stErr error) runAs {
	var r runAs
	r.kind, r.err = privileges.PlanRunAs(os.Getuid(), os.Getgid(), cfg.RunAs)
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
