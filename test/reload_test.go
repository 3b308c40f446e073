package test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// reloadQuiet is how long a test watches for a signal that must not
// come: several times the 1 s debounce, plus a check's run. It bounds a
// negative observation; no speed is asserted.
const reloadQuiet = 4 * time.Second

// reloadStamp is the first timestamped directory of tmplConfigMap.
const reloadStamp = "..2026_11_29_11_00_00.987654321"

// cmSwap is the kubelet's update of a ConfigMap volume made by
// tmplConfigMap: the new data in a new timestamped directory, ..data_tmp
// linked to it and renamed over ..data, the old directory removed. It
// returns the new directory's name, for the next swap.
func cmSwap(t *testing.T, root, old, stamp string, files map[string]string) string {
	t.Helper()
	tmplMust(t, os.Mkdir(filepath.Join(root, stamp), 0o755))
	for rel, content := range files {
		tmplMust(t, os.WriteFile(filepath.Join(root, stamp, rel), []byte(content), 0o644))
	}
	tmplMust(t, os.Symlink(stamp, filepath.Join(root, "..data_tmp")))
	tmplMust(t, os.Rename(filepath.Join(root, "..data_tmp"), filepath.Join(root, "..data")))
	tmplMust(t, os.RemoveAll(filepath.Join(root, old)))
	return stamp
}

// reloadRun is the init as PID 1, UID 1000680000 GID 0, rendering a
// ConfigMap directory with app.conf.tmpl into dst, with COMMAND a shell
// that prints "hup <dst's content>" on each SIGHUP.
type reloadRun struct {
	p    *harness.Proc
	src  string // the ConfigMap directory
	conf string // the rendered file
	hups []string
}

func startReload(t *testing.T, tmpl string, env func(conf string) []string) *reloadRun {
	t.Helper()
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	tmplConfigMap(t, src, map[string]string{"app.conf.tmpl": tmpl})
	dst := tmplWritableDir(t, filepath.Join(base, "out"))
	conf := filepath.Join(dst, "app.conf")
	script := `trap 'echo "hup $(cat ` + conf + `)"' HUP; trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done`
	opts := harness.Opts{PID1: true, UID: harness.OpenShiftUID, Env: append([]string{
		"NONROOT_TEMPLATES=" + src + ":" + dst,
		"NONROOT_RELOAD_SIGNAL=HUP",
		"NONROOT_LOG_LEVEL=debug",
	}, env(conf)...)}
	p := harness.Start(t, opts, "sh", "-c", script)
	p.Expect(t, 30*time.Second, "ready")
	return &reloadRun{p: p, src: src, conf: conf}
}

// content is the rendered file now.
func (r *reloadRun) content(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(r.conf)
	if err != nil {
		t.Fatalf("read %s: %v", r.conf, err)
	}
	return string(b)
}

// waitLog waits until the init's log holds want, failing after a bound.
func (r *reloadRun) waitLog(t *testing.T, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if !harness.WaitFor(ctx, func() bool { return strings.Contains(r.p.Stderr(), want) }) {
		t.Fatalf("the init never logged %q:\n%s", want, r.p.Stderr())
	}
}

// stop ends the run with SIGTERM (COMMAND exits 0) and returns every
// "hup" line COMMAND printed.
func (r *reloadRun) stop(t *testing.T) []string {
	t.Helper()
	time.Sleep(reloadQuiet)
	r.p.Signal(t, syscall.SIGTERM)
	res := r.p.Wait(t, 60*time.Second)
	if res.Code != 0 {
		t.Errorf("after SIGTERM the init exited %d; want 0 (COMMAND kept running and stopped cleanly)\nstderr: %s", res.Code, res.Stderr)
	}
	var hups []string
	for _, l := range strings.Split(res.Stdout, "\n") {
		if strings.HasPrefix(l, "hup") {
			hups = append(hups, l)
		}
	}
	return hups
}

// TestReloadConfigMapSwap: a real ..data swap re-renders the file and
// COMMAND gets RELOAD_SIGNAL exactly once, reading the new file then.
func TestReloadConfigMapSwap(t *testing.T) {
	r := startReload(t, "v1 uid={{ .User.UID }}\n", noEnv)
	if got := r.content(t); got != "v1 uid=1000680000\n" {
		t.Fatalf("rendered at start %q", got)
	}
	cmSwap(t, r.src, reloadStamp, "..2026_12_03_10_00_00.123", map[string]string{"app.conf.tmpl": "v2 uid={{ .User.UID }}\n"})
	r.waitLog(t, "msg=reloaded")
	if got := r.content(t); got != "v2 uid=1000680000\n" {
		t.Errorf("after the swap %s = %q; want the new render", r.conf, got)
	}
	if hups := r.stop(t); len(hups) != 1 || hups[0] != "hup v2 uid=1000680000" {
		t.Errorf("COMMAND printed %q; want one SIGHUP, seeing the new file\nstderr: %s", hups, r.p.Stderr())
	}
}

// TestReloadBrokenTemplate: a swap to a template that does not render
// keeps the old file, sends nothing, and COMMAND keeps running.
func TestReloadBrokenTemplate(t *testing.T) {
	r := startReload(t, "v1\n", noEnv)
	cmSwap(t, r.src, reloadStamp, "..2026_12_03_10_00_00.123", map[string]string{"app.conf.tmpl": "v2 {{ .Nope }\n"})
	r.waitLog(t, "cannot be rendered again")
	if got := r.content(t); got != "v1\n" {
		t.Errorf("after a broken swap %s = %q; want the old %q", r.conf, got, "v1\n")
	}
	if hups := r.stop(t); len(hups) != 0 {
		t.Errorf("COMMAND got RELOAD_SIGNAL after a broken template: %q", hups)
	}
	if !strings.Contains(r.p.Stderr(), "app.conf.tmpl") {
		t.Errorf("the render error does not name the template:\n%s", r.p.Stderr())
	}
}

func noEnv(string) []string { return nil }

// TestReloadCheckFails: a RELOAD_CHECK that fails on the new file puts
// the old file back and sends nothing; COMMAND keeps running. The check
// saw the new file: it is what it rejected.
func TestReloadCheckFails(t *testing.T) {
	r := startReload(t, "good v1\n", func(conf string) []string {
		return []string{"NONROOT_RELOAD_CHECK=grep -q good " + conf}
	})
	cmSwap(t, r.src, reloadStamp, "..2026_12_03_10_00_00.123", map[string]string{"app.conf.tmpl": "bad v2\n"})
	r.waitLog(t, "NONROOT_RELOAD_CHECK failed")
	if got := r.content(t); got != "good v1\n" {
		t.Errorf("after a failed check %s = %q; want the old %q back", r.conf, got, "good v1\n")
	}
	if hups := r.stop(t); len(hups) != 0 {
		t.Errorf("COMMAND got RELOAD_SIGNAL after a failed check: %q", hups)
	}
	if !strings.Contains(r.p.Stderr(), "status=1") {
		t.Errorf("the log does not give the check's status:\n%s", r.p.Stderr())
	}
}

// TestReloadCheckPasses: with a passing RELOAD_CHECK the new file stays
// and COMMAND gets the signal once.
func TestReloadCheckPasses(t *testing.T) {
	r := startReload(t, "good v1\n", func(conf string) []string {
		return []string{"NONROOT_RELOAD_CHECK=grep -q good " + conf}
	})
	cmSwap(t, r.src, reloadStamp, "..2026_12_03_10_00_00.123", map[string]string{"app.conf.tmpl": "good v2\n"})
	r.waitLog(t, "msg=reloaded")
	if hups := r.stop(t); len(hups) != 1 || hups[0] != "hup good v2" {
		t.Errorf("COMMAND printed %q; want one SIGHUP seeing the new file\nstderr: %s", hups, r.p.Stderr())
	}
}

// TestReloadDebounced: two swaps in quick succession give one signal,
// and the file is the second render.
func TestReloadDebounced(t *testing.T) {
	r := startReload(t, "v1\n", noEnv)
	next := cmSwap(t, r.src, reloadStamp, "..2026_12_03_10_00_00.1", map[string]string{"app.conf.tmpl": "v2\n"})
	cmSwap(t, r.src, next, "..2026_12_03_10_00_00.2", map[string]string{"app.conf.tmpl": "v3\n"})
	r.waitLog(t, "msg=reloaded")
	if hups := r.stop(t); len(hups) != 1 || hups[0] != "hup v3" {
		t.Errorf("COMMAND printed %q; want one SIGHUP seeing the second swap's file\nstderr: %s", hups, r.p.Stderr())
	}
	if got := r.content(t); got != "v3\n" {
		t.Errorf("%s = %q; want %q", r.conf, got, "v3\n")
	}
}

// TestReloadIdentical: a swap that renders the same bytes sends nothing.
func TestReloadIdentical(t *testing.T) {
	r := startReload(t, "v{{ len .User.Name | print }}\n", noEnv)
	before := r.content(t)
	// Another template text, the same output.
	cmSwap(t, r.src, reloadStamp, "..2026_12_03_10_00_00.123", map[string]string{"app.conf.tmpl": "v{{ print (len .User.Name) }}\n"})
	r.waitLog(t, "render as before")
	if hups := r.stop(t); len(hups) != 0 {
		t.Errorf("COMMAND got RELOAD_SIGNAL for an identical render: %q", hups)
	}
	if got := r.content(t); got != before {
		t.Errorf("%s = %q; want %q", r.conf, got, before)
	}
}

// TestReloadSubPathWarned: a file SRC mounted on its own (what a
// ConfigMap key mounted with subPath is) never changes, since the
// kubelet does not update such a mount: the init warns at the start and
// doctor reports it as a problem.
func TestReloadSubPathWarned(t *testing.T) {
	base := tmplBase(t)
	data := filepath.Join(base, "data.tmpl")
	tmplMust(t, os.WriteFile(data, []byte("v1\n"), 0o644))
	src := filepath.Join(base, "app.conf.tmpl")
	tmplMust(t, os.WriteFile(src, nil, 0o644))
	dst := tmplWritableDir(t, filepath.Join(base, "out"))
	env := []string{"NONROOT_TEMPLATES=" + src + ":" + dst, "NONROOT_RELOAD_SIGNAL=HUP"}
	prelude := "mount --bind " + data + " " + src
	for _, args := range [][]string{{"--", "true"}, {"doctor"}} {
		cmd := rootPrelude(t, []string{"--pid", "--fork", "--mount-proc"}, prelude, harness.OpenShiftUID, nil, env, args...)
		r := harness.Wait(t, 60*time.Second, cmd)
		out := r.Stdout + r.Stderr
		if !strings.Contains(out, "subPath") || !strings.Contains(out, src) {
			t.Errorf("%v: no word of %s being a subPath mount (exit %d):\n%s", args, src, r.Code, out)
		}
		if args[0] == "doctor" && (r.Code != 1 || !strings.Contains(r.Stdout, "PROBLEM: "+src+" is a file mounted on its own")) {
			t.Errorf("doctor exited %d; want 1 with the subPath problem:\n%s", r.Code, r.Stdout)
		}
	}
}
