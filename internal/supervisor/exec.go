package supervisor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ExecError is a failure to start COMMAND. Code is 127 when COMMAND was
// not found and 126 when it exists but cannot be executed, as in shells.
type ExecError struct {
	Command string
	Code    int
	Err     error
}

func (e *ExecError) Error() string {
	return fmt.Sprintf("cannot run %s: %v", e.Command, e.Err)
}

func (e *ExecError) Unwrap() error { return e.Err }

// execError classifies an error from lookup or exec by its errno,
// wherever it came from: exec.LookPath-style lookups return the
// filesystem's error for a path with a slash, not a "not found".
func execError(cmd string, err error) error {
	code := 126
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, errNotFound) {
		code = 127
	}
	return &ExecError{Command: cmd, Code: code, Err: err}
}

var errNotFound = errors.New("not found in PATH")

// LookPath finds file as a shell would, using pathEnv (the PATH COMMAND
// will get) rather than the init's own. A name with a slash is used as
// it is. A candidate that exists but is not executable makes a 126 error
// when no executable candidate follows it.
func LookPath(file, pathEnv string) (string, error) {
	if file == "" {
		return "", &ExecError{Command: `""`, Code: 127, Err: errors.New("empty command name")}
	}
	if strings.Contains(file, "/") {
		if err := executable(file); err != nil {
			return "", execError(file, err)
		}
		return file, nil
	}
	var denied error
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		err := executable(p)
		if err == nil {
			return p, nil
		}
		// Like a shell, a directory of PATH we cannot search is skipped;
		// only a file that exists but cannot be run makes 126.
		var pe *os.PathError
		if denied == nil && errors.As(err, &pe) && pe.Op == "access" {
			denied = fmt.Errorf("%s: %w", p, err)
		}
	}
	if denied != nil {
		return "", execError(file, denied)
	}
	return "", execError(file, fmt.Errorf("%w (PATH=%s)", errNotFound, pathEnv))
}

// executable checks that p is a regular file the effective IDs may
// execute; the kernel's answer (faccessat with AT_EACCESS) is the one exec
// will give.
func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return &os.PathError{Op: "access", Path: p, Err: fmt.Errorf("is a directory: %w", unix.EACCES)}
	}
	if err := unix.Faccessat(unix.AT_FDCWD, p, unix.X_OK, unix.AT_EACCESS); err != nil {
		return &os.PathError{Op: "access", Path: p, Err: err}
	}
	return nil
}
