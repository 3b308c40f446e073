package doctor

import (
	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/ports"
)

// portsSection is the ports part of doctor: the unprivileged start, the
// capability COMMAND would hold, and each port's decision.
func portsSection(cfg *config.Config, h host.Host) Section {
	s := Section{Name: "ports"}
	start, err := ports.UnprivilegedStart(h.ProcDir)
	if err != nil {
		s.Problem(err.Error(), "make /proc/sys/net/ipv4/ip_unprivileged_port_start readable, or leave NONROOT_PORTS empty")
		return s
	}
	s.Add("unprivileged port start", "%d (net.ipv4.ip_unprivileged_port_start of this network namespace; 1024 when missing)", start)
	caps, err := ports.ReadCaps(h.ProcDir)
	if err != nil {
		s.Problem(err.Error(), "")
		return s
	}
	bind, why := caps.BindForCommand()
	held := "no"
	if bind {
		held = "yes"
	}
	// The raw capability sets are in the identity section; this is only
	// what they mean for binding.
	s.Add("CAP_NET_BIND_SERVICE", "%s: %s", held, why)
	if len(cfg.Ports) == 0 {
		s.Add("NONROOT_PORTS", "empty")
		return s
	}
	facts := ports.Facts{UnprivilegedStart: start, BindCap: bind, BindCapReason: why}
	decisions, err := ports.Resolve(cfg.Ports, cfg.PortOffset, facts)
	if err != nil {
		s.Problem(err.Error(), "change NONROOT_PORTS or NONROOT_PORT_OFFSET so that every name ends on its own port up to 65535")
		return s
	}
	for _, d := range decisions {
		s.Add(d.Name, "%d: %s; containerPort and a Service's targetPort: %d", d.Port, d.Reason, d.Port)
	}
	return s
}
