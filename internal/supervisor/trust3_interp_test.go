package supervisor

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// kernelExec runs path with a plain execve and returns the kernel's
// errno, or nil when it ran.
func kernelExec(t *testing.T, path string) error {
	t.Helper()
	err := exec.Command(path).Run()
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	if err != nil {
		t.Fatalf("run %s: %v", path, err)
	}
	return nil
}

// A chain of scripts, each the #! interpreter of the next, is followed as
// deep as the running kernel follows it: a missing interpreter at the end
// of the longest chain it runs is named (127), and a chain longer than
// that gets the kernel's own answer, ELOOP (126). The kernel's answer is
// taken from a plain execve of the same chain.
func TestTrust3InterpreterDepth(t *testing.T) {
	for _, end := range []string{"/bin/true", "missing"} {
		for n := 1; n <= 8; n++ {
			t.Run(fmt.Sprintf("%s/%d", end, n), func(t *testing.T) {
				dir := t.TempDir()
				prev := end
				missing := ""
				if end == "missing" {
					missing = filepath.Join(dir, "no-such-interp")
					prev = missing
				}
				for i := 1; i <= n; i++ {
					prev = writeScript(t, dir, fmt.Sprintf("s%d", i), "#!"+prev+"\n")
				}
				kernel := kernelExec(t, prev)
				got, err := LookPath(prev, "")
				var ee *ExecError
				switch {
				case kernel == nil:
					if err != nil || got != prev {
						t.Errorf("execve ran the chain of %d; LookPath = %q, %v", n, got, err)
					}
				case errors.Is(kernel, unix.ENOENT):
					if !errors.As(err, &ee) || ee.Code != 127 || !strings.Contains(err.Error(), "interpreter "+missing+" ") {
						t.Errorf("execve gave ENOENT for the chain of %d; LookPath = %q, %v; want 127 naming %s", n, got, err, missing)
					}
				case errors.Is(kernel, unix.ELOOP):
					if !errors.As(err, &ee) || ee.Code != 126 || !errors.Is(err, unix.ELOOP) {
						t.Errorf("execve gave ELOOP for the chain of %d; LookPath = %q, %v; want 126 with ELOOP", n, got, err)
					}
				default:
					t.Fatalf("execve of the chain of %d: unexpected %v", n, kernel)
				}
			})
		}
	}
}
