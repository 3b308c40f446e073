package volumes

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// Report is what doctor shows about one path of NONROOT_VOLUMES, found
// without writing anything: writability is judged from the kernel's
// answer to faccessat(AT_EACCESS) with the effective IDs, not proven with
// a probe file as setup does.
type Report struct {
	Path     string
	StatErr  error // stat(2) failed; the facts below are then unset
	Writable bool
	Kind     string // "directory", "regular file", ...
	UID, GID int
	Mode     uint32 // permission bits with setuid, setgid and sticky
	// LinkTarget is what the path points to when it is a symbolic link.
	LinkTarget string
	MountPoint bool
	ReadOnly   bool
	// FreeBytes and SizeBytes are the filesystem's, nil when statfs failed.
	FreeBytes, SizeBytes *uint64
	// Summary is the one-line fact for people.
	Summary string
	// Problem is why the path is not writable, with its fix; nil when it is.
	Problem *Problem
	// Privileged lists what fix-permissions would leave alone under the
	// path, Refused why it would refuse the path (a *SymlinkError or a
	// *HostileParentError), and Truncated that the bounded check stopped
	// early.
	Privileged []Privileged
	Refused    error
	Truncated  bool
	// Notes say the same for people.
	Notes []string
}

// Inspect describes each path for doctor, creating nothing: the facts,
// the writability by the kernel's access check, the diagnosis when it
// fails, and what fix-permissions would leave alone under it.
func Inspect(paths []string, who Identity) []Report {
	out := make([]Report, 0, len(paths))
	for _, p := range paths {
		f := gather(p)
		err := accessCheck(p, f)
		r := Report{Path: p, StatErr: f.statErr, Writable: err == nil, Summary: describe(f, err)}
		if f.statErr == nil {
			r.Kind, r.UID, r.GID, r.Mode = f.kind, f.uid, f.gid, f.mode
			r.MountPoint, r.ReadOnly = f.mountRoot, f.readOnly
			if f.link {
				r.LinkTarget = f.linkTarget
			}
			if f.statfsOK {
				free, size := f.freeBytes, f.sizeBytes
				r.FreeBytes, r.SizeBytes = &free, &size
			}
			fixPermissionsCheck(&r, who.GID)
		}
		if err != nil {
			r.Problem = diagnose(p, who, f, err)
		}
		out = append(out, r)
	}
	return out
}

// GroupList is who's groups for people: "0,1000".
func (id Identity) GroupList() string { return id.groupList() }

// doctorWalkLimit bounds the entries doctor looks at under each volume
// (about 20 ms of statx on an idle machine): enough for the volumes an
// image prepares, and a full PVC does not make doctor slow.
const doctorWalkLimit = 10000

// doctorListLimit is how many privileged files a note names.
const doctorListLimit = 5

// fixPermissionsCheck fills r with what fix-permissions (step 1 with
// RUN_AS, or an init container, both as root) would leave alone under
// r.Path, refuse, or find wrong and not fix, from a bounded --check walk
// that changes nothing. Entries it cannot read are not doctor's business
// here: the writability line covers the path.
func fixPermissionsCheck(r *Report, gid int) {
	path := r.Path
	rep, err := FixPermissions([]string{path}, FixOptions{GID: gid, Check: true, MaxEntries: doctorWalkLimit, asRoot: true})
	for _, e := range Problems(err) {
		var se *SymlinkError
		var he *HostileParentError
		switch {
		case errors.As(e, &se):
			r.Refused = se
			r.Notes = append(r.Notes, fmt.Sprintf("fix-permissions would refuse %s: %v (setup step 1 with NONROOT_RUN_AS, started as root, skips it too)", quote(path), se))
		case errors.As(e, &he):
			r.Refused = he
			r.Notes = append(r.Notes, fmt.Sprintf("fix-permissions run as root would refuse %s: %v (setup step 1 with NONROOT_RUN_AS skips it too)", quote(path), he))
		}
	}
	r.Privileged, r.Truncated = rep.Privileged, rep.Truncated
	var alone, writable []Privileged
	for _, p := range rep.Privileged {
		if p.Writable {
			writable = append(writable, p)
		} else {
			alone = append(alone, p)
		}
	}
	if n := len(alone); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("fix-permissions would leave %d privileged %s alone under %s, never making it group-writable: %s",
			n, plural(n, "file", "files"), quote(path), listSome(alone, func(p Privileged) string { return quote(p.Path) + " (" + p.Reason + ")" })))
	}
	if n := len(writable); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d privileged %s under %s writable by group or others, which can rewrite them and get their privileges; fix-permissions never changes them and fails on them: chmod g-w,o-w each: %s",
			n, plural(n, "file", "files"), quote(path), listSome(writable, func(p Privileged) string {
				return fmt.Sprintf("%s (%s, owner %d:%d mode %04o)", quote(p.Path), p.Reason, p.UID, p.GID, p.Mode)
			})))
	}
	if rep.Truncated {
		r.Notes = append(r.Notes, fmt.Sprintf("fix-permissions check of %s stopped after %d entries; run `nonroot-init fix-permissions --check %s` for all of it", quote(path), doctorWalkLimit, quote(path)))
	}
}

// listSome joins the first doctorListLimit of ps, then "and N more".
func listSome(ps []Privileged, name func(Privileged) string) string {
	names := make([]string, 0, doctorListLimit)
	for _, p := range ps[:min(len(ps), doctorListLimit)] {
		names = append(names, name(p))
	}
	more := ""
	if len(ps) > doctorListLimit {
		more = fmt.Sprintf(" and %d more", len(ps)-doctorListLimit)
	}
	return strings.Join(names, ", ") + more
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// accessCheck asks the kernel whether the effective IDs may create
// entries in dir (write and search permission).
func accessCheck(dir string, f facts) error {
	if f.statErr != nil {
		return f.statErr
	}
	if !f.isDir {
		return unix.ENOTDIR
	}
	return fsx.Errno(fsx.Faccessat(unix.AT_FDCWD, dir, unix.W_OK|unix.X_OK, unix.AT_EACCESS))
}

// describe is the one-line fact for a path.
func describe(f facts, err error) string {
	if f.statErr != nil {
		return fmt.Sprintf("cannot stat: %v", f.statErr)
	}
	verdict := "writable"
	if err != nil {
		verdict = "NOT writable"
	}
	s := fmt.Sprintf("%s; %s, owner %s:%s mode %04o", verdict, f.kind, idName(f.uid), idName(f.gid), f.mode)
	if f.link {
		s += ", symbolic link to " + quote(f.linkTarget)
	}
	if f.mountRoot {
		s += ", mount point"
	}
	if f.readOnly {
		s += ", read-only filesystem"
	}
	if f.statfsOK {
		s += fmt.Sprintf(", %s free of %s", humanSize(f.freeBytes), humanSize(f.sizeBytes))
	}
	return s
}
