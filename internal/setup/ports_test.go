package setup

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// portsProc makes a fake /proc with the sysctl (unless start is "") and
// a self/status for uid with the given ambient set.
func portsProc(t *testing.T, start string, uid string, ambient string) string {
	t.Helper()
	proc := t.TempDir()
	if start != "" {
		dir := filepath.Join(proc, "sys/net/ipv4")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ip_unprivileged_port_start"), []byte(start+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	status := "Uid:\t" + strings.Repeat(uid+"\t", 3) + uid + "\nCapInh:\t" + ambient + "\nCapPrm:\t" + ambient +
		"\nCapEff:\t" + ambient + "\nCapBnd:\t000001ffffffffff\nCapAmb:\t" + ambient + "\n"
	if err := os.MkdirAll(filepath.Join(proc, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, "self/status"), []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	return proc
}

func TestResolvePorts(t *testing.T) {
	web := []config.Port{{Name: "HTTP_PORT", Port: 80}, {Name: "APP_PORT", Port: 9000}}
	tests := []struct {
		name    string
		proc    string
		ports   []config.Port
		offset  int
		want    map[string]string
		wantErr string
	}{
		{"no sysctl counts as 1024", portsProc(t, "", "1000680000", "0"), web, 8000, map[string]string{"HTTP_PORT": "8080", "APP_PORT": "9000"}, ""},
		{"sysctl 0", portsProc(t, "0", "1000680000", "0"), web, 8000, map[string]string{"HTTP_PORT": "80", "APP_PORT": "9000"}, ""},
		{"ambient capability", portsProc(t, "1024", "1000680000", "400"), web, 8000, map[string]string{"HTTP_PORT": "80"}, ""},
		{"root", portsProc(t, "1024", "0", "0"), web, 8000, map[string]string{"HTTP_PORT": "80"}, ""},
		{"collision", portsProc(t, "1024", "1000", "0"), []config.Port{{Name: "A", Port: 80}, {Name: "B", Port: 8080}}, 8000, nil, "A=80 and B=8080 both end on port 8080"},
		{"garbage sysctl", portsProc(t, "lots", "1000", "0"), web, 8000, nil, "NONROOT_PORTS: "},
		{"nothing asked", "/nonexistent", nil, 8000, map[string]string{}, ""},
	}
	for _, tt := range tests {
		env := NewEnv([]string{"HTTP_PORT=1"})
		var logs bytes.Buffer
		cfg := &config.Config{Ports: tt.ports, PortOffset: tt.offset}
		got, err := resolvePorts(cfg, Host{ProcDir: tt.proc}, env, slog.New(slog.NewTextHandler(&logs, nil)))
		if tt.wantErr != "" {
			var fe *FailedError
			if !errors.As(err, &fe) || fe.Step != "ports" || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: resolvePorts = %v, %v; want a ports FailedError containing %q", tt.name, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: resolvePorts: %v", tt.name, err)
			continue
		}
		for k, v := range tt.want {
			if e, _ := env.Get(k); e != v || !strings.Contains(logs.String(), k+"="+v+" (") {
				t.Errorf("%s: COMMAND gets %s=%q, log %q; want %q, logged with its reason", tt.name, k, e, logs.String(), v)
			}
			if got[k] == 0 {
				t.Errorf("%s: .Ports lacks %s: %v", tt.name, k, got)
			}
		}
		if len(tt.ports) > 0 && strings.Count(logs.String(), "\n") != 1 {
			t.Errorf("%s: want one log line, got %q", tt.name, logs.String())
		}
		if len(tt.ports) == 0 && logs.Len() != 0 {
			t.Errorf("%s: logged %q with nothing to do", tt.name, logs.String())
		}
	}
}
