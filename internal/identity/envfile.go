package identity

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// envFileName is the file in STATE_DIR that holds the identity the init
// gave COMMAND, for `nonroot-init exec` (SPEC.md, step 2).
const envFileName = "env"

// maxEnvFile bounds the env file: six short lines, far below it.
const maxEnvFile = 64 << 10

// ErrNoState is ReadEnv's and WriteEnv's answer when no STATE_DIR exists
// (none of the candidates is a directory of ours) or, for ReadEnv, when
// it holds no env file: no init of ours left its identity there.
var ErrNoState = errors.New("no STATE_DIR of a running nonroot-init")

// EnvFileError is an env file that is there but refused: not written by
// an init running as us (another owner, a symbolic link, another mode, a
// line the init never writes). Nothing of it is used.
type EnvFileError struct {
	Path string
	Err  error
}

func (e *EnvFileError) Error() string {
	return fmt.Sprintf("refusing %s: %v; nonroot-init writes it as the container's user with mode 0600, so it was put there by something else: remove it and restart the container, or set NONROOT_STATE_DIR to the init's", e.Path, e.Err)
}

func (e *EnvFileError) Unwrap() error { return e.Err }

// checkEnvValue checks one variable of the env file: only the identity
// COMMAND was given (SPEC.md, step 2) may be there, and each value is
// what the init could have written: paths absolute, names and paths safe
// in a passwd line, no control character (a newline would start a line
// of its own) anywhere. ok is false for a name that is not one of them.
func checkEnvValue(key, value string) (ok bool, err error) {
	switch key {
	case "HOME", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP":
		if err := config.ValidPasswdField(value); err != nil {
			return true, err
		}
		if !filepath.IsAbs(value) {
			return true, fmt.Errorf("%q is not an absolute path", value)
		}
	case "USER", "LOGNAME":
		if value == "" {
			return true, errors.New("empty")
		}
		if err := config.ValidPasswdField(value); err != nil {
			return true, err
		}
	case "LD_PRELOAD":
		// A list separated by ':' or spaces, as the dynamic loader reads it.
		for _, c := range value {
			if c < 0x20 || c == 0x7f {
				return true, fmt.Errorf("%q contains a control character", value)
			}
		}
	default:
		return false, nil
	}
	return true, nil
}

// requiredEnv are the variables every env file has: the identity step
// always gives COMMAND them.
func requiredEnv() []string { return []string{"HOME", "USER", "LOGNAME"} }

// formatEnv returns the env file for vars: one NAME=VALUE line for each
// identity variable among them, in their order. A value parseEnv would
// refuse is an error, so that what is written always reads back.
func formatEnv(vars []Var) ([]byte, error) {
	var b strings.Builder
	var kept []Var
	for _, v := range vars {
		ok, err := checkEnvValue(v.Key, v.Value)
		if !ok {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.Key, err)
		}
		kept = append(kept, v)
		b.WriteString(v.Key + "=" + v.Value + "\n")
	}
	if err := checkRequired(kept); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// parseEnv parses an env file strictly: NAME=VALUE lines, each ended by
// a newline, each NAME an identity variable given once, each value valid
// (checkEnvValue), HOME, USER and LOGNAME present. Anything else (a blank
// line, a comment, a carriage return) is an error.
func parseEnv(data []byte) ([]Var, error) {
	s := string(data)
	if s != "" && !strings.HasSuffix(s, "\n") {
		return nil, errors.New("the last line does not end with a newline")
	}
	var out []Var
	seen := map[string]bool{}
	for i, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if s == "" {
			break
		}
		key, value, found := strings.Cut(l, "=")
		if !found || key == "" {
			return nil, fmt.Errorf("line %d: %q is not NAME=VALUE", i+1, l)
		}
		ok, err := checkEnvValue(key, value)
		switch {
		case !ok:
			return nil, fmt.Errorf("line %d: %q is not a variable nonroot-init writes there (HOME, USER, LOGNAME, LD_PRELOAD, NSS_WRAPPER_PASSWD, NSS_WRAPPER_GROUP)", i+1, key)
		case err != nil:
			return nil, fmt.Errorf("line %d: %s: %w", i+1, key, err)
		case seen[key]:
			return nil, fmt.Errorf("line %d: %s is set twice", i+1, key)
		}
		seen[key] = true
		out = append(out, Var{key, value})
	}
	if err := checkRequired(out); err != nil {
		return nil, err
	}
	return out, nil
}

func checkRequired(vars []Var) error {
	for _, k := range requiredEnv() {
		found := false
		for _, v := range vars {
			found = found || v.Key == k
		}
		if !found {
			return fmt.Errorf("no %s", k)
		}
	}
	return nil
}

// checkEnvFile accepts what the init leaves as the env file: a regular
// file owned by euid with mode 0600 exactly, no larger than maxEnvFile.
func checkEnvFile(st *unix.Stat_t, euid int) error {
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return errors.New("not a regular file")
	case int(st.Uid) != euid:
		return fmt.Errorf("owned by uid %d, not by us (uid %d)", st.Uid, euid)
	case st.Mode&0o7777 != 0o600:
		return fmt.Errorf("mode %04o, not 0600", st.Mode&0o7777)
	case st.Size > maxEnvFile:
		return fmt.Errorf("larger than %d bytes", maxEnvFile)
	}
	return nil
}

// WriteEnv writes the identity variables among vars (what the identity
// step gave COMMAND) to STATE_DIR/env, mode 0600, atomically, for
// `nonroot-init exec`. STATE_DIR is found as ReadEnv finds it (the
// setting, else the default candidates read through getenv, in the
// init's order and with its checks) and never created: an image whose
// UID has an entry gets no directory for this. With none, the error is
// ErrNoState. It returns the file's path.
func WriteEnv(stateDir string, getenv func(string) (string, bool), euid int, vars []Var) (string, error) {
	data, err := formatEnv(vars)
	if err != nil {
		return "", fmt.Errorf("the identity for nonroot-init exec: %w", err)
	}
	sd, _, err := openExistingStateDir(stateDirCandidates(stateDir, getenv), euid)
	if err != nil {
		return "", err
	}
	defer sd.close()
	path := filepath.Join(sd.path, envFileName)
	if err := fsx.WriteAt(sd.fd, envFileName, fsx.AtomicFile{Path: path, Mode: 0o600, Content: data}); err != nil {
		return "", fmt.Errorf("NONROOT_STATE_DIR %s: %w", sd.path, err)
	}
	return path, nil
}

// ReadEnv returns the identity a running init wrote to STATE_DIR/env and
// the file's path. STATE_DIR is found by the init's rule (the setting,
// else $XDG_RUNTIME_DIR, $TMPDIR and /tmp with /nonroot-init, read
// through getenv): the first candidate that exists, is reached through
// no directory another user controls, and is a directory of ours (euid)
// that is no symlink and that group and others cannot write. No such
// directory, or no env file in it, is ErrNoState. An env file that is a
// symlink, not a regular file, not ours, not 0600 or not as the init
// writes it (parseEnv) is an *EnvFileError.
func ReadEnv(stateDir string, getenv func(string) (string, bool), euid int) ([]Var, string, error) {
	sd, _, err := openExistingStateDir(stateDirCandidates(stateDir, getenv), euid)
	if err != nil {
		return nil, "", err
	}
	defer sd.close()
	path := filepath.Join(sd.path, envFileName)
	data, err := readEnvFileAt(sd.fd, euid)
	if errors.Is(err, unix.ENOENT) {
		return nil, path, fmt.Errorf("%w: %s has no %s", ErrNoState, sd.path, envFileName)
	}
	if err != nil {
		return nil, path, &EnvFileError{Path: path, Err: err}
	}
	vars, err := parseEnv(data)
	if err != nil {
		return nil, path, &EnvFileError{Path: path, Err: err}
	}
	return vars, path, nil
}

// readEnvFileAt reads the env file under dirfd: never through a symbolic
// link, never blocking on a FIFO (O_NONBLOCK; fstat then refuses it),
// and only after checkEnvFile accepted what was opened.
func readEnvFileAt(dirfd, euid int) ([]byte, error) {
	fd, err := fsx.Openat(dirfd, envFileName, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, errors.New("it is a symbolic link")
	}
	if err != nil {
		// One we may not open (root's 0600 file) is judged by what it
		// is, which says more than EACCES.
		var st unix.Stat_t
		if !errors.Is(err, unix.ENOENT) && fsx.Fstatat(dirfd, envFileName, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
			if cerr := checkEnvFile(&st, euid); cerr != nil {
				return nil, cerr
			}
		}
		return nil, fsx.Errno(err)
	}
	f := os.NewFile(uintptr(fd), envFileName)
	defer f.Close()
	var st unix.Stat_t
	if err := fsx.Fstat(fd, &st); err != nil {
		return nil, fsx.Errno(err)
	}
	if err := checkEnvFile(&st, euid); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxEnvFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxEnvFile {
		return nil, fmt.Errorf("larger than %d bytes", maxEnvFile)
	}
	return data, nil
}
