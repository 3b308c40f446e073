package setup

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/doctor"
	"github.com/nonroot-init/nonroot-init/internal/ports"
)

// resolvePorts is step 4: it decides the port COMMAND can bind for each
// NAME=PORT of NONROOT_PORTS, sets NAME in env, logs the decisions on one
// line and returns the name-to-port map the templates see as .Ports. The
// capability sets are read after step 1, so an ambient
// CAP_NET_BIND_SERVICE that RUN_AS kept counts.
func resolvePorts(cfg *config.Config, host Host, env *Env, log *slog.Logger) (map[string]int, error) {
	resolved := map[string]int{}
	if len(cfg.Ports) == 0 {
		return resolved, nil
	}
	facts, err := ports.ReadFacts(host.ProcDir)
	if err != nil {
		return nil, &FailedError{Step: "ports", Err: fmt.Errorf("NONROOT_PORTS: %w", err)}
	}
	decisions, err := ports.Resolve(cfg.Ports, cfg.PortOffset, facts)
	if err != nil {
		return nil, &FailedError{Step: "ports", Err: err}
	}
	var summary []string
	for _, d := range decisions {
		env.Set(d.Name, strconv.Itoa(d.Port))
		resolved[d.Name] = d.Port
		summary = append(summary, fmt.Sprintf("%s=%d (%s; containerPort and a Service's targetPort: %d)", d.Name, d.Port, d.Reason, d.Port))
	}
	log.Info("ports resolved", "unprivileged_port_start", facts.UnprivilegedStart, "ports", strings.Join(summary, ", "))
	return resolved, nil
}

// portsSection is the ports part of doctor: the unprivileged start, the
// capability COMMAND would hold, and each port's decision.
func portsSection(cfg *config.Config, host Host) doctor.Section {
	s := doctor.Section{Name: "ports"}
	start, err := ports.UnprivilegedStart(host.ProcDir)
	if err != nil {
		s.Problem(err.Error(), "make /proc/sys/net/ipv4/ip_unprivileged_port_start readable, or leave NONROOT_PORTS empty")
		return s
	}
	s.Add("unprivileged port start", "%d (net.ipv4.ip_unprivileged_port_start of this network namespace; 1024 when missing)", start)
	caps, err := ports.ReadCaps(host.ProcDir)
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
