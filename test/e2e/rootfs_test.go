package e2e

import (
	"bufio"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// Paths inside the container.
const (
	initPath  = "/usr/local/bin/nonroot-init"
	childPath = "/usr/local/bin/testchild"
	nssLib    = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"
)

// busyboxApplets are linked to /bin/busybox; the glibc tools below are
// the real ones, so that nss_wrapper is exercised through real lookups.
var busyboxApplets = []string{
	"sh", "cat", "ls", "echo", "sleep", "stat", "touch", "mkdir", "rm",
	"test", "[", "env", "ps", "grep", "wc", "sed", "head", "tr", "kill",
	"true", "false", "printf", "wget", "mount", "ln", "cp",
}

// glibcTools are dynamically linked, so they resolve users through NSS.
// nginx is the image's COMMAND (Dockerfile.example installs nginx-light).
var glibcTools = []string{"/usr/bin/id", "/usr/bin/whoami", "/usr/bin/getent", "/usr/sbin/nginx", dumbInit}

// The other inits the comparison test runs in the same container.
const (
	tiniStatic    = "/usr/bin/tini-static"
	dumbInit      = "/usr/bin/dumb-init"
	uidEntrypoint = "/usr/local/bin/uid_entrypoint"
)

// uidEntrypointScript is the shell entrypoint OpenShift images commonly
// ship (its guidelines' uid_entrypoint): append the UID to /etc/passwd
// when that file is writable, then exec COMMAND, which becomes PID 1.
const uidEntrypointScript = `#!/bin/sh
if ! whoami >/dev/null 2>&1; then
  if [ -w /etc/passwd ]; then
    echo "${USER_NAME:-default}:x:$(id -u):0:${USER_NAME:-default} user:${HOME}:/sbin/nologin" >> /etc/passwd
  fi
fi
exec "$@"
`

// indexHTML is the page nginx serves in the tests.
const indexHTML = "hello from nonroot-init e2e\n"

// mountPoints are created in the root filesystem, which is read-only in
// the container, for the mounts the tests make.
var mountPoints = []string{"/proc", "/sys", "/dev", "/tmp", "/data", "/shared", "/etc/nonroot/templates"}

// Files of the root filesystem that name no runtime UID: the point of the
// exercise is that 1000680000 has no entry.
const (
	etcPasswd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	etcGroup  = "root:x:0:\nnogroup:x:65534:\n"
	nsswitch  = "passwd: files\ngroup: files\nhosts: files\n"
)

// built caches the root filesystem for the test process: it is read-only
// in every container, so all of them share one.
var built struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	removeReleased()
	os.Exit(code)
}

// rootfs returns the assembled root filesystem, building it on first use.
func rootfs(t *testing.T) string {
	t.Helper()
	harness.NeedRoot(t)
	img := dockerfileImage(t)
	initBin, childBin := harness.Init(t), harness.Child(t)
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "nonroot-init-e2e-rootfs-")
		if built.err == nil {
			built.err = assemble(built.dir, initBin, childBin, img)
		}
	})
	if built.err != nil {
		t.Fatalf("assemble root filesystem: %v", built.err)
	}
	return built.dir
}

// dockerfileImage parses the repository's Dockerfile.example.
func dockerfileImage(t *testing.T) image {
	t.Helper()
	img, err := parseDockerfile(readRepoFile(t, "Dockerfile.example"))
	if err != nil {
		t.Fatalf("Dockerfile.example: %v", err)
	}
	return img
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assemble builds the root filesystem in dir: busybox, glibc tools and
// their libraries, libnss_wrapper, the init and the test child, /etc
// without the runtime UID, then Dockerfile.example's build-time steps.
func assemble(dir, initBin, childBin string, img image) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	for _, d := range append([]string{"/bin", "/usr/bin", "/usr/local/bin", "/root", "/etc", "/var", "/run"}, mountPoints...) {
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
	for _, a := range busyboxApplets {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			return err
		}
	}
	for _, bin := range append(glibcTools, nssLib) {
		if err := copyWithLibraries(bin, dir); err != nil {
			return err
		}
	}
	for src, dst := range map[string]string{initBin: initPath, childBin: childPath, tiniStatic: tiniStatic} {
		if err := copyFile(src, filepath.Join(dir, dst), 0o755); err != nil {
			return err
		}
	}
	if err := copyFile("/etc/nginx/mime.types", filepath.Join(dir, "etc/nginx/mime.types"), 0o644); err != nil {
		return err
	}
	for name, content := range map[string]string{
		"/etc/passwd": etcPasswd, "/etc/group": etcGroup, "/etc/nsswitch.conf": nsswitch,
		"/usr/share/nginx/html/index.html": indexHTML,
		uidEntrypoint:                      uidEntrypointScript,
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			return err
		}
	}
	return applyBuildSteps(dir, initBin, img)
}

// applyBuildSteps does what Dockerfile.example's runtime stage does at
// build time: the COPYs from the build context, then the real
// `nonroot-init fix-permissions` on the app's directories.
func applyBuildSteps(dir, initBin string, img image) error {
	root, err := harness.ModuleRoot()
	if err != nil {
		return err
	}
	for _, c := range img.Copies {
		dst := filepath.Join(dir, c[1])
		if strings.HasSuffix(c[1], "/") {
			dst = filepath.Join(dst, filepath.Base(c[0]))
		}
		if err := copyFile(filepath.Join(root, c[0]), dst, 0o644); err != nil {
			return fmt.Errorf("Dockerfile.example COPY %s %s: %w", c[0], c[1], err)
		}
	}
	var paths []string
	for _, p := range img.FixPermissions {
		paths = append(paths, filepath.Join(dir, p))
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			return err
		}
	}
	if len(paths) > 0 {
		out, err := exec.Command(initBin, append([]string{"fix-permissions"}, paths...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("Dockerfile.example RUN nonroot-init fix-permissions %s: %v\n%s", strings.Join(img.FixPermissions, " "), err, out)
		}
	}
	return nil
}

// copyWithLibraries copies a dynamically linked file and every library
// ldd names for it (the dynamic loader included) to the same paths under
// dir, following the machine's symlinks.
func copyWithLibraries(bin, dir string) error {
	if err := copyFile(bin, filepath.Join(dir, bin), 0o755); err != nil {
		return err
	}
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return fmt.Errorf("ldd %s: %w", bin, err)
	}
	for _, lib := range lddPaths(string(out)) {
		if err := copyFile(lib, filepath.Join(dir, lib), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// lddPaths returns the absolute paths in ldd's output: "libc.so.6 =>
// /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2
// (0x...)"; the vDSO has none.
func lddPaths(out string) []string {
	var paths []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if _, after, ok := strings.Cut(line, "=> "); ok {
			line = after
		}
		if p, _, _ := strings.Cut(line, " "); strings.HasPrefix(p, "/") {
			paths = append(paths, p)
		}
	}
	return paths
}

func TestLddPaths(t *testing.T) {
	out := "\tlinux-vdso.so.1 (0x00007ffd)\n" +
		"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n" +
		"\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n"
	got := lddPaths(out)
	want := []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("lddPaths(%q) = %q; want %q", out, got, want)
	}
}

func isStatic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

// copyFile copies src (following symlinks) to dst, creating dst's
// directories.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}

// TestDockerfileBuildSteps: after Dockerfile.example's `nonroot-init
// fix-permissions` step, the app's directories in the root filesystem
// are group 0, group read-write-execute and setgid, and a second run with
// --check finds nothing to change.
func TestDockerfileBuildSteps(t *testing.T) {
	dir := rootfs(t)
	img := dockerfileImage(t)
	var paths []string
	for _, p := range img.FixPermissions {
		paths = append(paths, filepath.Join(dir, p))
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(dir, p), &st); err != nil {
			t.Fatal(err)
		}
		if st.Gid != 0 || st.Mode&0o2070 != 0o2070 {
			t.Errorf("%s after fix-permissions: gid %d mode %o; want gid 0 and g+rwx,g+s", p, st.Gid, st.Mode&0o7777)
		}
	}
	out, err := exec.Command(harness.Init(t), append([]string{"fix-permissions", "--check"}, paths...)...).CombinedOutput()
	if err != nil {
		t.Errorf("fix-permissions --check after the build step: %v; want exit 0\n%s", err, out)
	}
}
