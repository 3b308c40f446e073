package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// The restricted profile of the containers: OpenShift's random UID, GID
// 0, and the pod's fsGroup as a supplementary group.
const (
	uid     = harness.OpenShiftUID
	fsGroup = 1000680000
	// memoryLimit is the cgroup memory limit given to every container,
	// so that doctor has one to report.
	memoryLimit = 256 << 20
	timeout     = 60 * time.Second
)

// mount is a bind mount into the container.
type mount struct {
	Src, Dst string
	RO       bool
}

// box is one container to run: the assembled root filesystem, the
// restricted profile, and what the scenario adds.
type box struct {
	Args   []string // the process: the image's ENTRYPOINT plus CMD by default
	Env    []string // added to the image's environment; a later K wins
	Mounts []mount
	NoTmp  bool // no emptyDir at /tmp: it is then on the read-only root
}

var containerSeq atomic.Int64

// bundle writes an OCI bundle for b in a temporary directory and returns
// the runc state root, the bundle directory and the container id.
func bundle(t *testing.T, b box) (root, dir, id string) {
	t.Helper()
	harness.NeedTool(t, "runc")
	rfs := rootfs(t)
	tmp := t.TempDir()
	root, dir = filepath.Join(tmp, "state"), filepath.Join(tmp, "bundle")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	id = fmt.Sprintf("nonroot-init-e2e-%d-%d", os.Getpid(), containerSeq.Add(1))
	cfg := ociConfig(rfs, b, dockerfileImage(t))
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Stops and removes the container whatever state it is in; the
		// bundle and state directories go with t.TempDir.
		if out, err := exec.Command("runc", "--root", root, "delete", "--force", id).CombinedOutput(); err != nil && !strings.Contains(string(out), "does not exist") {
			t.Logf("runc delete %s: %v: %s", id, err, out)
		}
	})
	return root, dir, id
}

// ociConfig is the config.json of b: OpenShift's restricted profile.
func ociConfig(rootfs string, b box, img image) map[string]any {
	args := b.Args
	if args == nil {
		args = append(append([]string{}, img.Entrypoint...), img.Cmd...)
	}
	env := mergeEnv(append(append([]string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		// CRI-O sets HOME to / for a UID without a passwd entry.
		"HOME=/",
	}, img.Env...), b.Env...))
	noCaps := map[string]any{"bounding": []string{}, "effective": []string{}, "inheritable": []string{}, "permitted": []string{}, "ambient": []string{}}
	mounts := []map[string]any{
		{"destination": "/proc", "type": "proc", "source": "proc"},
		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": []string{"nosuid", "noexec", "nodev"}},
		{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": []string{"nosuid", "noexec", "nodev", "ro"}},
		{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
	if !b.NoTmp {
		// An emptyDir: the only writable place on a read-only root.
		mounts = append(mounts, map[string]any{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "nodev", "mode=1777", "size=65536k"}})
	}
	for _, m := range b.Mounts {
		opts := []string{"rbind", "nosuid", "nodev"}
		if m.RO {
			opts = append(opts, "ro")
		}
		mounts = append(mounts, map[string]any{"destination": m.Dst, "type": "bind", "source": m.Src, "options": opts})
	}
	return map[string]any{
		"ociVersion": "1.0.2-dev",
		"process": map[string]any{
			"terminal":        false,
			"user":            map[string]any{"uid": uid, "gid": 0, "additionalGids": []int{fsGroup}},
			"args":            args,
			"env":             env,
			"cwd":             "/",
			"capabilities":    noCaps,
			"rlimits":         []map[string]any{{"type": "RLIMIT_NOFILE", "hard": 20000, "soft": 20000}},
			"noNewPrivileges": true,
		},
		"root":     map[string]any{"path": rootfs, "readonly": true},
		"hostname": "e2e",
		"mounts":   mounts,
		"linux": map[string]any{
			"resources": map[string]any{
				"devices": []map[string]any{{"allow": false, "access": "rwm"}},
				"memory":  map[string]any{"limit": memoryLimit},
			},
			"namespaces": []map[string]any{{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}},
			// A filter like the runtime's default profile, so that the
			// process runs in seccomp filter mode as on OpenShift.
			"seccomp": map[string]any{
				"defaultAction": "SCMP_ACT_ALLOW",
				"architectures": []string{"SCMP_ARCH_X86_64"},
				"syscalls":      []map[string]any{{"names": []string{"kexec_load", "open_by_handle_at"}, "action": "SCMP_ACT_ERRNO"}},
			},
			"maskedPaths":   []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"},
			"readonlyPaths": []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}

// mergeEnv keeps the last value of each key, in the order keys first
// appear.
func mergeEnv(env []string) []string {
	idx := map[string]int{}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// command returns `runc run` for b, with no terminal: the container's
// stdio is the command's.
func command(t *testing.T, b box) (*exec.Cmd, string, string) {
	t.Helper()
	root, dir, id := bundle(t, b)
	cmd := exec.Command("runc", "--root", root, "run", "--bundle", dir, id)
	return cmd, root, id
}

// run runs b to completion and returns the container's exit status and
// output.
func run(t *testing.T, b box) harness.Result {
	t.Helper()
	cmd, _, _ := command(t, b)
	return harness.Wait(t, timeout, cmd)
}

// volumeDir makes a directory to bind-mount as a volume, owned uid:gid
// with mode.
func volumeDir(t *testing.T, uid, gid int, mode uint32) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "vol")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, uid, gid); err != nil {
		t.Fatal(err)
	}
	// syscall.Chmod: os.Chmod drops the setgid bit of a plain 02775.
	if err := syscall.Chmod(d, mode); err != nil {
		t.Fatal(err)
	}
	return d
}

// configMap makes a directory laid out as the kubelet lays out a
// ConfigMap volume: the files in a timestamped directory, a ..data
// symlink to it, and a top-level symlink per key through ..data. Owned
// by root, read-only to others.
func configMap(t *testing.T, files map[string]string) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "configmap")
	ts := "..2026_11_29_10_00_00.123456789"
	if err := os.MkdirAll(filepath.Join(d, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(d, ts, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(d, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(ts, filepath.Join(d, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// bare clears the image's settings for the scenarios about supervision
// alone.
var bare = []string{"NONROOT_VOLUMES=", "NONROOT_TEMPLATES=", "NONROOT_PORTS=", "NONROOT_REWRITE_SIGNALS="}

// lines returns the lines of s that start with prefix, without it.
func linesWith(s, prefix string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			out = append(out, v)
		}
	}
	return out
}

// TestExitStatusIsCommands: the container exits with COMMAND's status,
// and 128+N when COMMAND is killed by signal N.
func TestExitStatusIsCommands(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -SEGV $$", 128 + 11},
	} {
		res := run(t, box{
			Args: []string{initPath, "--", "/bin/sh", "-c", tc.script},
			Env:  bare,
		})
		if res.Code != tc.want {
			t.Errorf("container running sh -c %q exited %d; want %d\nstderr: %s", tc.script, res.Code, tc.want, res.Stderr)
		}
	}
}

// TestRuncKillTermReachesCommand: `runc kill ID TERM` signals the
// container's PID 1, the init, which forwards it to COMMAND; COMMAND's
// clean exit after it is the container's status.
func TestRuncKillTermReachesCommand(t *testing.T) {
	cmd, root, id := command(t, box{
		Args: []string{initPath, "--", childPath, "signals", "TERM"},
		Env:  bare,
	})
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		buf := make([]byte, 4096)
		var acc string
		for {
			n, err := stdout.Read(buf)
			acc += string(buf[:n])
			for {
				l, rest, ok := strings.Cut(acc, "\n")
				if !ok {
					break
				}
				lines <- l
				acc = rest
			}
			if err != nil {
				return
			}
		}
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok || l != want {
				t.Fatalf("container printed %q (open %v); want %q\nstderr: %s", l, ok, want, stderr.String())
			}
		case <-time.After(timeout):
			t.Fatalf("container did not print %q within %v\nstderr: %s", want, timeout, stderr.String())
		}
	}
	expect("ready")
	if out, err := exec.Command("runc", "--root", root, "kill", id, "TERM").CombinedOutput(); err != nil {
		t.Fatalf("runc kill %s TERM: %v: %s", id, err, out)
	}
	expect("SIGTERM")
	res := harness.Wait(t, timeout, cmd)
	if res.Code != 0 {
		t.Errorf("container exited %d after COMMAND's clean exit on SIGTERM; want 0\nstderr: %s", res.Code, stderr.String())
	}
}

// zombieScript leaves orphans behind with the test child, then waits (a
// bounded number of rounds) until no zombie is left and prints the count.
const zombieScript = childPath + ` orphans 50
zombies() { cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z '; }
i=0
while [ "$(zombies)" -gt 0 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
echo "zombies=$(zombies)"`

// TestOrphansReaped: orphans inside the container are reparented to the
// init, PID 1, which reaps them while COMMAND still runs.
func TestOrphansReaped(t *testing.T) {
	res := run(t, box{
		Args: []string{initPath, "--", "/bin/sh", "-c", zombieScript},
		Env:  bare,
	})
	if res.Code != 0 || !strings.Contains(res.Stdout, "zombies=0\n") {
		t.Errorf("orphans in the container: exit %d, stdout %q; want 0 and zombies=0\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
}

// doctorJSON is doctor's JSON report (SPEC.md, "doctor --json").
type doctorJSON struct {
	OK bool `json:"ok"`
	m  map[string]any
}

// parseDoctorJSON decodes the report, numbers kept as written.
func parseDoctorJSON(out string) (doctorJSON, error) {
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var d doctorJSON
	if err := dec.Decode(&d.m); err != nil {
		return d, err
	}
	d.OK, _ = d.m["ok"].(bool)
	return d, nil
}

// fact returns the value at a jq path (".identity.uid", ".ports.resolved.0.port")
// as text: a number as written, a boolean as true or false, a list of
// strings or numbers joined by commas ("none" when empty).
func (d doctorJSON) fact(path string) (string, bool) {
	var v any = d.m
	for _, k := range strings.Split(strings.TrimPrefix(path, "."), ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return "", false
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			return "none", true
		}
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ","), true
	}
	if v == nil {
		return "null", true
	}
	return fmt.Sprint(v), true
}

// TestDoctorReportsProfile: `doctor --json` inside the container, under
// the init as `kubectl exec` would see it, reports the restricted profile
// the runtime really applied.
func TestDoctorReportsProfile(t *testing.T) {
	res := run(t, box{
		Args: []string{initPath, "--", initPath, "doctor", "--json"},
		Env:  bare,
	})
	rep, err := parseDoctorJSON(res.Stdout)
	if err != nil {
		t.Fatalf("doctor --json in the container: exit %d, %v\nstdout: %s\nstderr: %s", res.Code, err, res.Stdout, res.Stderr)
	}
	if res.Code != 0 || !rep.OK {
		t.Errorf("doctor in the restricted profile: exit %d, ok %v; want 0 and no problem\n%s", res.Code, rep.OK, res.Stdout)
	}
	for _, want := range []struct{ path, value string }{
		{".identity.uid", strconv.Itoa(uid)},
		{".identity.gid", "0"},
		{".identity.groups", strconv.Itoa(fsGroup)},
		{".identity.capabilities.effective", "none"},
		{".identity.capabilities.permitted", "none"},
		{".identity.capabilities.ambient", "none"},
		{".identity.capabilities.bounding", "none"},
		{".identity.no_new_privs", "true"},
		{".ports.unprivileged_port_start", "1024"},
		{".process.pid1.name", "nonroot-init"},
		{".process.pid1.sigterm", "caught"},
		{".process.seccomp", "filter"},
		{".process.read_only_root", "true"},
		{".process.memory_limit_bytes", strconv.Itoa(memoryLimit)},
	} {
		if got, ok := rep.fact(want.path); !ok || got != want.value {
			t.Errorf("doctor --json: %s = %q (present %v); want %q\nreport: %s", want.path, got, ok, want.value, res.Stdout)
		}
	}
}

// TestPasswdEntryForRandomUID: the image's /etc/passwd has no entry for
// the UID and the root filesystem is read-only, so the identity step
// provides one through nss_wrapper: glibc's whoami, id and getent find
// it, and HOME is writable.
func TestPasswdEntryForRandomUID(t *testing.T) {
	// Absolute paths: busybox-static's sh runs its own (static, NSS-less)
	// whoami and id applets in preference to a PATH lookup.
	script := `/usr/bin/whoami; /usr/bin/id -un; /usr/bin/getent passwd ` + strconv.Itoa(uid) + `
echo "HOME=$HOME USER=$USER LOGNAME=$LOGNAME"
touch "$HOME/probe" && echo home-writable`
	res := run(t, box{Args: []string{initPath, "--", "/bin/sh", "-c", script}, Env: bare})
	want := "default\ndefault\ndefault:x:" + strconv.Itoa(uid) + ":0:"
	if res.Code != 0 || !strings.HasPrefix(res.Stdout, want) || !strings.Contains(res.Stdout, "home-writable\n") || !strings.Contains(res.Stdout, "USER=default LOGNAME=default") {
		t.Errorf("identity in the container: exit %d, stdout %q; want 0, starting %q, USER and LOGNAME default, home-writable\nstderr: %s", res.Code, res.Stdout, want, res.Stderr)
	}
	if home := linesWith(res.Stdout, "HOME="); len(home) != 1 || strings.HasPrefix(home[0], "/ ") {
		t.Errorf("HOME in the container: %q; want one writable directory, not /", home)
	}
}

// TestVolumeOwnedByRootFails: a volume owned root:root 0755, as a
// hostPath or a volume without fsGroup is, fails the start with 78 and a
// diagnosis naming the path, the owner and mode, and the fix; the good
// volume beside it is not reported.
func TestVolumeOwnedByRootFails(t *testing.T) {
	res := run(t, box{
		Args:   []string{initPath, "--", "/bin/echo", "COMMAND ran"},
		Env:    append(bare, "NONROOT_VOLUMES=/data,/shared"),
		Mounts: []mount{{Src: volumeDir(t, 0, 0, 0o755), Dst: "/data"}, {Src: volumeDir(t, 0, fsGroup, 0o2775), Dst: "/shared"}},
	})
	if res.Code != 78 || strings.Contains(res.Stdout, "COMMAND ran") {
		t.Errorf("root-owned volume: exit %d, stdout %q; want 78 and COMMAND not started\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	for _, want := range []string{"NONROOT_VOLUMES: /data is not writable by uid 1000680000", "owner root:root mode 0755", "fsGroup"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("root-owned volume: stderr lacks %q\nstderr: %s", want, res.Stderr)
		}
	}
	if strings.Contains(res.Stderr, "/shared is not writable") {
		t.Errorf("the fsGroup-owned volume was reported too\nstderr: %s", res.Stderr)
	}
}

// TestVolumeWithFsGroupPasses: a volume as the kubelet prepares it for
// fsGroup (group fsGroup, setgid, g+rwx) passes the check, and a file
// COMMAND creates there belongs to the fsGroup and, with the image's
// NONROOT_UMASK, stays group-writable.
func TestVolumeWithFsGroupPasses(t *testing.T) {
	vol := volumeDir(t, 0, fsGroup, 0o2775)
	res := run(t, box{
		Args:   []string{initPath, "--", "/bin/touch", "/shared/made-by-command"},
		Env:    append(bare, "NONROOT_VOLUMES=/shared"),
		Mounts: []mount{{Src: vol, Dst: "/shared"}},
	})
	if res.Code != 0 {
		t.Fatalf("fsGroup volume: exit %d; want 0\nstderr: %s", res.Code, res.Stderr)
	}
	entries, err := os.ReadDir(vol)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "made-by-command" {
		t.Fatalf("volume holds %v; want only COMMAND's file (no probe left behind)", entries)
	}
	fi, err := os.Stat(filepath.Join(vol, "made-by-command"))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != uid || st.Gid != fsGroup || fi.Mode().Perm()&0o060 != 0o060 {
		t.Errorf("COMMAND's file in the volume: owner %d:%d mode %v; want %d:%d, group read-write", st.Uid, st.Gid, fi.Mode().Perm(), uid, fsGroup)
	}
}

// TestConfigMapTemplateAndPort: with the image's NONROOT_PORTS and
// NONROOT_TEMPLATES, a read-only ConfigMap mounted over the templates
// directory is rendered into the emptyDir at /tmp (a .tmpl file rendered
// with the user and the resolved port, another file copied as is, the
// ..data machinery left out), and HTTP_PORT=80 becomes 8080 in a fresh
// network namespace, where the unprivileged port start is 1024.
func TestConfigMapTemplateAndPort(t *testing.T) {
	cm := configMap(t, map[string]string{
		"app.conf.tmpl": `user={{ .User.Name }} uid={{ .User.UID }} port={{ port "HTTP_PORT" }} greeting={{ env "GREETING" | default "hello" }}` + "\n",
		"static.txt":    "copied as is: {{ not rendered }}\n",
	})
	script := `echo "HTTP_PORT=$HTTP_PORT"; cat /tmp/nginx/app.conf /tmp/nginx/static.txt; echo $(ls -a /tmp/nginx)`
	res := run(t, box{
		Args:   []string{initPath, "--", "/bin/sh", "-c", script},
		Env:    []string{"NONROOT_VOLUMES=", "NONROOT_REWRITE_SIGNALS="},
		Mounts: []mount{{Src: cm, Dst: "/etc/nonroot/templates", RO: true}},
	})
	want := "HTTP_PORT=8080\n" +
		"user=default uid=1000680000 port=8080 greeting=hello\n" +
		"copied as is: {{ not rendered }}\n" +
		". .. app.conf static.txt\n"
	if res.Code != 0 || res.Stdout != want {
		t.Errorf("ConfigMap template and port: exit %d, stdout %q; want 0, %q\nstderr: %s", res.Code, res.Stdout, want, res.Stderr)
	}
	if !strings.Contains(res.Stderr, "8080") {
		t.Errorf("the port decision is not logged with the container port 8080\nstderr: %s", res.Stderr)
	}
}

// TestNginxImage runs the image as Dockerfile.example defines it (its
// ENTRYPOINT, CMD and NONROOT_* settings) with its upload volume mounted
// fsGroup-style: nginx, configured from the rendered template, answers on
// 8080 (80 is privileged here), and `runc kill TERM`, rewritten to QUIT,
// stops it gracefully with status 0.
func TestNginxImage(t *testing.T) {
	cmd, root, id := command(t, box{
		Mounts: []mount{{Src: volumeDir(t, 0, fsGroup, 0o2775), Dst: "/srv/www"}},
	})
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	page := ""
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("container exited before nginx answered: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		default:
		}
		out, err := exec.Command("runc", "--root", root, "exec", "--user", fmt.Sprintf("%d:0", uid), id,
			"/bin/wget", "-q", "-O", "-", "http://127.0.0.1:8080/").Output()
		if err == nil {
			page = string(out)
			break
		}
	}
	if page != indexHTML {
		t.Fatalf("nginx on 127.0.0.1:8080 in the container served %q; want %q\nstderr: %s", page, indexHTML, stderr.String())
	}
	if out, err := exec.Command("runc", "--root", root, "kill", id, "TERM").CombinedOutput(); err != nil {
		t.Fatalf("runc kill %s TERM: %v: %s", id, err, out)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("container exited with %v after SIGTERM; want 0 (nginx's graceful stop on QUIT)\nstderr: %s", err, stderr.String())
		}
	case <-time.After(timeout):
		t.Fatalf("container did not stop within %v of SIGTERM\nstderr: %s", timeout, stderr.String())
	}
}

// TestDoctorFindsProblems: doctor run as the container's command (PID 1)
// without an emptyDir at /tmp and with a root-owned volume exits 1 and
// reports both problems, each with its fix, in the text report.
func TestDoctorFindsProblems(t *testing.T) {
	res := run(t, box{
		Args:   []string{initPath, "doctor"},
		Env:    append(bare, "NONROOT_VOLUMES=/data"),
		Mounts: []mount{{Src: volumeDir(t, 0, 0, 0o755), Dst: "/data"}},
		NoTmp:  true,
	})
	if res.Code != 1 {
		t.Errorf("doctor with problems exited %d; want 1\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	for _, want := range []string{
		"PROBLEM: NONROOT_VOLUMES: /data",
		"PROBLEM: the root filesystem is read-only and so is /tmp",
		"fix: mount an emptyDir at /tmp",
		"note: doctor is PID 1 itself",
	} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("doctor's report lacks %q\n%s", want, res.Stdout)
		}
	}
	if n := strings.Count(res.Stdout, "PROBLEM:"); n != strings.Count(res.Stdout, "    fix: ") {
		t.Errorf("doctor reported %d problems but %d fixes\n%s", n, strings.Count(res.Stdout, "    fix: "), res.Stdout)
	}
}
