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
		identitySection(cfg, host),
		volumes.DoctorSection(cfg.Volumes, cfg.VolumeCheck, volumes.CurrentIdentity()),
		portsSection(cfg, host),
		templatesSection(cfg, host),
		processSection(cfg, host),
	)
}
