package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// shellEntrypoint is the script users run today in front of tini for the
// job nonroot-init's setup does: a passwd entry for the arbitrary UID
// through nss_wrapper, a check that the volume is writable, one template
// rendered with envsubst, then exec tini.
const shellEntrypoint = `#!/bin/bash
set -euo pipefail
if ! getent passwd "$(id -u)" >/dev/null 2>&1; then
  cp /etc/passwd "$STATE/passwd"
  echo "app:x:$(id -u):0:app:/tmp:/bin/sh" >> "$STATE/passwd"
  export NSS_WRAPPER_PASSWD="$STATE/passwd" NSS_WRAPPER_GROUP=/etc/group LD_PRELOAD=$NSS_LIB
fi
touch "$VOLUME/.probe" && rm -f "$VOLUME/.probe"
envsubst < "$TEMPLATE_SRC" > "$TEMPLATE_DST"
exec tini -s -- "$@"
`

// BenchmarkShellStack: the shell-script stack (bash entrypoint, then
// tini) against nonroot-init doing the same setup (NONROOT_VOLUMES, one
// template, the passwd entry), both as UID 1000680000 GID 0 in front of
// `true`, 40 interleaved rounds. Target: nonroot-init at least 10x
// faster. The smallest Go init (gofloor, no setup) runs in the same
// rounds: the shell stack's time over its time is the ceiling of that
// ratio for any Go program on this machine.
func BenchmarkShellStack(b *testing.B) {
	harness.NeedRoot(b)
	harness.NeedTool(b, "bash", "tini", "setpriv", "envsubst", "getent", "id")
	nss := ""
	for _, p := range []string{"/usr/lib/x86_64-linux-gnu/libnss_wrapper.so", "/usr/lib/aarch64-linux-gnu/libnss_wrapper.so", "/usr/lib/libnss_wrapper.so"} {
		if _, err := os.Stat(p); err == nil {
			nss = p
		}
	}
	if nss == "" {
		b.Skip("needs libnss-wrapper")
	}
	truePath, _ := exec.LookPath("true")
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	// Not b.TempDir: its parent is 0700, closed to the UID.
	base, err := os.MkdirTemp("", "shellstack-")
	must(err)
	b.Cleanup(func() { _ = os.RemoveAll(base) })
	must(os.Chmod(base, 0o755))
	mk := func(name string) string {
		d := filepath.Join(base, name)
		must(os.Mkdir(d, 0o775))
		must(os.Chmod(d, 0o775))
		must(os.Chown(d, 0, 0))
		return d
	}
	volume, state, out, tmpl := mk("volume"), mk("state"), mk("out"), mk("tmpl")
	script := filepath.Join(tmpl, "entrypoint.sh")
	must(os.WriteFile(script, []byte(shellEntrypoint), 0o755))
	must(os.WriteFile(filepath.Join(tmpl, "app.conf.envsubst"), []byte("greeting=${GREETING}\nport=8080\n"), 0o644))
	must(os.WriteFile(filepath.Join(tmpl, "app.conf.tmpl"), []byte("greeting={{ .Env.GREETING }}\nport=8080\n"), 0o644))
	uid := strconv.Itoa(harness.OpenShiftUID)
	user := []string{"setpriv", "--reuid", uid, "--regid", "0", "--clear-groups", "--"}
	env := []string{"PATH=" + os.Getenv("PATH"), "GREETING=hello", "TMPDIR=" + state}
	runs := []struct {
		name string
		argv []string
		env  []string
	}{
		{"shell", append(append([]string{}, user...), script, truePath), append([]string{
			"STATE=" + state, "VOLUME=" + volume, "NSS_LIB=" + nss,
			"TEMPLATE_SRC=" + filepath.Join(tmpl, "app.conf.envsubst"), "TEMPLATE_DST=" + filepath.Join(out, "shell.conf")}, env...)},
		{"nonroot-init", append(append([]string{}, user...), ourInit(b), "--", truePath), append([]string{
			"NONROOT_LOG_LEVEL=error", "NONROOT_VOLUMES=" + volume, "NONROOT_STATE_DIR=" + state,
			"NONROOT_TEMPLATES=" + filepath.Join(tmpl, "app.conf.tmpl") + ":" + filepath.Join(out, "init.conf")}, env...)},
		// The smallest Go init, with no setup at all, in front of the same
		// true as the same user: no Go program can be faster than this.
		{"gofloor", append(append([]string{}, user...), goFloor(b), truePath), env},
	}
	got := map[string][]float64{}
	for round := 0; round < 40; round++ {
		for _, r := range runs {
			cmd := exec.Command(r.argv[0], r.argv[1:]...)
			cmd.Env = r.env
			start := time.Now()
			if o, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%s: %v\n%s", r.name, err, o)
			}
			got[r.name] = append(got[r.name], float64(time.Since(start))/1e6)
		}
	}
	for _, f := range []string{"shell.conf", "init.conf"} {
		if b2, err := os.ReadFile(filepath.Join(out, f)); err != nil || string(b2) != "greeting=hello\nport=8080\n" {
			b.Fatalf("%s: %q, %v", f, b2, err)
		}
	}
	ours, shellMs := medianf(got["nonroot-init"]), medianf(got["shell"])
	b.ReportMetric(ours, "nonroot-init-ms")
	b.ReportMetric(shellMs, "shell-ms")
	fl := medianf(got["gofloor"])
	b.ReportMetric(fl, "gofloor-ms")
	b.ReportMetric(shellMs/fl, "ceiling-x")
	figure{name: "setup + true vs the shell stack (faster by)", ours: ms(ours), peerName: "bash+tini", peer: ms(shellMs),
		ratio: shellMs / ours, target: ">= 10x", met: shellMs >= 10*ours}.print()
	// The most any Go init could show: the floor, with no setup, against
	// the shell stack.
	figure{name: "  ceiling: gofloor + true vs the shell stack", ours: ms(fl), peerName: "bash+tini", peer: ms(shellMs),
		ratio: shellMs / fl, target: ">= 10x", met: shellMs >= 10*fl}.print()
}
