package setup

import (
	"fmt"
	"log/slog"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/internal/ports"
	"github.com/nonroot-init/nonroot-init/internal/privileges"
	"github.com/nonroot-init/nonroot-init/internal/volumes"
)

// dropPrivileges is step 1: as root with NONROOT_RUN_AS, fix the volumes
// for the target group, then switch every thread to the target UID and
// GID. Not as root, RUN_AS may only name who we already are. Then, with
// NONROOT_NO_NEW_PRIVS (the default with RUN_AS), set no_new_privs so
// that no setuid program COMMAND runs gives back what was dropped. It
// returns who the process is afterwards: creds, who it started as, when
// nothing was switched; else the target's IDs and the plan's groups,
// which privileges.Drop has checked on every thread (real, effective,
// saved and filesystem IDs alike), so they need not be read again.
func dropPrivileges(cfg *config.Config, host Host, creds Creds, log *slog.Logger) (Creds, error) {
	target, plan, err := switchUser(cfg, host, creds, log)
	if err != nil {
		return Creds{}, err
	}
	if cfg.NoNewPrivs {
		if err := privileges.SetNoNewPrivs(host.ProcDir); err != nil {
			return Creds{}, fmt.Errorf("NONROOT_NO_NEW_PRIVS: %w; set NONROOT_NO_NEW_PRIVS=false to start COMMAND without it", err)
		}
	}
	if plan == nil {
		if cfg.NoNewPrivs {
			log.Info("set no_new_privs: setuid and file-capability programs COMMAND runs gain nothing")
		}
		return creds, nil
	}
	after := Creds{UID: target.UID, GID: target.GID, EUID: target.UID, EGID: target.GID, Groups: plan.Groups}
	log.Info("dropped privileges", "uid", target.UID, "gid", target.GID, "groups", privileges.FormatGroups(plan.Groups),
		"dropped_groups", privileges.FormatGroups(plan.DroppedGroups), "capabilities", privileges.CapNames(plan.Caps), "no_new_privs", cfg.NoNewPrivs)
	if plan.BoundingKept != 0 {
		what := "a setuid-root or file-capability program COMMAND runs can regain them"
		if cfg.NoNewPrivs {
			what = "no_new_privs keeps setuid and file-capability programs from regaining them"
		}
		log.Warn("the bounding set cannot be cleared without CAP_SETPCAP: "+what+"; add CAP_SETPCAP for the switch, or drop what COMMAND does not need (securityContext.capabilities.drop: [ALL])",
			"bounding_set", privileges.CapNames(plan.BoundingKept))
	}
	return after, nil
}

// switchUser does the switch of step 1 and returns its target and plan;
// a nil plan when there is nothing to switch.
func switchUser(cfg *config.Config, host Host, creds Creds, log *slog.Logger) (privileges.Target, *privileges.Plan, error) {
	kind, err := privileges.PlanRunAs(creds.UID, creds.GID, cfg.RunAs)
	switch {
	case err != nil:
		return privileges.Target{}, nil, err
	case kind == privileges.RunAsRoot:
		log.Warn("running as root: COMMAND gets root and every capability of the container; set NONROOT_RUN_AS=UID[:GID] or start the container as a non-root user")
		return privileges.Target{}, nil, nil
	case kind == privileges.RunAsStayRoot:
		log.Info("NONROOT_RUN_AS names root: staying root")
		return privileges.Target{}, nil, nil
	case kind != privileges.RunAsSwitch:
		return privileges.Target{}, nil, nil
	}
	target, untrusted, err := runAsTarget(cfg.RunAs, host)
	if err != nil {
		return privileges.Target{}, nil, err
	}
	if untrusted != "" {
		log.Warn(untrusted)
	}
	if target.KeepBindService, err = ports.RunAsNeedsBindCap(host.ProcDir, cfg.Ports); err != nil {
		return privileges.Target{}, nil, err
	}
	if len(cfg.Volumes) > 0 {
		rep, err := volumes.FixPermissions(cfg.Volumes, volumes.FixOptions{EUID: creds.EUID, GID: target.GID})
		if err != nil {
			// The volume check (step 3) judges what is still wrong.
			log.Warn("fix-permissions failed on some entries", "gid", target.GID, "err", err)
		}
		if rep.Changed > 0 {
			log.Info("fixed volume permissions for the target group", "gid", target.GID, "changed", rep.Changed, "scanned", rep.Scanned)
		}
		for _, p := range rep.Privileged {
			if p.Writable {
				continue // a failure, in err above
			}
			log.Warn("fix-permissions left a privileged file alone: never made group-writable", "path", p.Path, "why", p.Reason)
		}
	}
	plan, err := privileges.Drop(target, host.ProcDir)
	if err != nil {
		return privileges.Target{}, nil, err
	}
	return target, &plan, nil
}

// runAsTarget reads the image's passwd and group files as root may trust
// them and decides step 1's target (privileges.RunAsTarget), with the
// warning to log when root's groups cannot be told.
func runAsTarget(runAs *config.IDs, host Host) (privileges.Target, string, error) {
	img, err := privileges.ReadImageFiles(host.PasswdFile, host.GroupFile)
	if err != nil {
		return privileges.Target{}, "", err
	}
	return privileges.RunAsTarget(runAs, img, false)
}

// provideIdentity is step 2: a passwd entry, HOME, USER and LOGNAME.
// It returns what the step did: the user and the variables it set.
func provideIdentity(cfg *config.Config, host Host, creds Creds, env *Env, log *slog.Logger) (identity.Result, error) {
	o := identity.NewOptions(cfg, host.PasswdFile, host.GroupFile, creds, env.Get)
	o.Command = host.Command
	res, err := identity.Provide(o, log)
	if err != nil {
		return identity.Result{}, err
	}
	for _, v := range res.Env {
		env.Set(v.Key, v.Value)
	}
	return res, nil
}
