package doctor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// As root with NONROOT_RUN_AS, doctor does not render the templates:
// the start renders them as the target, and root's render would read,
// and could show, what the target may not read (a NAME_FILE or a file
// PATH through a link the target planted). Before, a template's error
// message carried a root-only file's contents into the report.
func TestTemplatesSectionRootRunAsNotRendered(t *testing.T) {
	dir := t.TempDir()
	shadow := filepath.Join(dir, "shadow")
	must(t, os.WriteFile(shadow, []byte("root:topsecrethash:20228\n"), 0o400))
	src := filepath.Join(dir, "src")
	must(t, os.Mkdir(src, 0o755))
	must(t, os.WriteFile(filepath.Join(src, "a.conf.tmpl"), []byte(`{{ required (file "`+shadow+`" | upper) "" }}{{ required (env "PW" | upper) "" }}`), 0o644))
	cfg := &config.Config{
		Templates: []config.Template{{Src: src, Dst: filepath.Join(dir, "dst")}},
		FileEnv:   []string{"PW"},
		RunAs:     &config.IDs{UID: 1000680000, GID: 0},
	}
	h := host.Host{Environ: []string{"PW_FILE=" + shadow}}
	s, js := templatesSection(cfg, h, host.Creds{UID: 0, EUID: 0}, nil)
	out, err := json.Marshal(struct {
		S  Section
		JS []Template
	}{s, js})
	must(t, err)
	if strings.Contains(strings.ToLower(string(out)), "topsecrethash") {
		t.Errorf("report shows the root-only file: %s", out)
	}
	if len(js) != 1 || js[0].NotChecked == nil || !strings.Contains(*js[0].NotChecked, "uid 1000680000") || js[0].Files != nil || len(s.Problems) != 0 {
		t.Errorf("templatesSection(root, RUN_AS) = %s; want not checked, no files, no problem", out)
	}
	// As the target (or without RUN_AS) they are rendered as before.
	_, js = templatesSection(&config.Config{Templates: cfg.Templates}, host.Host{}, host.Creds{UID: 1000680000, EUID: 1000680000}, nil)
	if len(js) != 1 || js[0].NotChecked != nil {
		t.Errorf("templatesSection(no RUN_AS) = %+v; want it rendered", js)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// PID 1's SIGTERM counts as blocked only when every thread blocks it:
// nonroot-init's supervising thread blocks the signals it forwards while
// the runtime's other threads take them. Before, doctor read the main
// thread's mask alone and reported nonroot-init itself as a PID 1 that
// ignores SIGTERM (the e2e doctor checks in runc and podman failed).
func TestPID1SIGTERMBlockedOnlyByEveryThread(t *testing.T) {
	proc := t.TempDir()
	status := func(blk string) string {
		return "Name:\tnonroot-init\nSigBlk:\t" + blk + "\nSigIgn:\t0000000000000000\nSigCgt:\tfffffffffffbfeff\n"
	}
	write := func(rel, text string) {
		p := filepath.Join(proc, rel)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(text), 0o644))
	}
	const termBlocked = "0000000000004000"
	write("1/comm", "nonroot-init\n")
	write("1/status", status(termBlocked))
	write("1/task/1/status", status(termBlocked))
	write("1/task/7/status", status("0000000000000000"))
	var s Section
	var j Process
	pid1Facts(&s, &j, host.Host{ProcDir: proc, PID: 40})
	if j.PID1 == nil || j.PID1.SIGTERM != "caught" {
		t.Fatalf("pid1 = %+v; want SIGTERM caught (one thread takes it)", j.PID1)
	}
	// Blocked by every thread, it is blocked.
	write("1/task/7/status", status(termBlocked))
	s, j = Section{}, Process{}
	pid1Facts(&s, &j, host.Host{ProcDir: proc, PID: 40})
	if j.PID1 == nil || j.PID1.SIGTERM != "blocked" {
		t.Fatalf("pid1 = %+v; want SIGTERM blocked", j.PID1)
	}
}
