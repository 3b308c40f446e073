package volumes

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// diagnose explains why path failed with err (from the probe, or from the
// access check of doctor), from the facts gathered about it, and chooses
// the fix that applies. It does no I/O.
func diagnose(path string, who Identity, f facts, err error) *Problem {
	p := &Problem{Path: path, Err: err}
	// Commands in the advice name the real directory: fix-permissions
	// refuses a path through a symbolic link, and chgrp -R on a link
	// changes the link, not the tree. Every path in a message is quoted
	// when it holds a byte that could forge a line or reach the terminal
	// (a link's target is anyone's to choose).
	qpath := quote(path)
	real := qpath
	switch {
	case f.realPath != "":
		real = quote(f.realPath)
	case f.link && filepath.IsAbs(f.linkTarget):
		real = quote(f.linkTarget)
	}
	mkdir := fmt.Sprintf("mount a volume at %s (a volumeMounts entry, e.g. an emptyDir) or create it in the image: RUN mkdir -p %s && chgrp %d %s && chmod g+rwX %s",
		qpath, real, who.GID, real, real)
	defer func() {
		if f.link && f.statErr == nil {
			to := quote(f.linkTarget)
			if f.realPath != "" && f.realPath != f.linkTarget {
				to += " (" + quote(f.realPath) + ")"
			}
			p.What += "; " + qpath + " is a symbolic link to " + to
		}
	}()
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(f.statErr, unix.ENOENT):
		p.What = "does not exist"
		if f.link {
			p.What = "is a symbolic link to " + quote(f.linkTarget) + ", which does not exist"
		}
		p.Fix = mkdir
	case errors.Is(err, unix.ENOTDIR) || errors.Is(f.statErr, unix.ENOTDIR) || (f.statErr == nil && !f.isDir):
		if f.statErr == nil {
			p.What = "is a " + f.kind + ", not a directory"
			p.Fix = fmt.Sprintf("%s is a file, and NONROOT_VOLUMES lists directories that must be writable: list the directory meant instead (a single-file subPath mount is not a volume to check)", qpath)
		} else {
			p.What = "is not reachable: a component of the path is not a directory"
			p.Fix = "a component of the path is a file, not a directory: list the directory meant in NONROOT_VOLUMES"
		}
	case errors.Is(err, unix.EROFS) || (f.readOnly && isDenied(err)):
		p.What = "is on a read-only filesystem"
		if f.mountRoot {
			p.Fix = "the volume is mounted read-only: remove readOnly: true from its volumeMounts entry (docker: drop :ro), or list another path"
		} else {
			p.Fix = fmt.Sprintf("the filesystem holding it is read-only (readOnlyRootFilesystem?): mount a writable volume such as an emptyDir at %s", qpath)
		}
	case errors.Is(err, unix.EDQUOT):
		p.What = "is over its disk quota"
		p.Fix = "free space on the volume or raise the quota (the PVC's storage request)"
	case errors.Is(err, unix.ENOSPC):
		p.What = "has no space left"
		if f.statfsOK {
			p.What += fmt.Sprintf(" (%s free of %s)", humanSize(f.freeBytes), humanSize(f.sizeBytes))
		}
		p.Fix = "free space on the volume or make it larger (an emptyDir's sizeLimit, the PVC's storage request)"
	case errors.Is(f.statErr, unix.EACCES):
		p.What = fmt.Sprintf("cannot be reached by uid %d (groups %s): a parent directory is not searchable", who.UID, who.groupList())
		p.Fix = "at build time, give the parent directories execute permission for the group or others (chmod g+x or o+x)"
	case isDenied(err):
		owner := fmt.Sprintf("owner %s:%s mode %04o", idName(f.uid), idName(f.gid), f.mode)
		if modeAllows(f, who) {
			p.What = fmt.Sprintf("is not writable by uid %d (groups %s) although its mode bits allow it (%s): an SELinux or AppArmor policy, an ACL, or NFS root squashing denies it", who.UID, who.groupList(), owner)
			p.Fix = "relabel the volume for containers (docker/podman: mount it with :z; Kubernetes: set seLinuxOptions in the securityContext, or check `ls -Z` and the audit log for AVC denials); check ACLs with getfacl"
			break
		}
		p.What = fmt.Sprintf("is not writable by uid %d (groups %s): %s", who.UID, who.groupList(), owner)
		p.Fix = permissionFix(real, f, who)
	default:
		p.What = fmt.Sprintf("is not writable: %v", err)
		p.Fix = "check the volume's mount and the storage behind it"
	}
	return p
}

// isDenied reports a permission error.
func isDenied(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)
}

// modeAllows reports whether the mode bits alone let who create files in
// the directory: write and search for the class (owner, group, other) the
// kernel picks. UID 0 is allowed (CAP_DAC_OVERRIDE).
func modeAllows(f facts, who Identity) bool {
	if who.UID == 0 {
		return true
	}
	var bits uint32
	switch {
	case who.UID == f.uid:
		bits = f.mode >> 6
	case who.inGroup(f.gid):
		bits = f.mode >> 3
	default:
		bits = f.mode
	}
	return bits&0o3 == 0o3
}

// permissionFix chooses the fix for a directory whose mode bits deny who.
func permissionFix(path string, f facts, who Identity) string {
	fixCmd := "nonroot-init fix-permissions " + path
	if who.GID != 0 {
		fixCmd = fmt.Sprintf("nonroot-init fix-permissions --group %d %s", who.GID, path)
	}
	// fsGroup: 0 is never proposed: OpenShift's restricted profile
	// refuses it, and it assigns an fsGroup from the namespace's range
	// when the pod asks for none.
	fsGroup := "set securityContext.fsGroup in the pod (Kubernetes then makes the volume group-writable for that group and adds it to our groups; OpenShift's restricted profile assigns one from the namespace's range)"
	if who.GID != 0 {
		fsGroup = fmt.Sprintf("set fsGroup: %d in the pod's securityContext (Kubernetes then makes the volume group-writable for that group)", who.GID)
	}
	extra := extraGroups(who)
	switch {
	case who.UID == f.uid:
		return fmt.Sprintf("we own it but the owner may not write: chmod u+rwx %s at build time, or run `%s` in an init container", path, fixCmd)
	case !who.inGroup(f.gid) && (f.mode>>3)&0o3 == 0o3:
		// The group may write; we are just not in it.
		alsoFS := ""
		if f.gid != 0 {
			alsoFS = fmt.Sprintf(" (or fsGroup: %d)", f.gid)
		}
		return fmt.Sprintf("its group %d may write, and we are not in it: add the group with runAsGroup: %d or supplementalGroups: [%d]%s in the pod's securityContext (docker: --group-add %d)",
			f.gid, f.gid, f.gid, alsoFS, f.gid)
	case f.mountRoot && len(extra) > 0:
		// Supplementary groups usually mean the pod already sets fsGroup
		// (or supplementalGroups), and the volume was not handed to them:
		// some volume types ignore fsGroup.
		return fmt.Sprintf("we are already in groups %s (the pod's fsGroup or supplementalGroups?), but the volume was not made writable for them: hostPath, some NFS and some CSI volumes ignore fsGroup; run `nonroot-init fix-permissions --group %d %s` in an init container running as root, or fix the ownership on the storage side", joinIDs(extra), extra[0], path)
	case f.mountRoot:
		// A mounted volume: Kubernetes can hand it to our group.
		return fmt.Sprintf("%s, or run `%s` in an init container running as root", fsGroup, fixCmd)
	default:
		// A directory of the image: fix it when the image is built.
		return fmt.Sprintf("at build time, make it group-writable: RUN chgrp -R %d %s && chmod -R g+rwX %s (or RUN %s); or mount a volume there and %s", who.GID, path, path, fixCmd, fsGroup)
	}
}

// idName shows 0 as root, which it is everywhere, and other IDs as numbers.
func idName(id int) string {
	if id == 0 {
		return "root"
	}
	return fmt.Sprint(id)
}

// humanSize shows a size for a message: in bytes, KiB, MiB or GiB.
func humanSize(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// extraGroups returns who's supplementary groups other than 0 and its
// primary GID.
func extraGroups(who Identity) []int {
	var out []int
	for _, g := range who.Groups {
		if g != 0 && g != who.GID {
			out = append(out, g)
		}
	}
	return out
}

func joinIDs(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ",")
}
