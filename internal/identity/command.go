package identity

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/elfinfo"
)

// command is COMMAND as the nss_wrapper choice sees it (SPEC.md step 2,
// "COMMAND's C library"): its path, the ELF program the kernel runs for
// it (itself, or the last #! interpreter) and that program's C library.
type command struct {
	path    string // empty when COMMAND is not known (doctor without -- COMMAND)
	program string
	libc    elfinfo.Libc
	err     error // why libc is Unknown, when it could not be read
}

// inspectCommand reads the C library of the last program of chain
// (Options.Command). An unreadable program (mode 0111) is Unknown, and
// the choice is made as for a program of unknown C library.
func inspectCommand(chain []string) command {
	if len(chain) == 0 {
		return command{libc: elfinfo.Unknown}
	}
	c := command{path: chain[0], program: chain[len(chain)-1], libc: elfinfo.Unknown}
	info, err := elfinfo.Read(c.program)
	if err != nil {
		c.err = err
		return c
	}
	resolved, _ := filepath.EvalSymlinks(info.Interp)
	if info.Interp == "" {
		resolved = ""
	}
	c.libc = elfinfo.ProgramLibc(info, resolved)
	return c
}

// String names COMMAND and, for a script, the program that runs it.
func (c command) String() string {
	switch {
	case c.path == "":
		return "(not known)"
	case c.program != c.path:
		return fmt.Sprintf("%s (run by %s, %s)", c.path, c.program, c.libc)
	}
	return fmt.Sprintf("%s (%s)", c.path, c.libc)
}

// ownLookupsServed says whether COMMAND's own lookups by UID find the
// entry provided by method: nss_wrapper serves only a dynamically linked
// program (of the build's C library: findLib chose it so); an entry in
// the passwd file serves every program. Unknown when COMMAND's C library
// is (ok false).
func (c command) ownLookupsServed(method Method, alsoAppended bool) (served, ok bool) {
	switch method {
	case MethodExisting, MethodEtcPasswd:
		return true, true
	case MethodNSSWrapper:
		if c.libc == elfinfo.Static {
			return alsoAppended, true
		}
		if c.libc == elfinfo.Unknown {
			return false, false
		}
		return true, true
	}
	return false, true
}

// appendsForStatic says whether, besides nss_wrapper for the programs it
// starts, a static COMMAND's entry also goes to the passwd file: only in
// auto mode, and only when that file is already writable (it is never
// made so).
func appendsForStatic(mode config.PasswdMode, c command, method Method, passwdWrErr error) bool {
	return mode == config.PasswdAuto && method == MethodNSSWrapper && c.libc == elfinfo.Static && passwdWrErr == nil
}

// unservedFix is the fix for a COMMAND whose own lookups by UID fail.
const unservedFix = "make the image's /etc/passwd writable by group 0 (chgrp 0 /etc/passwd && chmod g+w /etc/passwd) so that NONROOT_PASSWD=auto appends the entry, at the risk doctor names"

// unserved says why COMMAND's own lookups by UID will fail and the fix,
// or ok false when they will not (or nothing is known). libErr is why
// nss_wrapper could not be used.
func (c command) unserved(method Method, alsoAppended bool, libErr error) (what, fix string, ok bool) {
	if served, known := c.ownLookupsServed(method, alsoAppended); served || !known || c.path == "" {
		return "", "", false
	}
	var me *LibcMismatchError
	switch {
	case c.libc == elfinfo.Static:
		what = fmt.Sprintf("COMMAND %s is statically linked: it ignores LD_PRELOAD, so its own lookups by uid (getpwuid, whoami) will fail", c)
		if method == MethodNSSWrapper {
			what += "; the dynamically linked programs it starts get nss_wrapper"
		}
		return what, unservedFix + ", or use a dynamically linked build of " + filepath.Base(c.program), true
	case errors.As(libErr, &me):
		return fmt.Sprintf("COMMAND %s has no %s build of nss_wrapper, and one for another C library would stop it from starting, so its lookups by uid (getpwuid, whoami) will fail", c, c.libc),
			"install Alpine's nss_wrapper (apk add nss_wrapper) or set NONROOT_NSS_WRAPPER_LIB to a " + string(c.libc) + " build, or " + unservedFix, true
	}
	return "", "", false
}

// logProvided logs what nss_wrapper was provided and for whom.
func logProvided(log *slog.Logger, c command, o Options, alsoAppended bool, name, home, dir, lib string) {
	args := []any{"user", name, "uid", o.UID, "gid", o.GID, "home", home, "dir", dir, "lib", lib, "command", c.path, "libc", string(c.libc)}
	switch {
	case c.libc == elfinfo.Static:
		what := "passwd entry provided through nss_wrapper for the dynamically linked programs COMMAND starts, not for COMMAND itself (statically linked)"
		if alsoAppended {
			what += "; COMMAND gets it in " + o.PasswdFile
		}
		log.Info(what, args...)
	case c.path == "" || c.libc == elfinfo.Unknown:
		log.Info("passwd entry provided through nss_wrapper for dynamically linked programs (COMMAND's C library not known)", append(args, "why", errString(c.err))...)
	default:
		log.Info("passwd entry provided through nss_wrapper for COMMAND and the programs it starts", args...)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
