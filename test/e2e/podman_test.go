package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// imageName is the image the manifest names; the test imports it into
// its own storage from the assembled root filesystem.
const imageName = "localhost/nginx-nonroot:latest"

// podman runs podman with storage, run root, temporary files, network
// configuration and containers.conf under one temporary directory, so
// that nothing of the machine is read or changed.
type podman struct {
	t   *testing.T
	dir string
	env []string
	// madeCache: /var/lib/containers did not exist before the test.
	// containers/image keeps root's blob-info cache there whatever the
	// storage settings say, so the cleanup removes it again.
	madeCache bool
	// madeCgroups: no libpod_parent cgroup existed before the test.
	// Podman's cgroupfs manager creates it in every hierarchy and leaves
	// it, with the pods' cgroups of the name=systemd one, behind.
	madeCgroups bool
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	harness.NeedRoot(t)
	harness.NeedTool(t, "podman", "runc", "catatonit", "tar")
	dir := t.TempDir()
	p := &podman{t: t, dir: dir}
	if _, err := os.Lstat(blobInfoCacheRoot); os.IsNotExist(err) {
		p.madeCache = true
	}
	if m, _ := filepath.Glob(cgroupParents); len(m) == 0 {
		p.madeCgroups = true
	}
	// podman's default ulimits (nofile 1048576) cannot be granted on
	// this kind of machine; these can.
	conf := fmt.Sprintf(`[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %[1]q
tmp_dir = %[2]q
volume_path = %[3]q

[network]
network_config_dir = %[4]q
`, filepath.Join(dir, "events.log"), filepath.Join(dir, "tmp"), filepath.Join(dir, "volumes"), filepath.Join(dir, "net"))
	storage := fmt.Sprintf("[storage]\ndriver = \"vfs\"\nrunroot = %q\ngraphroot = %q\n", filepath.Join(dir, "runroot"), filepath.Join(dir, "root"))
	for name, content := range map[string]string{"containers.conf": conf, "storage.conf": storage} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p.env = append(os.Environ(),
		"CONTAINERS_CONF="+filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF="+filepath.Join(dir, "storage.conf"),
		"CONTAINERS_REGISTRIES_CONF="+filepath.Join(dir, "registries.conf"),
	)
	if err := os.WriteFile(filepath.Join(dir, "registries.conf"), []byte("unqualified-search-registries = []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.cleanup)
	return p
}

// output runs podman with args and returns its stdout and stderr.
func (p *podman) output(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*timeout)
	defer cancel()
	args = append([]string{
		"--root", filepath.Join(p.dir, "root"), "--runroot", filepath.Join(p.dir, "runroot"),
		"--storage-driver", "vfs", "--runtime", "runc", "--tmpdir", filepath.Join(p.dir, "tmp"),
		// runc keeps its state in /run/runc unless told otherwise.
		"--runtime-flag", "root=" + filepath.Join(p.dir, "runc"),
	}, args...)
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = p.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("podman %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), err
}

// run runs podman with args and returns its stdout; it fails the test
// when podman fails, unless allowFail.
func (p *podman) run(allowFail bool, args ...string) (string, error) {
	p.t.Helper()
	stdout, stderr, err := p.output(args...)
	if err != nil && !allowFail {
		p.t.Fatalf("%v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	if err != nil {
		err = fmt.Errorf("%w: %s", err, stderr)
	}
	return stdout, err
}

func (p *podman) must(args ...string) string {
	p.t.Helper()
	out, _ := p.run(false, args...)
	return out
}

// cleanup removes every pod, container and volume of the private
// storage, then unmounts whatever podman left mounted under it (the
// containers' /dev/shm), so that t.TempDir can be removed.
func (p *podman) cleanup() {
	p.run(true, "pod", "rm", "--all", "--force")
	p.run(true, "rm", "--all", "--force")
	p.run(true, "volume", "rm", "--all", "--force")
	mounts, err := mountsUnder(p.dir)
	if err != nil {
		p.t.Logf("read mounts: %v", err)
	}
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
			p.t.Logf("unmount %s: %v", m, err)
		}
	}
	if p.madeCache {
		os.RemoveAll(blobInfoCacheRoot)
	}
	if p.madeCgroups {
		removeCgroups(cgroupParents)
	}
}

// cgroupParents matches the cgroup podman's cgroupfs manager puts pods in.
const cgroupParents = "/sys/fs/cgroup/*/libpod_parent"

// removeCgroups removes the (empty) cgroups matching pattern and below,
// deepest first; a cgroup that still has processes stays.
func removeCgroups(pattern string) {
	tops, _ := filepath.Glob(pattern)
	var dirs []string
	for _, top := range tops {
		filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		unix.Rmdir(d)
	}
}

// blobInfoCacheRoot holds containers/image's blob-info cache for root.
const blobInfoCacheRoot = "/var/lib/containers"

// mountsUnder lists the mount points below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			out = append(out, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out, sc.Err()
}

// debianPath is the PATH of Debian's images.
const debianPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// importImage imports the assembled root filesystem as imageName with
// Dockerfile.example's USER, ENV, ENTRYPOINT and CMD.
func (p *podman) importImage(img image) {
	p.t.Helper()
	tarball := filepath.Join(p.dir, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", rootfs(p.t), "-cf", tarball, ".").CombinedOutput(); err != nil {
		p.t.Fatalf("tar the root filesystem: %v: %s", err, out)
	}
	entrypoint, _ := json.Marshal(img.Entrypoint)
	cmd, _ := json.Marshal(img.Cmd)
	// An imported image has no configuration; debian:bookworm-slim, the
	// runtime stage's base, sets PATH.
	args := []string{"import", "--change", "ENV PATH=" + debianPath, "--change", "USER " + img.User, "--change", "ENTRYPOINT " + string(entrypoint), "--change", "CMD " + string(cmd)}
	for _, kv := range img.Env {
		args = append(args, "--change", "ENV "+kv)
	}
	p.must(append(args, tarball, imageName)...)
}

// TestPodmanKubePlay runs the README's Deployment (testdata/deployment.yaml)
// with `podman kube play` on the image Dockerfile.example describes.
// Podman injects a passwd entry for the UID, as CRI-O does, so the
// identity step must find it and add nothing; what nonroot-init does add
// is checked from inside the running container: the ConfigMap's template
// rendered with the user, HOME and the resolved port and served by nginx
// on 8080, a writable HOME, doctor's diagnosis of the volume and the
// profile, and a graceful stop with status 0.
func TestPodmanKubePlay(t *testing.T) {
	p := newPodman(t)
	p.importImage(dockerfileImage(t))
	manifest, err := filepath.Abs("testdata/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p.must("kube", "play", "--network", "none", manifest)
	// podman 4.3 names a Deployment's pod DEPLOYMENT-pod-0 (later
	// versions DEPLOYMENT-pod) and its containers POD-CONTAINER.
	pod := strings.TrimSpace(p.must("pod", "ps", "--format", "{{.Name}}"))
	ctr := pod + "-nginx"
	if !strings.HasPrefix(pod, "nginx-nonroot-pod") {
		t.Fatalf("podman pod ps: %q; want one pod of the nginx-nonroot Deployment", pod)
	}
	// The container's stdout and stderr: podman logs writes each to its own.
	logs := func() string {
		stdout, stderr, _ := p.output("logs", ctr)
		return stdout + stderr
	}
	// podman exec runs as the container's user with its profile.
	inside := func(args ...string) (string, error) {
		return p.run(true, append([]string{"exec", ctr}, args...)...)
	}

	page := ""
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if out, err := inside("/bin/wget", "-q", "-O", "-", "http://127.0.0.1:8080/"); err == nil {
			page = out
			break
		}
	}
	home := "/tmp/nonroot-init/home"
	want := "<h1>Hello from 1000680000 (uid 1000680000, home " + home + ") on port 8080</h1>\n"
	if page != want {
		t.Fatalf("nginx in the pod served %q; want %q\nlogs: %s", page, want, logs())
	}

	// The identity step found podman's entry, which getent outside
	// COMMAND's environment still returns.
	if out, err := inside("/usr/bin/getent", "passwd", "1000680000"); err != nil || out != "1000680000:*:1000680000:0:container user:/:/bin/sh\n" {
		t.Errorf("getent passwd 1000680000 in the pod = %q, %v; want podman's own entry", out, err)
	}
	// podman's entry has home /, so COMMAND gets it through nss_wrapper's
	// copy with HOME as its home (issue #11: injected entries).
	if out, err := inside("/bin/ls", "-A", "/tmp/nonroot-init"); err != nil || out != "env\ngroup\nhome\npasswd\n" {
		t.Errorf("state directory holds %q, %v; want env, group, home and passwd (the injected entry copied with a writable home, and the identity for `nonroot-init exec`)", out, err)
	}
	if out, err := inside("/bin/grep", "^1000680000:", "/tmp/nonroot-init/passwd"); err != nil || out != "1000680000:x:1000680000:0:container user:"+home+":/bin/sh\n" {
		t.Errorf("nss_wrapper's copy holds %q, %v; want podman's entry with home %s", out, err, home)
	}
	if _, err := inside("/bin/touch", home+"/probe"); err != nil {
		t.Errorf("HOME %s is not writable by the pod's UID: %v", home, err)
	}

	out, err := inside("/usr/local/bin/nonroot-init", "doctor", "--json")
	rep, jerr := parseDoctorJSON(out)
	if jerr != nil {
		t.Fatalf("doctor --json in the pod: %v, %v\n%s", err, jerr, out)
	}
	if err != nil || !rep.OK {
		t.Errorf("doctor in the pod found a problem (%v): %s", err, out)
	}
	for _, w := range []struct{ path, prefix string }{
		{".identity.uid", "1000680000"},
		{".identity.passwd_line", "1000680000:"},
		{".process.pid1.name", "nonroot-init"},
		{".process.pid1.sigterm", "caught"},
		{".process.read_only_root", "true"},
		{".process.seccomp", "filter"},
		{".ports.resolved.0.name", "HTTP_PORT"},
		{".ports.resolved.0.port", "8080"},
		{".volumes.0.path", "/srv/www"},
		{".volumes.0.writable", "true"},
	} {
		if got, _ := rep.fact(w.path); !strings.HasPrefix(got, w.prefix) {
			t.Errorf("doctor in the pod: %s = %q; want it to start with %q", w.path, got, w.prefix)
		}
	}

	// Stopping the pod sends SIGTERM; NONROOT_REWRITE_SIGNALS=TERM:QUIT
	// makes it nginx's graceful stop, and the container exits 0.
	// The init's log says what it did: the volume proven writable and
	// the port decision, with the port a Service must target.
	for _, want := range []string{`msg="volumes are writable" paths=/srv/www`, "HTTP_PORT=8080", "targetPort: 8080"} {
		if l := logs(); !strings.Contains(l, want) {
			t.Errorf("pod logs lack %q\nlogs: %s", want, l)
		}
	}

	p.must("pod", "stop", "--time", "30", pod)
	if code := strings.TrimSpace(p.must("inspect", "--format", "{{.State.ExitCode}}", ctr)); code != "0" {
		t.Errorf("container exit code after pod stop = %s; want 0\nlogs: %s", code, logs())
	}
}

// TestReadmeShowsTheTestedManifest: the Deployment README.md shows is the
// one TestPodmanKubePlay runs, byte for byte.
func TestReadmeShowsTheTestedManifest(t *testing.T) {
	manifest, err := os.ReadFile("testdata/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readRepoFile(t, "README.md"), "```yaml\n"+string(manifest)+"```\n") {
		t.Errorf("README.md does not show test/e2e/testdata/deployment.yaml verbatim in a yaml block; copy the file into it")
	}
}
