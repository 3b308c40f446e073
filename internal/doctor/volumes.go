package doctor

import (
	"fmt"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/volumes"
)

// volumesSection describes the volumes of NONROOT_VOLUMES (step 3), from
// volumes.Inspect, which writes nothing.
func volumesSection(cfg *config.Config, creds host.Creds) (Section, []Volume) {
	who := volumes.IdentityOf(creds)
	s := Section{Name: "volumes"}
	s.Add("check", "%s", cfg.VolumeCheck)
	s.Add("identity", "uid %d, groups %s", who.UID, who.GroupList())
	js := []Volume{}
	if len(cfg.Volumes) == 0 {
		s.Notes = append(s.Notes, "NONROOT_VOLUMES is empty: nothing to check")
		return s, js
	}
	s.Notes = append(s.Notes, "writability judged by faccessat(AT_EACCESS) with the effective IDs, without writing a probe file; setup proves it with a real write, which NFS or an LSM may still refuse")
	for _, r := range volumes.Inspect(cfg.Volumes, who) {
		s.Add(volumes.Quote(r.Path), "%s", r.Summary)
		s.Notes = append(s.Notes, r.Notes...)
		js = append(js, volumeJSON(r))
		switch {
		case r.Problem == nil:
		case cfg.VolumeCheck == config.CheckOff:
			s.Notes = append(s.Notes, fmt.Sprintf("NONROOT_VOLUME_CHECK=off, not a problem for setup: %s", r.Problem.Error()))
		default:
			s.Problem("NONROOT_VOLUMES: "+volumes.Quote(r.Path)+" "+r.Problem.What, r.Problem.Fix)
		}
	}
	return s, js
}

// volumeJSON is the typed form of volumes.Inspect's report.
func volumeJSON(r volumes.Report) Volume {
	v := Volume{Path: r.Path, Writable: r.Writable, Error: errString(r.StatErr), PrivilegedFiles: []PrivilegedFile{}, FixPermissionsTruncated: r.Truncated}
	if r.StatErr == nil {
		v.Type, v.UID, v.GID, v.Mode = ptr(r.Kind), ptr(r.UID), ptr(r.GID), ptr(octal(r.Mode))
		v.ReadOnly, v.MountPoint, v.SymlinkTarget = ptr(r.ReadOnly), ptr(r.MountPoint), optional(r.LinkTarget)
		v.FreeBytes, v.SizeBytes = r.FreeBytes, r.SizeBytes
	}
	if r.Problem != nil {
		v.Problem, v.Fix = ptr(r.Problem.What), optional(r.Problem.Fix)
	}
	for _, p := range r.Privileged {
		v.PrivilegedFiles = append(v.PrivilegedFiles, PrivilegedFile{Path: p.Path, Reason: p.Reason})
	}
	if r.Refused != nil {
		v.FixPermissionsRefused = ptr(r.Refused.Error())
	}
	return v
}
