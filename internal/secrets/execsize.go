package secrets

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// MaxArgStrlen is Linux's MAX_ARG_STRLEN (32 pages of 4 KiB): the
// largest single argument or environment string execve(2) takes,
// counting NAME=, the value and the NUL. A longer one fails COMMAND's
// start with E2BIG ("argument list too long").
const MaxArgStrlen = 32 * 4096

// minArgMax is the least the kernel allows for argv and the environment
// together whatever RLIMIT_STACK says (ARG_MAX, 32 pages).
const minArgMax = 128 << 10

// maxArgMax is the kernel's own cap: 3/4 of _STK_LIM (8 MiB).
const maxArgMax = 6 << 20

// checkArgStrlen refuses a value that, as NAME=VALUE, execve cannot pass.
func checkArgStrlen(s Source, v string) error {
	if n := len(s.Name) + 1 + len(v) + 1; n > MaxArgStrlen {
		return fmt.Errorf("%s=%s: the value is %d bytes, so %s=VALUE is %d bytes with its NUL, above execve's limit of %d bytes for one variable (MAX_ARG_STRLEN): COMMAND could not start; have COMMAND read %s itself",
			s.Var(), s.File, len(v), s.Name, n, MaxArgStrlen, s.Var())
	}
	return nil
}

// ArgMax is the room execve(2) gives argv and the environment together,
// as the kernel computes it (and sysconf(_SC_ARG_MAX) reports it): a
// quarter of RLIMIT_STACK, at most 6 MiB, at least 128 KiB.
func ArgMax() int {
	var rl unix.Rlimit
	limit := uint64(maxArgMax)
	if err := unix.Getrlimit(unix.RLIMIT_STACK, &rl); err == nil && rl.Cur != unix.RLIM_INFINITY {
		limit = min(limit, rl.Cur/4)
	}
	return int(max(limit, minArgMax))
}

// CheckExecSize checks, before COMMAND starts, that execve(2) can pass
// argv and env: no string above MaxArgStrlen, and all of them (each
// with its NUL and its pointer) within ArgMax. Its error names sizes
// and variable names, never a value.
func CheckExecSize(argv, env []string) error {
	return checkExecSize(argv, env, ArgMax())
}

func checkExecSize(argv, env []string, limit int) error {
	const ptr = 8 // a pointer in argv[] and envp[]
	total := 0
	for i, a := range argv {
		if len(a)+1 > MaxArgStrlen {
			return fmt.Errorf("COMMAND's argument %d is %d bytes, above execve's limit of %d bytes for one argument (MAX_ARG_STRLEN); pass it in a file", i, len(a), MaxArgStrlen)
		}
		total += len(a) + 1 + ptr
	}
	for _, e := range env {
		if len(e)+1 > MaxArgStrlen {
			name, _, _ := strings.Cut(e, "=")
			return fmt.Errorf("COMMAND's variable %s is %d bytes with its name and NUL, above execve's limit of %d bytes for one variable (MAX_ARG_STRLEN); have COMMAND read it from a file", name, len(e)+1, MaxArgStrlen)
		}
		total += len(e) + 1 + ptr
	}
	if total > limit {
		return fmt.Errorf("COMMAND's arguments and environment are %d bytes together, above execve's limit of %d bytes here (a quarter of RLIMIT_STACK, at least 128 KiB): COMMAND could not start; move large values into files (NAME_FILE, which COMMAND reads itself) or raise the stack limit", total, limit)
	}
	return nil
}
