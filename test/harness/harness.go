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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
	dir, err := os.MkdirTemp("", "nonroot-init-test-bin-")
	if err != nil {
		return "", err
	}
	// 0755 so that an unprivileged UID can run the binaries.
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	for _, pkg := range []string{"./cmd/nonroot-init", "./test/testchild"} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", dir, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
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

// Child returns the path of the test child (test/testchild).
func Child(t testing.TB) string { return filepath.Join(binDir(t), "testchild") }

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
	argv = append(argv, Init(t))
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, opts.Env...)
	cmd.Dir = opts.Dir
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
		_ = cmd.Process.Kill()
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
