package setup

import (
	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/doctor"
	"github.com/nonroot-init/nonroot-init/internal/volumes"
)

// Doctor runs steps 2 to 5 in check-only mode and returns the report. It
// writes nothing, not even a probe file.
func Doctor(cfg *config.Config, host Host) doctor.Report {
	return doctor.New(
		processSection(cfg, host),
		portsSection(cfg, host),
		volumes.DoctorSection(cfg.Volumes, cfg.VolumeCheck, volumes.CurrentIdentity()),
	)
}

// processSection describes how the init would supervise COMMAND.
func processSection(cfg *config.Config, host Host) doctor.Section {
	s := doctor.Section{Name: "process"}
	s.Add("pid", "%d", host.PID)
	switch {
	case host.PID == 1:
		s.Add("role", "PID 1: reaps every zombie of the namespace")
	case cfg.Subreaper == config.SubreaperOff:
		s.Add("role", "not PID 1 and NONROOT_SUBREAPER=off: orphans go to the real PID 1")
	default:
		s.Add("role", "subreaper: reaps its own descendants")
	}
	return s
}
