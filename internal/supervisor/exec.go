package supervisor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
		if err := checkInterpreter(file); err != nil {
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
			if err := checkInterpreter(p); err != nil {
				return "", execError(file, err)
			}
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
// will give. Anything but a regular file (a directory, a FIFO, a device,
// a socket) is EACCES, as execve says for it.
func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if err := regularFile(p, fi.Mode()); err != nil {
		return err
	}
	if err := unix.Faccessat(unix.AT_FDCWD, p, unix.X_OK, unix.AT_EACCESS); err != nil {
		return &os.PathError{Op: "access", Path: p, Err: err}
	}
	return nil
}

// regularFile returns the EACCES error execve gives for a file of mode
// that is not a regular file, naming p and its type.
func regularFile(p string, mode os.FileMode) error {
	if mode.IsRegular() {
		return nil
	}
	kind := "not a regular file"
	switch {
	case mode.IsDir():
		kind = "is a directory"
	case mode&os.ModeNamedPipe != 0:
		kind = "is a FIFO, not a regular file"
	case mode&os.ModeSocket != 0:
		kind = "is a socket, not a regular file"
	case mode&os.ModeDevice != 0:
		kind = "is a device, not a regular file"
	}
	return &os.PathError{Op: "access", Path: p, Err: fmt.Errorf("%s: %w", kind, unix.EACCES)}
}

// shebangSize is how much of a file the kernel reads to find its #! line
// (BINPRM_BUF_SIZE in include/uapi/linux/binfmts.h).
const shebangSize = 256

// maxBinfmtDepth is the deepest binfmt level the kernel runs a file at
// (exec_binprm in fs/exec.c: "if (depth > 5) return -ELOOP"). COMMAND is
// level 0; each #! line opens its interpreter, which is loaded one level
// deeper. So five scripts may be stacked on a program; a sixth script's
// interpreter is still opened (a missing one is ENOENT), but loading it
// is ELOOP, as is everything from a seventh script on.
const maxBinfmtDepth = 5

// checkInterpreter reports the problem of a script's #! interpreter: the
// kernel's execve of a script whose interpreter is missing fails with
// ENOENT, which would otherwise read as "script: no such file". An
// interpreter that is itself a script is followed as the kernel does, and
// a chain deeper than the kernel follows is its ELOOP. A file that is no
// script, or cannot be read here, is not judged: exec then gives its own
// answer.
func checkInterpreter(path string) error {
	top := path
	for depth := 0; ; depth++ {
		if depth > maxBinfmtDepth {
			return fmt.Errorf("%s: #! interpreters nested deeper than the kernel follows (%d scripts on a program at most): %w; run the last interpreter directly", top, maxBinfmtDepth, unix.ELOOP)
		}
		interp, ok, err := readShebang(path)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := executable(interp); err != nil {
			return fmt.Errorf("%s: its #! interpreter %s cannot be run: %w; install it or correct the script's first line", path, interp, err)
		}
		path = interp
	}
}

// readShebang returns the interpreter named by the #! line of path. It
// opens path without blocking (O_NONBLOCK: a FIFO would otherwise wait
// for a writer, and the init with it) and reads only a regular file; any
// other kind is the EACCES execve gives. A file that cannot be opened is
// not judged.
func readShebang(path string) (string, bool, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return "", false, nil
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", false, nil
	}
	if err := regularFile(path, fi.Mode()); err != nil {
		return "", false, err
	}
	head := make([]byte, shebangSize)
	n, _ := io.ReadFull(f, head)
	interp, ok := parseShebang(head[:n])
	return interp, ok, nil
}

// parseShebang returns the interpreter of a #! line the way the kernel
// reads it (fs/binfmt_script.c): after "#!" and any spaces or tabs, up to
// a space, tab, NUL or newline; a relative name is resolved by the kernel
// from the working directory. head is the file's first bytes, at most
// shebangSize; a line that does not end within them is not judged.
func parseShebang(head []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(head, []byte("#!"))
	if !ok {
		return "", false
	}
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	} else if len(head) >= shebangSize {
		// The kernel pads a short file with NULs; a full buffer without a
		// newline must hold a terminator after the name, else ENOEXEC.
		trimmed := bytes.TrimLeft(rest, " \t")
		if bytes.IndexAny(trimmed, " \t\x00") < 0 {
			return "", false
		}
	}
	rest = bytes.TrimLeft(rest, " \t")
	if i := bytes.IndexAny(rest, " \t\x00"); i >= 0 {
		rest = rest[:i]
	}
	if len(rest) == 0 {
		return "", false
	}
	return string(rest), true
}
