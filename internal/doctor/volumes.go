package doctor

import (
	"fmt"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/volumes"
)

// volumesSection describes the volumes of NONROOT_VOLUMES (step 3), from
// volumes.Inspect, which writes nothing.
func volumesSection(cfg *config.Config) Section {
	who := volumes.CurrentIdentity()
	s := Section{Name: "volumes"}
	s.Add("check", "%s", cfg.VolumeCheck)
	s.Add("identity", "uid %d, groups %s", who.UID, who.GroupList())
	if len(cfg.Volumes) == 0 {
		s.Notes = append(s.Notes, "NONROOT_VOLUMES is empty: nothing to check")
		return s
	}
	s.Notes = append(s.Notes, "writability judged by faccessat(AT_EACCESS) with the effective IDs, without writing a probe file; setup proves it with a real write, which NFS or an LSM may still refuse")
	for _, r := range volumes.Inspect(cfg.Volumes, who) {
		s.Add(r.Path, "%s", r.Summary)
		s.Notes = append(s.Notes, r.Notes...)
		switch {
		case r.Problem == nil:
		case cfg.VolumeCheck == config.CheckOff:
			s.Notes = append(s.Notes, fmt.Sprintf("NONROOT_VOLUME_CHECK=off, not a problem for setup: %s", r.Problem.Error()))
		default:
			s.Problem("NONROOT_VOLUMES: "+r.Path+" "+r.Problem.What, r.Problem.Fix)
		}
	}
	return s
}
