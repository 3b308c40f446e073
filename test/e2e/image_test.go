package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// Names in the test's own podman storage.
const (
	releaseBase = "localhost/release-base:latest"
	releaseUser = "localhost/release-user:latest"
)

// TestReleaseImage runs `make image` with plain podman pointed at the
// test's storage by CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and
// CONTAINERS_REGISTRIES_CONF, then checks what an image author gets:
// the manifest list nonroot-init:VERSION holds linux/amd64, arm64,
// ppc64le and s390x, each a FROM scratch image whose only file is
// /nonroot-init, the release binary of its ARCH (foreign ones looked at
// by digest: podman would pick the host's from the list); a user image
// whose Containerfile says `COPY --from=nonroot-init:VERSION ...` on a
// base imported from a root filesystem the test assembles builds offline
// and runs with `--user 1000680000:0 --read-only`: nonroot-init is PID
// 1, gives the UID the name asked for, and is the host ARCH's release
// binary.
func TestReleaseImage(t *testing.T) {
	p := newPodman(t)
	// make image runs plain podman, which takes the volume path from
	// containers.conf; p's own calls give --root, with which podman
	// takes ROOT/volumes, and it refuses a database made with another
	// ("database configuration mismatch"). Both must name the same.
	conf := filepath.Join(p.dir, "containers.conf")
	old := fmt.Sprintf("volume_path = %q", filepath.Join(p.dir, "volumes"))
	if c := string(readFileT(t, conf)); !strings.Contains(c, old) {
		t.Fatalf("%s does not say %s:\n%s", conf, old, c)
	} else if err := os.WriteFile(conf, []byte(strings.Replace(c, old, fmt.Sprintf("volume_path = %q", filepath.Join(p.dir, "root", "volumes")), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	src := releaseClone(t)
	if out, err := makeIn(src, p.env, "image"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	version, err := makeIn(src, nil, "version")
	if err != nil {
		t.Fatal(err)
	}
	list := "nonroot-init:" + strings.TrimSpace(version)

	var index struct {
		Manifests []struct {
			Digest   string
			Platform struct{ OS, Architecture string }
		}
	}
	out := p.must("manifest", "inspect", list)
	if err := json.Unmarshal([]byte(out), &index); err != nil {
		t.Fatalf("podman manifest inspect %s: %v\n%s", list, err, out)
	}
	var got, want []string
	for _, r := range releaseArches {
		want = append(want, "linux/"+r.arch)
	}
	for _, m := range index.Manifests {
		platform := m.Platform.OS + "/" + m.Platform.Architecture
		got = append(got, platform)
		ref := "localhost/nonroot-init@" + m.Digest
		arch := strings.TrimSpace(p.must("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", ref))
		if arch != platform {
			t.Errorf("%s (%s in the list) is an image for %s", ref, platform, arch)
		}
		checkScratchImage(t, p, ref, filepath.Join(src, "dist", "nonroot-init-"+strings.ReplaceAll(platform, "/", "-")))
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("manifest list %s holds %q; want %q\n%s", list, got, want, out)
	}

	// The image author's side.
	base := filepath.Join(p.dir, "base")
	if err := assembleReleaseBase(base); err != nil {
		t.Fatalf("assemble the base root filesystem: %v", err)
	}
	tarball := filepath.Join(p.dir, "base.tar")
	if out, err := exec.Command("tar", "-C", base, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar the base: %v: %s", err, out)
	}
	p.must("import", "--change", "ENV PATH="+debianPath, tarball, releaseBase)
	ctx := filepath.Join(p.dir, "user")
	containerfile := fmt.Sprintf(`FROM %s
COPY --from=%s /nonroot-init /usr/local/bin/nonroot-init
ENTRYPOINT ["/usr/local/bin/nonroot-init"]
`, releaseBase, list)
	if err := os.MkdirAll(ctx, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(containerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	p.must("build", "--pull=never", "-t", releaseUser, ctx)

	// --passwd=false: podman adds no passwd entry for the UID, so the name
	// whoami prints is the one nonroot-init gave it (through nss_wrapper,
	// /etc/passwd being read-only).
	sums := string(readFileT(t, filepath.Join(src, "dist", "SHA256SUMS")))
	hostFile := "nonroot-init-linux-" + runtime.GOARCH
	stdout, stderr, err := p.output("run", "--rm", "--network", "none", "--user", "1000680000:0", "--read-only", "--passwd=false",
		"--env", "NONROOT_USERNAME=appuser", releaseUser, "--", "/bin/sh", "-c",
		// Full paths: busybox sh runs its own applets (whoami, id) first,
		// and those read /etc/passwd only.
		"cat /proc/1/comm; /usr/bin/whoami; /usr/bin/id -u; /usr/bin/id -g; cd /usr/local/bin && sha256sum nonroot-init; ./nonroot-init version")
	lines := strings.Split(stdout, "\n")
	if err != nil || len(lines) < 6 {
		t.Fatalf("podman run %s: %v\nstdout: %s\nstderr: %s", releaseUser, err, stdout, stderr)
	}
	for i, w := range []string{"nonroot-init", "appuser", "1000680000", "0"} {
		if lines[i] != w {
			t.Errorf("in the user image as 1000680000:0, line %d = %q; want %q\nstdout: %s\nstderr: %s", i, lines[i], w, stdout, stderr)
		}
	}
	sum, _, _ := strings.Cut(lines[4], " ")
	if !strings.Contains(sums, sum+"  "+hostFile+"\n") {
		t.Errorf("the user image's /usr/local/bin/nonroot-init: %q; want dist/%s of SHA256SUMS:\n%s", lines[4], hostFile, sums)
	}
	if !strings.HasPrefix(lines[5], "nonroot-init "+strings.TrimSpace(version)+" ") || !strings.HasSuffix(lines[5], ", linux/"+runtime.GOARCH+")") {
		t.Errorf("nonroot-init version in the user image = %q; want version %s for linux/%s", lines[5], strings.TrimSpace(version), runtime.GOARCH)
	}
}

// checkScratchImage: the image ref has one layer, and its files are
// /nonroot-init alone, mode 0755, the bytes of the release file binary.
func checkScratchImage(t *testing.T, p *podman, ref, binary string) {
	t.Helper()
	if layers := strings.Fields(strings.Trim(p.must("image", "inspect", "--format", "{{.RootFS.Layers}}", ref), "[] \n")); len(layers) != 1 {
		t.Errorf("%s has layers %q; want one", ref, layers)
	}
	dir := strings.TrimSpace(p.must("image", "mount", ref))
	defer p.run(true, "image", "unmount", ref)
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, "/"+rel)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s's root filesystem: %v", ref, err)
	}
	if strings.Join(files, " ") != "/nonroot-init" {
		t.Errorf("%s holds %q; want only /nonroot-init", ref, files)
		return
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(dir, "nonroot-init"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode != syscall.S_IFREG|0o755 || st.Uid != 0 || st.Gid != 0 {
		t.Errorf("%s: /nonroot-init mode %o owner %d:%d; want a regular file 0755 of 0:0", ref, st.Mode, st.Uid, st.Gid)
	}
	if !bytes.Equal(readFileT(t, filepath.Join(dir, "nonroot-init")), readFileT(t, binary)) {
		t.Errorf("%s: /nonroot-init is not %s", ref, binary)
	}
}

// assembleReleaseBase builds in dir the root filesystem of an image
// author's base: busybox, glibc's id and whoami with their libraries and
// libnss_wrapper, /etc without the runtime UID, a /tmp any UID can
// write, the mount points; no nonroot-init (the user image copies it in).
func assembleReleaseBase(dir string) error {
	for _, d := range []string{"/bin", "/usr/bin", "/usr/local/bin", "/etc", "/proc", "/sys", "/dev", "/run", "/tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := syscall.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("busybox-static is needed: %w", err)
	}
	if static, err := isStatic(busybox); err != nil || !static {
		return fmt.Errorf("%s is not statically linked (install busybox-static): %v", busybox, err)
	}
	if err := copyFile(busybox, filepath.Join(dir, "bin/busybox"), 0o755); err != nil {
		return err
	}
	for _, a := range []string{"sh", "cat", "sha256sum"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			return err
		}
	}
	for _, bin := range []string{"/usr/bin/id", "/usr/bin/whoami", nssLib} {
		if err := copyWithLibraries(bin, dir); err != nil {
			return err
		}
	}
	for name, content := range map[string]string{"/etc/passwd": etcPasswd, "/etc/group": etcGroup, "/etc/nsswitch.conf": nsswitch} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
