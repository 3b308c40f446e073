package privileges

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
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

// RunAsTarget is the identity RUN_AS switches to: its GID, else the
// primary group of the UID's entry in passwd, else 0 as on OpenShift;
// without the groups the image's group file grants to root
// (RootGroups); keeping CAP_NET_BIND_SERVICE when COMMAND needs it.
func RunAsTarget(runAs *config.IDs, passwd, group []byte, keepBindService bool) Target {
	t := Target{UID: runAs.UID, GID: runAs.GID, KeepBindService: keepBindService, DropGroups: RootGroups(passwd, group)}
	if t.GID < 0 {
		t.GID = 0
		if e, ok := identity.LookupUID(passwd, runAs.UID); ok {
			t.GID = e.GID
		}
	}
	return t
}

// ReadImageFiles reads the image's passwd and group files for
// RunAsTarget; a missing one reads as empty.
func ReadImageFiles(passwdFile, groupFile string) (passwd, group []byte, err error) {
	var data [2][]byte
	for i, f := range []string{passwdFile, groupFile} {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("NONROOT_RUN_AS: read %s to drop the groups it grants to root: %w", f, err)
		}
		data[i] = b
	}
	return data[0], data[1], nil
}

// FormatIDs writes NONROOT_RUN_AS as it was given: UID or UID:GID.
func FormatIDs(ids *config.IDs) string {
	if ids.GID < 0 {
		return fmt.Sprint(ids.UID)
	}
	return fmt.Sprintf("%d:%d", ids.UID, ids.GID)
}
