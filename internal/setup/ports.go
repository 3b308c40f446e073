package setup

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/config"
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
