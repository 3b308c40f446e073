package doctor

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// TestDoctorReload: the JSON report has "reload" with whether it is on,
// the signal, the check and what is watched; the text report the same.
func TestDoctorReload(t *testing.T) {
	h, root := jsonHost(t)
	src := filepath.Join(root, "config")
	if err := os.MkdirAll(filepath.Join(src, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "single", "app.tmpl")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := config.Config{
		Passwd: config.PasswdAuto, Username: "default", StateDir: filepath.Join(root, "state"),
		Templates: []config.Template{{Src: src, Dst: filepath.Join(root, "out")}, {Src: file, Dst: filepath.Join(root, "out2")}},
		Subreaper: config.SubreaperAuto,
	}

	on := base
	on.ReloadSignal = syscall.SIGHUP
	on.ReloadCheck = []string{"nginx", "-t"}
	m, text := reloadReport(t, &on, h)
	want := map[string]any{
		"enabled": true, "signal": "SIGHUP", "check": []any{"nginx", "-t"},
		"watches": []any{
			map[string]any{"src": src, "dir": src, "name": nil},
			map[string]any{"src": src, "dir": filepath.Join(src, "conf.d"), "name": nil},
			map[string]any{"src": file, "dir": filepath.Dir(file), "name": "app.tmpl"},
		},
		"check_timeout_seconds": json.Number("30"),
	}
	if got, _ := json.Marshal(m["reload"]); string(got) != mustJSON(t, want) {
		t.Errorf("reload = %s\nwant     %s", got, mustJSON(t, want))
	}
	for _, s := range []string{"== reload", "NONROOT_RELOAD_SIGNAL:", "SIGHUP", "nginx -t", filepath.Join(src, "conf.d"), "subPath"} {
		if !strings.Contains(text, s) {
			t.Errorf("text report lacks %q:\n%s", s, text)
		}
	}

	off := base
	m, text = reloadReport(t, &off, h)
	want = map[string]any{"enabled": false, "signal": nil, "check": []any{}, "watches": []any{}, "check_timeout_seconds": nil}
	if got, _ := json.Marshal(m["reload"]); string(got) != mustJSON(t, want) {
		t.Errorf("reload off = %s\nwant         %s", got, mustJSON(t, want))
	}
	if !strings.Contains(text, "== reload") || !strings.Contains(text, "off") {
		t.Errorf("text report does not say reload is off:\n%s", text)
	}
}

func reloadReport(t *testing.T, cfg *config.Config, h host.Host) (map[string]any, string) {
	t.Helper()
	rep := Run(cfg, h, host.ReadCreds(), "v1.2.3")
	var js, text bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(&js)
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m, text.String()
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDoctorReloadCheckNotFound: a NONROOT_RELOAD_CHECK that cannot be
// found in PATH is a problem now, not a surprise at the first reload.
func TestDoctorReloadCheckNotFound(t *testing.T) {
	h, root := jsonHost(t)
	src := filepath.Join(root, "config")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	h.Environ = append(h.Environ, "PATH=/usr/bin:/bin")
	cfg := config.Config{
		Passwd: config.PasswdAuto, Username: "default", StateDir: filepath.Join(root, "state"),
		Templates: []config.Template{{Src: src, Dst: filepath.Join(root, "out")}},
		Subreaper: config.SubreaperAuto, ReloadSignal: syscall.SIGHUP,
	}
	for check, bad := range map[string]bool{"no-such-reload-check": true, "sh": false} {
		cfg.ReloadCheck = []string{check, "-t"}
		_, text := reloadReport(t, &cfg, h)
		has := strings.Contains(text, "NONROOT_RELOAD_CHECK cannot be run")
		if has != bad {
			t.Errorf("check %q: problem reported %v; want %v\n%s", check, has, bad, text)
		}
	}
}
