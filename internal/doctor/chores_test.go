package doctor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// TestDoctorWaitAndHooks: "wait" lists each NONROOT_WAIT dependency
// redacted, with the timeout; "hooks" the hooks in the order they run and
// what is skipped; a missing hook directory, on which the start would
// fail, is a problem.
func TestDoctorWaitAndHooks(t *testing.T) {
	h, root := jsonHost(t)
	d1, d2 := filepath.Join(root, "a.d"), filepath.Join(root, "b.d")
	for _, d := range []string{d1, d2} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for path, mode := range map[string]os.FileMode{filepath.Join(d1, "20-b"): 0o755, filepath.Join(d2, "10-a"): 0o755, filepath.Join(d1, "30-notexec"): 0o644} {
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	deps, err := config.ParseWait("tcp://db:5432,https://probe:s3cret@api/ready?token=abc")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{
		Passwd: config.PasswdAuto, Username: "default", StateDir: filepath.Join(root, "state"), Subreaper: config.SubreaperAuto,
		Wait: deps, WaitTimeout: 90 * time.Second, Hooks: []string{d1, d2}, HookTimeout: 0,
	}
	m, text := reloadReport(t, &cfg, h)
	want := map[string]any{
		"dependencies": []any{
			map[string]any{"dep": "tcp://db:5432", "scheme": "tcp"},
			map[string]any{"dep": "https://probe:xxxxx@api/ready?token=xxxxx", "scheme": "https"},
		},
		"timeout_seconds": json.Number("90"),
	}
	if got, _ := json.Marshal(m["wait"]); string(got) != mustJSON(t, want) {
		t.Errorf("wait = %s\nwant   %s", got, mustJSON(t, want))
	}
	hooksJS, _ := json.Marshal(m["hooks"])
	if got := string(hooksJS); !strings.Contains(got, `"run":["`+filepath.Join(d1, "20-b")+`","`+filepath.Join(d2, "10-a")+`"]`) ||
		!strings.Contains(got, filepath.Join(d1, "30-notexec")) || !strings.Contains(got, `"timeout_seconds":null`) {
		t.Errorf("hooks = %s; want both hooks in order, the non-executable one skipped, no timeout", got)
	}
	if strings.Contains(text, "s3cret") || strings.Contains(text, "abc") || strings.Contains(string(hooksJS), "s3cret") {
		t.Errorf("the report shows a NONROOT_WAIT secret:\n%s", text)
	}
	for _, s := range []string{"== wait", "tcp://db:5432", "1m30s", "== hooks", "20-b"} {
		if !strings.Contains(text, s) {
			t.Errorf("text report lacks %q:\n%s", s, text)
		}
	}

	if os.Geteuid() == 0 {
		// As root with NONROOT_RUN_AS, what root may run says nothing
		// of what the start, as that user, may.
		asUser := cfg
		asUser.RunAs = &config.IDs{UID: 1000680000, GID: 0}
		m, _ := reloadReport(t, &asUser, h)
		got, _ := json.Marshal(m["hooks"])
		if !strings.Contains(string(got), `"run":[]`) || !strings.Contains(string(got), "not checked") {
			t.Errorf("hooks as root with NONROOT_RUN_AS = %s; want nothing listed and not_checked saying why", got)
		}
		// A missing directory fails the start for every user: still a
		// problem.
		asUser.Hooks = []string{filepath.Join(root, "missing-too.d")}
		m, _ = reloadReport(t, &asUser, h)
		if problems, _ := json.Marshal(m["problems"]); !strings.Contains(string(problems), "missing-too.d") {
			t.Errorf("problems as root with NONROOT_RUN_AS = %s; want the missing hook directory", problems)
		}
	}

	cfg.Hooks = []string{filepath.Join(root, "missing.d")}
	m, _ = reloadReport(t, &cfg, h)
	problems, _ := json.Marshal(m["problems"])
	if !strings.Contains(string(problems), `"section":"hooks"`) || !strings.Contains(string(problems), "missing.d") {
		t.Errorf("problems = %s; want one of section hooks naming missing.d", problems)
	}
}
