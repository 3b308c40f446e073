package doctor

import (
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// doctor reports the conflict the init would stop on before step 1: a
// listed HOME or NONROOT_PORTS name with NAME_FILE set.
func TestSecretsSectionSetLater(t *testing.T) {
	for _, name := range []string{"HOME", "HTTP_PORT"} {
		cfg := &config.Config{FileEnv: []string{name}, Ports: []config.Port{{Name: "HTTP_PORT", Port: 8080}}}
		s, js := secretsSection(cfg, host.Host{Environ: []string{name + "_FILE=/run/secrets/x"}})
		if len(s.Problems) != 1 || !strings.Contains(s.Problems[0].What, name+"_FILE is set, but "+name+" is set by ") || len(js) != 0 {
			t.Errorf("secretsSection(%s_FILE) = %+v, %+v; want the conflict", name, s.Problems, js)
		}
	}
}
