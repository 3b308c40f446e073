package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
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

func TestPortsSection(t *testing.T) {
	cfg := &config.Config{Ports: []config.Port{{Name: "HTTP_PORT", Port: 80}}, PortOffset: 8000}
	s, _ := portsSection(cfg, planPorts(cfg, host.Host{ProcDir: portsProc(t, "1024", "1000680000", "0")}))
	text := portsSectionText(s.Facts)
	for _, w := range []string{"unprivileged port start=1024", "CAP_NET_BIND_SERVICE=no: COMMAND (uid 1000680000) does not hold", "HTTP_PORT=8080: 80 is below", "targetPort: 8080"} {
		if !strings.Contains(text, w) {
			t.Errorf("ports section %q lacks %q", text, w)
		}
	}
	if len(s.Problems) != 0 {
		t.Errorf("problems %v; want none", s.Problems)
	}
	bad := &config.Config{Ports: []config.Port{{Name: "A", Port: 80}, {Name: "B", Port: 8080}}, PortOffset: 8000}
	if s, _ := portsSection(bad, planPorts(bad, host.Host{ProcDir: portsProc(t, "1024", "1000", "0")})); len(s.Problems) != 1 {
		t.Errorf("collision: problems %v; want one", s.Problems)
	}
	if s, _ := portsSection(cfg, planPorts(cfg, host.Host{ProcDir: portsProc(t, "x", "1000", "0")})); len(s.Problems) != 1 {
		t.Errorf("unreadable sysctl: problems %v; want one", s.Problems)
	}
}

func portsSectionText(facts []Fact) string {
	var b strings.Builder
	for _, f := range facts {
		b.WriteString(f.Name + "=" + f.Value + "\n")
	}
	return b.String()
}

func TestTemplatesSection(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.conf.tmpl"), []byte("{{ port \"HTTP_PORT\" }}"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out")
	cfg := &config.Config{Templates: []config.Template{{Src: src, Dst: dst}}, Ports: []config.Port{{Name: "HTTP_PORT", Port: 80}}, PortOffset: 8000}
	h := host.Host{ProcDir: portsProc(t, "1024", "1000680000", "0"), Environ: []string{"HOME=/h", "USER=u"}}
	s, _ := templatesSection(cfg, h, host.ReadCreds(), planPorts(cfg, h).decisions)
	if len(s.Problems) != 0 || len(s.Facts) != 1 || !strings.Contains(s.Facts[0].Value, "render to "+filepath.Join(dst, "a.conf")) {
		t.Errorf("templatesSection = %+v; want one fact rendering a.conf and no problem", s)
	}
	if _, err := os.Lstat(dst); err == nil {
		t.Errorf("doctor created %s", dst)
	}
	if err := os.WriteFile(filepath.Join(src, "b.conf.tmpl"), []byte("{{ if }}"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ = templatesSection(cfg, h, host.ReadCreds(), planPorts(cfg, h).decisions)
	if len(s.Problems) != 1 || !strings.Contains(s.Problems[0].What, "b.conf.tmpl:1: missing value for if") {
		t.Errorf("templatesSection(bad) problems %+v; want the parse error", s.Problems)
	}
	if s, _ := templatesSection(&config.Config{}, h, host.ReadCreds(), nil); len(s.Problems) != 0 {
		t.Errorf("templatesSection(none) = %+v", s)
	}
}
