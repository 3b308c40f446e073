package volumes

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/doctor"
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

// accessCheck asks the kernel whether the effective IDs may create
// entries in dir (write and search permission).
func accessCheck(dir string, f facts) error {
	if f.statErr != nil {
		return f.statErr
	}
	if !f.isDir {
		return unix.ENOTDIR
	}
	return unix.Faccessat(unix.AT_FDCWD, dir, unix.W_OK|unix.X_OK, unix.AT_EACCESS)
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
