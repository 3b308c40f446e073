// Package harness builds the real nonroot-init binary and the test child,
// and runs them the way a container runtime would: as PID 1 of a fresh
// PID namespace (unshare), as an arbitrary UID with GID 0 (setpriv).
//
// Tests that need root or a tool call NeedRoot or NeedTool, which skip
// with the reason; CI runs as root with every tool installed.
package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// OpenShiftUID is the kind of UID OpenShift's restricted profile assigns.
const OpenShiftUID = 1000680000

// build caches one build per test process; tests share the binaries.
var build struct {
	once sync.Once
	dir  string
	err  error
}

// ModuleRoot returns the directory holding go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

func buildAll() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	// One directory per checkout, under /tmp so that an unprivileged UID
	// can reach it (a checkout under /root could not be), 0755 so that it
	// can run the binaries. Each binary is built beside its final name and
	// renamed, so test processes building at the same time do not clash.
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(os.TempDir(), "nonroot-init-test-bin-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	for _, b := range []struct{ name, pkg string }{{"nonroot-init", "./cmd/nonroot-init"}, {"testchild", "./test/testchild"}} {
		tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d", b.name, os.Getpid()))
		cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, b.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
		if err := os.Rename(tmp, filepath.Join(dir, b.name)); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func binDir(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.dir, build.err = buildAll() })
	if build.err != nil {
		t.Fatalf("build binaries: %v", build.err)
	}
	return build.dir
}

// Init returns the path of a freshly built nonroot-init binary.
func Init(t testing.TB) string { return filepath.Join(binDir(t), "nonroot-init") }

// crossBuilds caches one build of the init per foreign GOARCH.
var crossBuilds struct {
	mu     sync.Mutex
	byArch map[string]*crossBuild
}

type crossBuild struct {
	once sync.Once
	path string
	err  error
}

// CrossInit returns the path of nonroot-init built for goarch
// (CGO_ENABLED=0, -trimpath, as make release builds it), beside the
// native binaries; one build per test process and architecture.
func CrossInit(t testing.TB, goarch string) string {
	t.Helper()
	dir := binDir(t)
	crossBuilds.mu.Lock()
	if crossBuilds.byArch == nil {
		crossBuilds.byArch = map[string]*crossBuild{}
	}
	b := crossBuilds.byArch[goarch]
	if b == nil {
		b = &crossBuild{}
		crossBuilds.byArch[goarch] = b
	}
	crossBuilds.mu.Unlock()
	b.once.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			b.err = err
			return
		}
		final := filepath.Join(dir, "nonroot-init-"+goarch)
		tmp := filepath.Join(dir, fmt.Sprintf(".nonroot-init-%s.%d", goarch, os.Getpid()))
		cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, "./cmd/nonroot-init")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("GOARCH=%s go build ./cmd/nonroot-init: %v\n%s", goarch, err, out)
			return
		}
		b.path, b.err = final, os.Rename(tmp, final)
	})
	if b.err != nil {
		t.Fatalf("build the init for %s: %v", goarch, b.err)
	}
	return b.path
}

// QEMU returns the name of qemu's user-emulation program for goarch, as
// Debian's qemu-user-static installs it: qemu-aarch64-static for arm64.
func QEMU(goarch string) string {
	name := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i386"}[goarch]
	if name == "" {
		name = goarch // ppc64le, s390x, riscv64
	}
	return "qemu-" + name + "-static"
}

// Child returns the path of the test child (test/testchild).
func Child(t testing.TB) string { return filepath.Join(binDir(t), "testchild") }

// SharedDir returns a new directory that any UID can use (mode 01777,
// like /tmp, below /tmp rather than t.TempDir's 0700 parent), removed at
// the end of the test.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nonroot-init-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// NeedRoot skips the test unless it runs as root.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs as root): creates namespaces and switches UID")
	}
}

// NeedTool skips the test unless every named tool is on PATH.
func NeedTool(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s on PATH (.ci/run installs it)", tool)
		}
	}
}

// Opts says how to start the init.
type Opts struct {
	PID1   bool     // run as PID 1 of a new PID namespace (unshare --pid --fork --mount-proc)
	NetNS  bool     // also a new network namespace (loopback only, down)
	MntNS  bool     // also a private mount namespace
	UID    int      // with setpriv when >0 (or AsUser): switch to UID
	GID    int      // and GID
	Groups []int    // supplementary groups; none when empty
	AsUser bool     // switch even when UID is 0
	Env    []string // added to a minimal environment (PATH)
	Dir    string
	Stdin  []byte
	// Arch is the GOARCH of the init: empty for the test's own; another
	// is cross-built (CrossInit) and run under qemu user emulation
	// (QEMU(Arch), an explicit prefix: no binfmt_misc needed). Only the
	// init is emulated: COMMAND and the tools run natively.
	Arch string
}

// Command returns the command line that starts the init with args under
// opts: unshare for the namespaces, setpriv for the identity.
func Command(t testing.TB, opts Opts, args ...string) *exec.Cmd {
	t.Helper()
	var argv []string
	if opts.PID1 || opts.NetNS || opts.MntNS {
		NeedRoot(t)
		NeedTool(t, "unshare")
		argv = append(argv, "unshare")
		if opts.PID1 {
			argv = append(argv, "--pid", "--fork", "--mount-proc")
		}
		if opts.NetNS {
			argv = append(argv, "--net")
		}
		if opts.MntNS && !opts.PID1 {
			argv = append(argv, "--mount", "--propagation", "private")
		}
	}
	if opts.UID > 0 || opts.AsUser {
		NeedRoot(t)
		NeedTool(t, "setpriv")
		argv = append(argv, "setpriv", "--reuid", strconv.Itoa(opts.UID), "--regid", strconv.Itoa(opts.GID))
		if len(opts.Groups) == 0 {
			argv = append(argv, "--clear-groups")
		} else {
			gs := make([]string, len(opts.Groups))
			for i, g := range opts.Groups {
				gs[i] = strconv.Itoa(g)
			}
			argv = append(argv, "--groups", strings.Join(gs, ","))
		}
		argv = append(argv, "--")
	}
	if opts.Arch != "" && opts.Arch != runtime.GOARCH {
		NeedTool(t, QEMU(opts.Arch))
		argv = append(argv, QEMU(opts.Arch), CrossInit(t, opts.Arch))
	} else {
		argv = append(argv, Init(t))
	}
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	// Each test gets its own TMPDIR, so that the init's default state
	// directory ($TMPDIR/nonroot-init) is not shared between tests running
	// as different UIDs.
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + SharedDir(t)}, opts.Env...)
	cmd.Dir = opts.Dir
	// Leftovers that keep stdout open must not hang the test forever.
	cmd.WaitDelay = 5 * time.Second
	if opts.Stdin != nil {
		cmd.Stdin = bytes.NewReader(opts.Stdin)
	}
	return cmd
}

// Result is a finished run.
type Result struct {
	Code   int
	Stdout string
	Stderr string
}

// Run runs the init under opts, failing the test if it does not finish
// within timeout or cannot be started.
func Run(t testing.TB, timeout time.Duration, opts Opts, args ...string) Result {
	t.Helper()
	cmd := Command(t, opts, args...)
	return Wait(t, timeout, cmd)
}

// Wait runs cmd to completion and returns its status and output.
func Wait(t testing.TB, timeout time.Duration, cmd *exec.Cmd) Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	if cmd.Process == nil {
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %v: %v", cmd.Args, err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		code := 0
		if err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				t.Fatalf("wait %v: %v", cmd.Args, err)
			}
			code = ee.ExitCode()
			if code < 0 {
				code = -1
			}
		}
		return Result{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}
	case <-time.After(timeout):
		KillTree(cmd.Process.Pid)
		<-done
		t.Fatalf("%v did not finish within %v\nstdout: %s\nstderr: %s", cmd.Args, timeout, stdout.String(), stderr.String())
		return Result{}
	}
}

// WaitFor polls cond every 10ms until it is true or ctx ends, and reports
// whether it became true. It bounds waits for asynchronous effects; it is
// not a speed assertion.
func WaitFor(ctx context.Context, cond func() bool) bool {
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// KillTree sends SIGKILL to pid and every descendant of it, children
// first found through /proc/PID/task/*/children.
func KillTree(pid int) {
	var all []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		all = append(all, p)
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, c := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(c); err == nil {
					queue = append(queue, n)
				}
			}
		}
	}
	for _, p := range all {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}
