package doctor

import (
	"os"
	"path/filepath"
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
		s, js := secretsSection(cfg, host.Host{Environ: []string{name + "_FILE=/run/secrets/x"}}, host.Creds{})
		if len(s.Problems) != 1 || !strings.Contains(s.Problems[0].What, name+"_FILE is set, but "+name+" is set by ") || len(js) != 0 {
			t.Errorf("secretsSection(%s_FILE) = %+v, %+v; want the conflict", name, s.Problems, js)
		}
	}
}

// As root with NONROOT_RUN_AS, doctor's own read says nothing about the
// start's (as the target): it says it did not check, not "readable".
func TestSecretsSectionRootRunAs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(file, []byte("hunter2"), 0o400); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{FileEnv: []string{"DB_PASSWORD"}, RunAs: &config.IDs{UID: 1000680000, GID: 0}}
	h := host.Host{Environ: []string{"DB_PASSWORD_FILE=" + file}}
	s, js := secretsSection(cfg, h, host.Creds{UID: 0, EUID: 0})
	if len(js) != 1 || js[0].Readable || js[0].Problem != nil || js[0].NotChecked == nil || !strings.Contains(*js[0].NotChecked, "uid 1000680000") || len(s.Problems) != 0 {
		t.Errorf("secretsSection(root, RUN_AS) = %+v, %+v; want not checked, no problem", s, js)
	}
	for _, f := range s.Facts {
		if strings.Contains(f.Name+f.Value, "readable") && !strings.Contains(f.Name+f.Value, "not checked") {
			t.Errorf("fact %+v claims readable", f)
		}
	}
	// Without RUN_AS (or as the target already), the read is the start's.
	_, js = secretsSection(&config.Config{FileEnv: []string{"DB_PASSWORD"}}, h, host.Creds{})
	if len(js) != 1 || js[0].NotChecked != nil {
		t.Errorf("secretsSection(no RUN_AS) = %+v; want it checked", js)
	}
}
