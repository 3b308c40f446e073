package identity

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// stateDirName is the directory made under $XDG_RUNTIME_DIR, $TMPDIR or
// /tmp when NONROOT_STATE_DIR is not set.
const stateDirName = "nonroot-init"

// defaultTmp is the last base STATE_DIR falls back to (SPEC.md, settings).
const defaultTmp = "/tmp"

// stateDirCandidates returns where STATE_DIR may go, best first: the
// explicit setting alone, else $XDG_RUNTIME_DIR, $TMPDIR and /tmp, each
// with /nonroot-init added. Relative and empty bases are skipped.
func stateDirCandidates(explicit string, getenv func(string) (string, bool)) []string {
	if explicit != "" {
		return []string{filepath.Clean(explicit)}
	}
	var out []string
	seen := map[string]bool{}
	for _, key := range []string{"XDG_RUNTIME_DIR", "TMPDIR", ""} {
		base := defaultTmp
		if key != "" {
			v, _ := getenv(key)
			base = v
		}
		if !filepath.IsAbs(base) {
			continue
		}
		p := filepath.Join(base, stateDirName)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// stateDir is an open STATE_DIR: every file in it is reached relative to
// fd, so a symlink planted after the checks is never followed.
type stateDir struct {
	path string
	fd   int
}

func (d *stateDir) close() {
	if d != nil {
		unix.Close(d.fd)
	}
}

// openStateDir creates (0700) or opens the first usable candidate. It
// returns the reason each candidate was refused when none is usable.
func openStateDir(candidates []string) (*stateDir, error) {
	var errs []error
	for _, p := range candidates {
		pfd, err := unix.Open(filepath.Dir(p), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: open parent: %w", p, err))
			continue
		}
		fd, err := ensureDirAt(pfd, filepath.Base(p))
		unix.Close(pfd)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		return &stateDir{path: p, fd: fd}, nil
	}
	if len(errs) == 0 {
		return nil, errors.New("no candidate directory")
	}
	return nil, joinErrs(errs)
}

// ensureDirAt makes name under the directory dirfd with mode 0700 unless
// it exists, then opens it without following a symlink and checks that
// it is a directory owned by our effective UID that neither group nor
// others may write: anything else could have been planted by another
// user of a shared /tmp.
func ensureDirAt(dirfd int, name string) (int, error) {
	if err := unix.Mkdirat(dirfd, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, &os.PathError{Op: "mkdir", Path: name, Err: err}
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return -1, fmt.Errorf("is not a directory (a symbolic link or a file): %w", err)
		}
		return -1, &os.PathError{Op: "open", Path: name, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	if err := checkOwnDir(st, os.Geteuid()); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// checkOwnDir accepts a directory owned by uid that neither group nor
// others may write.
func checkOwnDir(st unix.Stat_t, uid int) error {
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return errors.New("is not a directory")
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("is owned by uid %d, not by us (uid %d)", st.Uid, uid)
	}
	if st.Mode&0o022 != 0 {
		return fmt.Errorf("mode %04o lets group or others write it", st.Mode&0o7777)
	}
	return nil
}

// inspectStateDir judges the candidates without creating anything, for
// doctor: an existing directory must pass the same checks, a missing one
// needs a parent we may write.
func inspectStateDir(candidates []string) (string, error) {
	var errs []error
	for _, p := range candidates {
		var st unix.Stat_t
		err := unix.Lstat(p, &st)
		switch {
		case err == nil:
			if err := checkOwnDir(st, os.Geteuid()); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p, err))
				continue
			}
			return p, nil
		case errors.Is(err, unix.ENOENT):
			if err := unix.Faccessat(unix.AT_FDCWD, filepath.Dir(p), unix.W_OK|unix.X_OK, unix.AT_EACCESS); err != nil {
				errs = append(errs, fmt.Errorf("%s: parent not writable: %w", p, err))
				continue
			}
			return p, nil
		default:
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
	}
	if len(errs) == 0 {
		return "", errors.New("no candidate directory")
	}
	return "", joinErrs(errs)
}

// writeFileAt writes data to name under dirfd atomically: a temporary
// file created exclusively (never through a symlink), synced, then
// renamed over name.
func writeFileAt(dirfd int, name string, data []byte, mode uint32) error {
	tmp := "." + name + ".tmp-" + strconv.Itoa(os.Getpid())
	_ = unix.Unlinkat(dirfd, tmp, 0) // a leftover of a crashed run; ours, the directory is 0700
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if err != nil {
		return &os.PathError{Op: "create", Path: tmp, Err: err}
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(os.FileMode(mode)) // the umask may have taken bits away
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(dirfd, tmp, dirfd, name)
	}
	if err != nil {
		_ = unix.Unlinkat(dirfd, tmp, 0)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// joinErrs joins errors on one line, for a log attribute or a doctor fact.
func joinErrs(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}
