package privileges

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// RunAs is what step 1 does about NONROOT_RUN_AS, decided before any
// syscall: setup applies it, doctor reports it.
type RunAs int

const (
	// RunAsNothing: not root, and NONROOT_RUN_AS unset or naming who we
	// already are.
	RunAsNothing RunAs = iota
	// RunAsRoot: root without NONROOT_RUN_AS; COMMAND gets root.
	RunAsRoot
	// RunAsStayRoot: NONROOT_RUN_AS names root.
	RunAsStayRoot
	// RunAsSwitch: root switching to NONROOT_RUN_AS.
	RunAsSwitch
)

// RunAsError is a NONROOT_RUN_AS that cannot be honoured: the switch
// needs root.
type RunAsError struct {
	RunAs    *config.IDs
	UID, GID int // who we are
}

func (e *RunAsError) Error() string { return e.What() + "; " + e.Fix() }

// What says what is wrong.
func (e *RunAsError) What() string {
	return fmt.Sprintf("NONROOT_RUN_AS=%s: started as uid %d gid %d, not as root, so the user cannot be switched", FormatIDs(e.RunAs), e.UID, e.GID)
}

// Fix says what to change.
func (e *RunAsError) Fix() string {
	return "unset NONROOT_RUN_AS or set the user in the pod (runAsUser) or image (USER) instead"
}

// PlanRunAs decides step 1 from who we are (uid, gid) and NONROOT_RUN_AS
// (nil when unset). Not as root, RUN_AS may only name who we already are:
// anything else is a *RunAsError.
func PlanRunAs(uid, gid int, runAs *config.IDs) (RunAs, error) {
	switch {
	case uid != 0 && (runAs == nil || (runAs.UID == uid && (runAs.GID < 0 || runAs.GID == gid))):
		return RunAsNothing, nil
	case uid != 0:
		return RunAsNothing, &RunAsError{RunAs: runAs, UID: uid, GID: gid}
	case runAs == nil:
		return RunAsRoot, nil
	case runAs.UID == 0:
		return RunAsStayRoot, nil
	}
	return RunAsSwitch, nil
}

// ImageFiles are the image's passwd and group files as step 1 reads them
// as root: their contents when root can trust them (ReadTrusted), and
// why not otherwise.
type ImageFiles struct {
	Passwd, Group       []byte
	PasswdErr, GroupErr *UntrustedError // nil when trusted
}

// ReadImageFiles reads the image's passwd and group files for
// RunAsTarget. A missing one reads as empty; one someone other than root
// could have written is not read, and says why; any other read error is
// returned.
func ReadImageFiles(passwdFile, groupFile string) (ImageFiles, error) {
	var img ImageFiles
	var err error
	if img.Passwd, err = ReadTrusted(passwdFile); err != nil && !errors.As(err, &img.PasswdErr) {
		return ImageFiles{}, fmt.Errorf("NONROOT_RUN_AS: cannot read %s to tell root's groups: %w", passwdFile, err)
	}
	if img.Group, err = ReadTrusted(groupFile); err != nil && !errors.As(err, &img.GroupErr) {
		return ImageFiles{}, fmt.Errorf("NONROOT_RUN_AS: cannot read %s to tell root's groups: %w", groupFile, err)
	}
	return img, nil
}

// RunAsTarget decides whom step 1 switches to and which supplementary
// groups it drops, from RUN_AS and the image's files; it keeps
// CAP_NET_BIND_SERVICE when COMMAND needs it.
//
// Root takes facts from the files only when no one else could have
// written them: on a root file system that outlives a start, a
// group-writable /etc/passwd (OpenShift images make it 0664 root:0) would
// let the last COMMAND pick the GID of the next switch, or take root out
// of disk's member list. So RUN_AS without a GID needs a trusted passwd
// file (its entry for the UID gives the GID, else 0 as on OpenShift), and
// when either file is untrusted root's groups cannot be told: every group
// it started with is dropped but the target GID, and the returned warning
// says why. Otherwise root's primary groups and those granted to it by
// name are dropped.
func RunAsTarget(runAs *config.IDs, img ImageFiles, keepBindService bool) (Target, string, error) {
	t := Target{UID: runAs.UID, GID: runAs.GID, KeepBindService: keepBindService}
	if t.GID < 0 {
		if ue := img.PasswdErr; ue != nil {
			return Target{}, "", fmt.Errorf("NONROOT_RUN_AS=%d without a GID: the GID would come from %s, but %s, so whoever wrote it could pick the group root switches to; set NONROOT_RUN_AS=UID:GID, or make %s a regular file only root can write (chown root:root, chmod 0644)",
				runAs.UID, ue.Path, ue.Why, ue.Path)
		}
		t.GID = 0
		if gid, ok := primaryGID(img.Passwd, runAs.UID); ok {
			t.GID = gid
		}
	}
	var untrusted []string
	for _, ue := range []*UntrustedError{img.PasswdErr, img.GroupErr} {
		if ue != nil {
			untrusted = append(untrusted, ue.Error())
		}
	}
	if len(untrusted) > 0 {
		t.DropAllGroups = true
		return t, fmt.Sprintf("root's groups cannot be told from files someone other than root could have written (%s): every supplementary group it started with is dropped except the target GID %d; make them regular files only root can write (chown root:root, chmod 0644) to keep the pod's fsGroup and supplementalGroups",
			strings.Join(untrusted, "; "), t.GID), nil
	}
	t.DropGroups = sortedUnique(append(RootPrimaryGroups(img.Passwd), RootGroups(img.Passwd, img.Group)...))
	return t, "", nil
}

// FormatIDs writes NONROOT_RUN_AS as it was given: UID or UID:GID.
func FormatIDs(ids *config.IDs) string {
	if ids.GID < 0 {
		return fmt.Sprint(ids.UID)
	}
	return fmt.Sprintf("%d:%d", ids.UID, ids.GID)
}
