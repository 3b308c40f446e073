package setup

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/internal/ports"
	"github.com/nonroot-init/nonroot-init/internal/privileges"
	"github.com/nonroot-init/nonroot-init/internal/volumes"
)

// generatedShell is the login shell of a generated passwd entry.
const generatedShell = "/bin/sh"

// dropPrivileges is step 1: as root with NONROOT_RUN_AS, fix the volumes
// for the target group, then switch every thread to the target UID and
// GID. Not as root, RUN_AS may only name who we already are. Then, with
// NONROOT_NO_NEW_PRIVS (the default with RUN_AS), set no_new_privs so
// that no setuid program COMMAND runs gives back what was dropped.
func dropPrivileges(cfg *config.Config, host Host, log *slog.Logger) error {
	target, plan, err := switchUser(cfg, host, log)
	if err != nil {
		return err
	}
	if cfg.NoNewPrivs {
		if err := privileges.SetNoNewPrivs(host.ProcDir); err != nil {
			return fmt.Errorf("NONROOT_NO_NEW_PRIVS: %w; set NONROOT_NO_NEW_PRIVS=false to start COMMAND without it", err)
		}
	}
	if plan == nil {
		if cfg.NoNewPrivs {
			log.Info("set no_new_privs: setuid and file-capability programs COMMAND runs gain nothing")
		}
		return nil
	}
	log.Info("dropped privileges", "uid", target.UID, "gid", target.GID, "groups", joinInts(plan.Groups),
		"dropped_groups", joinInts(plan.DroppedGroups), "capabilities", privileges.CapNames(plan.Caps), "no_new_privs", cfg.NoNewPrivs)
	if plan.BoundingKept != 0 {
		what := "a setuid-root or file-capability program COMMAND runs can regain them"
		if cfg.NoNewPrivs {
			what = "no_new_privs keeps setuid and file-capability programs from regaining them"
		}
		log.Warn("the bounding set cannot be cleared without CAP_SETPCAP: "+what+"; add CAP_SETPCAP for the switch, or drop what COMMAND does not need (securityContext.capabilities.drop: [ALL])",
			"bounding_set", privileges.CapNames(plan.BoundingKept))
	}
	return nil
}

// switchUser does the switch of step 1 and returns its target and plan;
// a nil plan when there is nothing to switch.
func switchUser(cfg *config.Config, host Host, log *slog.Logger) (privileges.Target, *privileges.Plan, error) {
	uid, gid := os.Getuid(), os.Getgid()
	runAs := cfg.RunAs
	if uid != 0 {
		if runAs == nil || (runAs.UID == uid && (runAs.GID < 0 || runAs.GID == gid)) {
			return privileges.Target{}, nil, nil
		}
		return privileges.Target{}, nil, fmt.Errorf("NONROOT_RUN_AS=%s: started as uid %d gid %d, not as root, so the user cannot be switched; unset NONROOT_RUN_AS or set the user in the pod (runAsUser) or image (USER) instead",
			formatIDs(runAs), uid, gid)
	}
	if runAs == nil {
		log.Warn("running as root: COMMAND gets root and every capability of the container; set NONROOT_RUN_AS=UID[:GID] or start the container as a non-root user")
		return privileges.Target{}, nil, nil
	}
	if runAs.UID == 0 {
		log.Info("NONROOT_RUN_AS names root: staying root")
		return privileges.Target{}, nil, nil
	}
	target := privileges.Target{UID: runAs.UID, GID: targetGID(runAs, host.PasswdFile)}
	var err error
	if target.DropGroups, err = rootGroups(host); err != nil {
		return privileges.Target{}, nil, err
	}
	if len(cfg.Ports) > 0 {
		start, err := ports.UnprivilegedStart(host.ProcDir)
		if err != nil {
			return privileges.Target{}, nil, err
		}
		target.KeepBindService = ports.NeedsBindCap(cfg.Ports, start)
	}
	if len(cfg.Volumes) > 0 {
		rep, err := volumes.FixPermissions(cfg.Volumes, volumes.FixOptions{GID: target.GID})
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

// rootGroups reads the groups the image's group file grants to root by
// name (privileges.RootGroups); a missing passwd or group file grants
// none.
func rootGroups(host Host) ([]int, error) {
	var data [2][]byte
	for i, f := range []string{host.PasswdFile, host.GroupFile} {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("NONROOT_RUN_AS: read %s to drop the groups it grants to root: %w", f, err)
		}
		data[i] = b
	}
	return privileges.RootGroups(data[0], data[1]), nil
}

// targetGID is RUN_AS's GID, else the primary group of the UID's passwd
// entry, else 0 as on OpenShift.
func targetGID(runAs *config.IDs, passwdFile string) int {
	if runAs.GID >= 0 {
		return runAs.GID
	}
	if data, err := os.ReadFile(passwdFile); err == nil {
		if e, ok := identity.LookupUID(data, runAs.UID); ok {
			return e.GID
		}
	}
	return 0
}

func formatIDs(ids *config.IDs) string {
	if ids.GID < 0 {
		return fmt.Sprint(ids.UID)
	}
	return fmt.Sprintf("%d:%d", ids.UID, ids.GID)
}

// identityOptions fills the identity step's options from the settings,
// the host and COMMAND's environment so far.
func identityOptions(cfg *config.Config, host Host, getenv func(string) (string, bool)) identity.Options {
	return identity.Options{
		Mode:          cfg.Passwd,
		Username:      cfg.Username,
		Home:          cfg.Home,
		NSSWrapperLib: cfg.NSSWrapperLib,
		StateDir:      cfg.StateDir,
		PasswdFile:    host.PasswdFile,
		GroupFile:     host.GroupFile,
		LibDirs:       identity.LibDirs(runtime.GOARCH),
		GOARCH:        runtime.GOARCH,
		Shell:         generatedShell,
		UID:           os.Getuid(),
		GID:           os.Getgid(),
		Getenv:        getenv,
	}
}

// provideIdentity is step 2: a passwd entry, HOME, USER and LOGNAME.
func provideIdentity(cfg *config.Config, host Host, env *Env, log *slog.Logger) (identity.User, error) {
	res, err := identity.Provide(identityOptions(cfg, host, env.Get), log)
	if err != nil {
		return identity.User{}, err
	}
	for _, v := range res.Env {
		env.Set(v.Key, v.Value)
	}
	return res.User, nil
}
