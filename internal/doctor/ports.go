package doctor

import (
	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/ports"
)

// portsPlan is step 4 as setup would plan it: the facts of ports.ReadFacts
// and the decisions of ports.Resolve.
type portsPlan struct {
	facts     ports.Facts
	factsErr  error
	decisions []ports.Decision // nil when NONROOT_PORTS is empty or cannot be resolved
	err       error            // from Resolve
}

// planPorts gathers and decides the ports with the calls setup's step 4
// makes; the facts are read even with NONROOT_PORTS empty, for the report.
func planPorts(cfg *config.Config, h host.Host) portsPlan {
	var p portsPlan
	p.facts, p.factsErr = ports.ReadFacts(h.ProcDir)
	if p.factsErr != nil || len(cfg.Ports) == 0 {
		return p
	}
	p.decisions, p.err = ports.Resolve(cfg.Ports, cfg.PortOffset, p.facts)
	return p
}

// portsSection is the ports part of doctor: the unprivileged start, the
// capability COMMAND would hold, and each port's decision.
func portsSection(cfg *config.Config, p portsPlan) (Section, *Ports) {
	s := Section{Name: "ports"}
	j := &Ports{Offset: cfg.PortOffset, Resolved: []Port{}}
	if p.factsErr != nil {
		s.Problem(p.factsErr.Error(), "make /proc/sys/net/ipv4/ip_unprivileged_port_start and /proc/self/status readable, or leave NONROOT_PORTS empty")
		return s, j
	}
	j.UnprivilegedPortStart = ptr(p.facts.UnprivilegedStart)
	j.NetBindService, j.NetBindServiceReason = ptr(p.facts.BindCap), ptr(p.facts.BindCapReason)
	s.Add("unprivileged port start", "%d (net.ipv4.ip_unprivileged_port_start of this network namespace; 1024 when missing)", p.facts.UnprivilegedStart)
	held := "no"
	if p.facts.BindCap {
		held = "yes"
	}
	// The raw capability sets are in the identity section; this is only
	// what they mean for binding.
	s.Add("CAP_NET_BIND_SERVICE", "%s: %s", held, p.facts.BindCapReason)
	if len(cfg.Ports) == 0 {
		s.Add("NONROOT_PORTS", "empty")
		return s, j
	}
	if p.err != nil {
		s.Problem(p.err.Error(), "change NONROOT_PORTS or NONROOT_PORT_OFFSET so that every name ends on its own port up to 65535")
		return s, j
	}
	for _, d := range p.decisions {
		s.Add(d.Name, "%d: %s; containerPort and a Service's targetPort: %d", d.Port, d.Reason, d.Port)
		j.Resolved = append(j.Resolved, Port{Name: d.Name, Requested: d.Asked, Port: d.Port, Remapped: d.Remapped(), Reason: d.Reason})
	}
	return s, j
}
