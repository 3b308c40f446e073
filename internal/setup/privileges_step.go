package setup

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"

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
	target, untrusted, err := runAsTarget(runAs, host)
	if err != nil {
		return privileges.Target{}, nil, err
	}
	if untrusted != "" {
		log.Warn(untrusted)
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
			log.Warn("fix-permissions left a privileged file alone: never made group-writable", "path", p.Path, "why", p.Reason)
		}
	}
	plan, err := privileges.Drop(target, host.ProcDir)
	if err != nil {
		return privileges.Target{}, nil, err
	}
	return target, &plan, nil
}

// runAsTarget decides whom step 1 switches to and which supplementary
// groups it drops, from RUN_AS and the image's passwd and group files.
// Root takes facts from them only when no one else could have written
// them (privileges.ReadTrusted): on a root file system that outlives a
// start, a group-writable /etc/passwd (OpenShift images make it 0664
// root:0) would let the last COMMAND pick the GID of the next switch, or
// take root out of disk's member list. So RUN_AS without a GID needs a
// trusted passwd file (its entry for the UID gives the GID, else 0 as on
// OpenShift); and when either file is untrusted, root's groups cannot be
// told, so every group it started with is dropped but the target GID,
// and the returned warning says why. Otherwise root's primary groups and
// those granted to it by name are dropped. A missing file grants nothing.
func runAsTarget(runAs *config.IDs, host Host) (privileges.Target, string, error) {
	t := privileges.Target{UID: runAs.UID, GID: runAs.GID}
	passwd, perr := privileges.ReadTrusted(host.PasswdFile)
	group, gerr := privileges.ReadTrusted(host.GroupFile)
	var untrusted []string
	for _, err := range []error{perr, gerr} {
		var ue *privileges.UntrustedError
		switch {
		case errors.As(err, &ue):
			untrusted = append(untrusted, ue.Error())
		case err != nil:
			return privileges.Target{}, "", fmt.Errorf("NONROOT_RUN_AS: cannot read the image's passwd or group file to tell root's groups: %w", err)
		}
	}
	if t.GID < 0 {
		var ue *privileges.UntrustedError
		if errors.As(perr, &ue) {
			return privileges.Target{}, "", fmt.Errorf("NONROOT_RUN_AS=%d without a GID: the GID would come from %s, but %s, so whoever wrote it could pick the group root switches to; set NONROOT_RUN_AS=UID:GID, or make %s a regular file only root can write (chown root:root, chmod 0644)",
				runAs.UID, ue.Path, ue.Why, ue.Path)
		}
		t.GID = 0
		if e, ok := identity.LookupUID(passwd, runAs.UID); ok {
			t.GID = e.GID
		}
	}
	if len(untrusted) > 0 {
		t.DropAllGroups = true
		return t, fmt.Sprintf("root's groups cannot be told from files someone other than root could have written (%s): every supplementary group it started with is dropped except the target GID %d; make them regular files only root can write (chown root:root, chmod 0644) to keep the pod's fsGroup and supplementalGroups",
			strings.Join(untrusted, "; "), t.GID), nil
	}
	t.DropGroups = append(privileges.RootPrimaryGroups(passwd), privileges.RootGroups(passwd, group)...)
	return t, "", nil
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
