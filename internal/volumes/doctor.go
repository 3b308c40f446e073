package volumes

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/doctor"
	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// DoctorSection describes the volumes of NONROOT_VOLUMES for `doctor`,
// which writes nothing: writability is judged from the kernel's answer to
// faccessat(AT_EACCESS) with the effective IDs, not proven with a probe
// file as setup does. mode is NONROOT_VOLUME_CHECK.
func DoctorSection(paths []string, mode string, who Identity) doctor.Section {
	s := doctor.Section{Name: "volumes"}
	s.Add("check", "%s", mode)
	s.Add("identity", "uid %d, groups %s", who.UID, who.groupList())
	if len(paths) == 0 {
		s.Notes = append(s.Notes, "NONROOT_VOLUMES is empty: nothing to check")
		return s
	}
	s.Notes = append(s.Notes, "writability judged by faccessat(AT_EACCESS) with the effective IDs, without writing a probe file; setup proves it with a real write, which NFS or an LSM may still refuse")
	for _, p := range paths {
		f := gather(p)
		err := accessCheck(p, f)
		s.Add(p, "%s", describe(f, err))
		if f.statErr == nil {
			s.Notes = append(s.Notes, fixPermissionsNotes(p, who.GID)...)
		}
		if err == nil {
			continue
		}
		prob := diagnose(p, who, f, err)
		if mode == "off" {
			s.Notes = append(s.Notes, fmt.Sprintf("NONROOT_VOLUME_CHECK=off, not a problem for setup: %s", prob.Error()))
			continue
		}
		s.Problem("NONROOT_VOLUMES: "+p+" "+prob.What, prob.Fix)
	}
	return s
}

// doctorWalkLimit bounds the entries doctor looks at under each volume
// (about 20 ms of statx on an idle machine): enough for the volumes an
// image prepares, and a full PVC does not make doctor slow.
const doctorWalkLimit = 10000

// doctorListLimit is how many privileged files a note names.
const doctorListLimit = 5

// fixPermissionsNotes is what fix-permissions (step 1 with RUN_AS, or an
// init container) would leave alone under path or refuse, from a
// bounded --check walk that changes nothing. Entries it cannot read are
// not doctor's business here: the writability line covers the path.
func fixPermissionsNotes(path string, gid int) []string {
	r, err := FixPermissions([]string{path}, FixOptions{GID: gid, Check: true, MaxEntries: doctorWalkLimit})
	var notes []string
	for _, e := range Problems(err) {
		var se *SymlinkError
		if errors.As(e, &se) {
			notes = append(notes, fmt.Sprintf("fix-permissions would refuse %s: %v (setup step 1 with NONROOT_RUN_AS, started as root, skips it too)", path, se))
		}
	}
	if n := len(r.Privileged); n > 0 {
		names := make([]string, 0, doctorListLimit)
		for _, p := range r.Privileged[:min(n, doctorListLimit)] {
			names = append(names, p.Path+" ("+p.Reason+")")
		}
		more := ""
		if n > doctorListLimit {
			more = fmt.Sprintf(" and %d more", n-doctorListLimit)
		}
		noun := "files"
		if n == 1 {
			noun = "file"
		}
		notes = append(notes, fmt.Sprintf("fix-permissions would leave %d privileged %s alone under %s, never making it group-writable: %s%s", n, noun, path, strings.Join(names, ", "), more))
	}
	if r.Truncated {
		notes = append(notes, fmt.Sprintf("fix-permissions check of %s stopped after %d entries; run `nonroot-init fix-permissions --check %s` for all of it", path, doctorWalkLimit, path))
	}
	return notes
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
		s += ", symbolic link to " + f.linkTarget
	}
	if f.mountRoot {
		s += ", mount point"
	}
	if f.readOnly {
		s += ", read-only filesystem"
	}
	if f.statfsOK {
		s += fmt.Sprintf(", %s free of %s", bytes(f.freeBytes), bytes(f.sizeBytes))
	}
	return s
}
