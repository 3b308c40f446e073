package e2e

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// releaseArches are the ARCHes `make release` builds (SPEC.md,
// "Distribution"), with the ELF machine and byte order of each.
var releaseArches = []struct {
	arch    string
	machine elf.Machine
	order   elf.Data
}{
	{"amd64", elf.EM_X86_64, elf.ELFDATA2LSB},
	{"arm64", elf.EM_AARCH64, elf.ELFDATA2LSB},
	{"ppc64le", elf.EM_PPC64, elf.ELFDATA2LSB},
	{"s390x", elf.EM_S390, elf.ELFDATA2MSB},
}

// releaseTimeout bounds one `make release` or `make image`: four cross
// builds from an empty build cache take minutes on a loaded machine.
const releaseTimeout = 20 * time.Minute

// released caches the first clone and its `make release` for the test
// process: the reproducibility test compares a second build with it,
// and the image test builds its images from its dist/. TestMain removes
// it (removeReleased).
var released struct {
	once sync.Once
	dir  string // the clone; its dist/ holds the release
	err  error
}

// removeReleased removes the cached release clone; TestMain calls it.
func removeReleased() {
	if released.dir != "" {
		os.RemoveAll(released.dir)
	}
}

// releaseClone returns a clone of the module root's HEAD in which `make
// release` ran, building it on first use.
func releaseClone(t *testing.T) string {
	t.Helper()
	harness.NeedTool(t, "git", "make", "sha256sum")
	root, head := moduleHead(t)
	released.once.Do(func() {
		released.dir, released.err = os.MkdirTemp("", "nonroot-init-release-a-")
		if released.err != nil {
			return
		}
		dir := filepath.Join(released.dir, "src")
		if released.err = cloneAt(root, head, dir); released.err == nil {
			_, released.err = makeIn(dir, nil, "release")
		}
	})
	if released.err != nil {
		t.Fatalf("first clone's make release: %v", released.err)
	}
	return filepath.Join(released.dir, "src")
}

// moduleHead returns the module root and the commit checked out there.
// The clones build that commit: changes not committed are not in them.
func moduleHead(t *testing.T) (root, head string) {
	t.Helper()
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD in %s: %v", root, err)
	}
	if st, _ := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); len(st) > 0 {
		t.Logf("%s has changes not committed; the release tests build commit %s without them", root, strings.TrimSpace(string(out)))
	}
	return root, strings.TrimSpace(string(out))
}

// cloneAt clones the repository at root into dir and checks out commit.
func cloneAt(root, commit, dir string) error {
	for _, args := range [][]string{
		{"clone", "--quiet", "--no-hardlinks", root, dir},
		{"-C", dir, "checkout", "--quiet", "--detach", commit},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// makeIn runs make with targets in dir, with env added to the test's
// environment, and returns its output.
func makeIn(dir string, env []string, targets ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", append([]string{"-s", "-C", dir}, targets...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("make %s in %s: %v\n%s", strings.Join(targets, " "), dir, err, out)
	}
	return string(out), nil
}

// distFiles returns the names in dir/dist, sorted.
func distFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "dist"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// TestReleaseReproducible builds the release in two clones of one commit,
// in different directories, at different times, in another time zone,
// with every file's mtime changed and an environment that would change
// the bytes if the Makefile let it (GOFLAGS=-buildvcs=true, GOAMD64=v3):
// every file of dist/ is byte-identical, SHA256SUMS checks, each binary
// is a static, stripped ELF executable of its ARCH with no host path in
// it, and the host's binary prints the version line of the commit.
func TestReleaseReproducible(t *testing.T) {
	a := releaseClone(t)
	root, head := moduleHead(t)
	// The second clone: another directory, another time, another zone.
	b := filepath.Join(t.TempDir(), "another", "checkout")
	if err := cloneAt(root, head, b); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	err := filepath.WalkDir(b, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink != 0 {
			return err
		}
		return os.Chtimes(path, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := makeIn(b, []string{"TZ=Pacific/Kiritimati", "GOFLAGS=-buildvcs=true", "GOAMD64=v3", "GOEXPERIMENT="}, "release"); err != nil {
		t.Fatalf("second clone: %v\n%s", err, out)
	}

	want := []string{"SHA256SUMS"}
	for _, r := range releaseArches {
		want = append(want, "nonroot-init-linux-"+r.arch)
	}
	for _, dir := range []string{a, b} {
		if got := distFiles(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s/dist holds %q; want %q", dir, got, want)
		}
		cmd := exec.Command("sha256sum", "-c", "--strict", "SHA256SUMS")
		cmd.Dir = filepath.Join(dir, "dist")
		if out, err := cmd.CombinedOutput(); err != nil || strings.Count(string(out), ": OK\n") != len(releaseArches) {
			t.Errorf("cd %s/dist && sha256sum -c SHA256SUMS: %v; want %d files OK\n%s", dir, err, len(releaseArches), out)
		}
	}
	for _, name := range want {
		fa, errA := os.ReadFile(filepath.Join(a, "dist", name))
		fb, errB := os.ReadFile(filepath.Join(b, "dist", name))
		if errA != nil || errB != nil {
			t.Errorf("read dist/%s: %v, %v", name, errA, errB)
			continue
		}
		if !bytes.Equal(fa, fb) {
			t.Errorf("dist/%s differs between the clones %s and %s (%d and %d bytes): the build is not reproducible", name, a, b, len(fa), len(fb))
		}
	}

	// No path of this machine: the checkouts, HOME and Go's directories.
	hostPaths := []string{a, b, root}
	if home, _ := os.UserHomeDir(); len(home) > 1 {
		hostPaths = append(hostPaths, home)
	}
	for _, v := range []string{"GOPATH", "GOMODCACHE", "GOROOT", "GOCACHE"} {
		out, err := exec.Command("go", "env", v).Output()
		if p := strings.TrimSpace(string(out)); err == nil && len(p) > 1 {
			hostPaths = append(hostPaths, p)
		}
	}
	for _, r := range releaseArches {
		path := filepath.Join(a, "dist", "nonroot-init-linux-"+r.arch)
		checkReleaseELF(t, path, r.machine, r.order)
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// A leaked path is a file below one of them: p + "/". The bare
		// words can occur by chance ($HOME=/root is in
		// "crypto/x509/root.go", a name -trimpath leaves).
		for _, p := range hostPaths {
			if bytes.Contains(content, []byte(p+"/")) {
				t.Errorf("%s holds the host path %q", path, p)
			}
		}
	}

	// The host's binary names the commit, the Go release and its platform.
	goVersion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(a, "dist", "nonroot-init-linux-"+runtime.GOARCH)
	out, err := exec.Command(host, "--version").CombinedOutput()
	line := regexp.MustCompile(`^nonroot-init (v[0-9]+\.[0-9]+\.[0-9]+\S*) \(commit ([0-9a-f]{12}), (go\S+), (linux/\w+)\)\n$`)
	m := line.FindStringSubmatch(string(out))
	if err != nil || m == nil {
		t.Fatalf("%s --version = %q, %v; want one line: nonroot-init VERSION (commit HASH, GO, linux/ARCH)", host, out, err)
	}
	tag, _ := exec.Command("git", "-C", a, "describe", "--tags", "--exact-match", "--match", "v[0-9]*.[0-9]*.[0-9]*").Output()
	wantVersion := strings.TrimSpace(string(tag))
	if wantVersion == "" && !strings.HasSuffix(m[1], "-g"+head[:12]) {
		t.Errorf("version %q of an untagged commit does not end in -g%s", m[1], head[:12])
	} else if wantVersion != "" && m[1] != wantVersion {
		t.Errorf("version %q on tag %s; want the tag", m[1], wantVersion)
	}
	if m[2] != head[:12] || m[3] != strings.TrimSpace(string(goVersion)) || m[4] != "linux/"+runtime.GOARCH {
		t.Errorf("%s --version = %q; want commit %s, %s, linux/%s", host, out, head[:12], strings.TrimSpace(string(goVersion)), runtime.GOARCH)
	}
}

// checkReleaseELF: path is a 64-bit ELF executable for machine with byte
// order order, static (no program interpreter, no shared library) and
// stripped (no symbol table, no DWARF).
func checkReleaseELF(t *testing.T, path string, machine elf.Machine, order elf.Data) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	defer f.Close()
	if f.Machine != machine || f.Data != order || f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC || f.OSABI != elf.ELFOSABI_NONE {
		t.Errorf("%s: ELF %v %v %v %v %v; want %v %v ELFCLASS64 ET_EXEC", path, f.Machine, f.Data, f.Class, f.Type, f.OSABI, machine, order)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s has a %v segment; want a static executable", path, p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs %q; want none", path, libs)
	}
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("%s has section %s; want it stripped (-s -w)", path, s.Name)
		}
	}
}

// TestReleaseVersion: the VERSION `make release` stamps, from `make
// version` in a clone: v0.0.0-gHASH with no tag reachable, the tag vX.Y.Z
// on it, -dirty with a tracked file changed, git describe's long form
// vX.Y.Z-N-gHASH after it; a tag that is not vX.Y.Z does not count.
func TestReleaseVersion(t *testing.T) {
	harness.NeedTool(t, "git", "make")
	root, head := moduleHead(t)
	dir := filepath.Join(t.TempDir(), "src")
	if err := cloneAt(root, head, dir); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=test", "-c", "user.email=test@example.invalid"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	version := func() string {
		t.Helper()
		out, err := makeIn(dir, nil, "version")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	// A history of its own, without the repository's tags.
	for _, tag := range strings.Fields(git("tag")) {
		git("tag", "-d", tag)
	}
	if got, want := version(), "v0.0.0-g"+head[:12]; got != want {
		t.Errorf("make version with no tag = %q; want %q", got, want)
	}
	git("tag", "not-a-release")
	git("tag", "v9.8.7")
	if got, want := version(), "v9.8.7"; got != want {
		t.Errorf("make version on tag v9.8.7 = %q; want %q", got, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), append(readFileT(t, filepath.Join(dir, "go.mod")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := version(), "v9.8.7-dirty"; got != want {
		t.Errorf("make version on tag v9.8.7 with go.mod changed = %q; want %q", got, want)
	}
	git("checkout", "--quiet", "go.mod")
	git("commit", "--quiet", "--allow-empty", "-m", "after the tag")
	next := git("rev-parse", "--short=12", "HEAD")
	if got, want := version(), "v9.8.7-1-g"+next; got != want {
		t.Errorf("make version one commit after v9.8.7 = %q; want %q", got, want)
	}
}

func readFileT(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
