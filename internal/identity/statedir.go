package identity

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/fsx"
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
		fsx.Close(d.fd)
	}
}

// openStateDir creates (0700) or opens the first usable candidate, and
// returns why each candidate before it was skipped; when none is usable,
// the error joins every reason. A candidate is reached through its
// parent's real path (symbolic links resolved once, then no component may
// be one), and only when no directory on that path lets another user
// rename what is below it (hostileDir): COMMAND's shell reads
// STATE_DIR/home/.bashrc by name long after our checks, so every
// directory of the path must stay as it was.
func openStateDir(candidates []string, euid int) (sd *stateDir, skipped []error, err error) {
	sd, skipped = firstStateDir(candidates, euid, ensureDirAt)
	switch {
	case sd != nil:
		return sd, skipped, nil
	case len(skipped) == 0:
		return nil, nil, errors.New("no candidate directory")
	}
	return nil, skipped, errlist.Join(skipped...)
}

// openParent resolves the parent directory of the candidate p and opens
// it (O_PATH) if no directory of its real path is hostile to uid. It
// returns the real path. Errors name the candidate.
func openParent(p string, uid int) (string, int, error) {
	parent, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return "", -1, fmt.Errorf("%s: parent: %w", p, err)
	}
	pfd, err := openDirNoFollow(parent, func(dir string, st *unix.Stat_t) error { return hostileDir(dir, st, uid) })
	if err != nil {
		var he *HostileDirError
		if errors.As(err, &he) {
			he.Candidate = filepath.Join(parent, filepath.Base(p))
			return "", -1, he
		}
		return "", -1, fmt.Errorf("%s: parent: %w", p, err)
	}
	return parent, pfd, nil
}

// HostileDirError is a STATE_DIR candidate skipped because a directory
// on its path lets another user rename its entries: that user could move
// the state directory away and put their own (a home whose .bashrc
// COMMAND's shell runs) in its place.
type HostileDirError struct {
	Candidate string // the STATE_DIR that was skipped
	Dir       string // the directory on its path that another user controls
	Why       string
}

func (e *HostileDirError) Error() string { return e.What() + "; " + e.Fix() }

// What says what is wrong, for doctor's problem.
func (e *HostileDirError) What() string {
	return fmt.Sprintf("STATE_DIR candidate %s skipped: %s %s, so another user could rename what is below it and plant their own files", e.Candidate, e.Dir, e.Why)
}

// Fix says what to change.
func (e *HostileDirError) Fix() string {
	return fmt.Sprintf("make %s sticky (chmod +t) or writable only by its owner (chmod go-w), or point XDG_RUNTIME_DIR, TMPDIR or NONROOT_STATE_DIR elsewhere", e.Dir)
}

// hostileDir returns a *HostileDirError when a user other than uid and
// root can rename entries of the directory dir (stat st): it belongs to
// another non-root UID (who may chmod it at will), or group or others may
// write it and it is not sticky. A sticky directory (/tmp) lets each user
// rename only their own entries.
func hostileDir(dir string, st *unix.Stat_t, uid int) error {
	switch {
	case st.Uid != 0 && int(st.Uid) != uid:
		return &HostileDirError{Dir: dir, Why: fmt.Sprintf("belongs to uid %d", st.Uid)}
	case st.Mode&0o022 != 0 && st.Mode&unix.S_ISVTX == 0:
		return &HostileDirError{Dir: dir, Why: fmt.Sprintf("has mode %04o (group or others may write it, no sticky bit)", st.Mode&0o7777)}
	}
	return nil
}

// ensureDirAt makes name under the directory dirfd with mode 0700 unless
// it exists, then opens it without following a symlink and checks that
// it is a directory owned by euid (our effective UID) that neither group nor
// others may write: anything else could have been planted by another
// user of a shared /tmp.
func ensureDirAt(dirfd int, name string, euid int) (int, error) {
	if err := fsx.Mkdirat(dirfd, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, &os.PathError{Op: "mkdir", Path: name, Err: fsx.Errno(err)}
	}
	return openOwnDirAt(dirfd, name, euid)
}

// openOwnDirAt opens the directory name under dirfd without following a
// symlink and checks it as ensureDirAt does (checkOwnDir). A missing one
// is an error that errors.Is(err, unix.ENOENT).
func openOwnDirAt(dirfd int, name string, euid int) (int, error) {
	fd, err := fsx.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return -1, fmt.Errorf("is not a directory (a symbolic link or a file): %w", fsx.Errno(err))
		}
		return -1, &os.PathError{Op: "open", Path: name, Err: fsx.Errno(err)}
	}
	var st unix.Stat_t
	if err := fsx.Fstat(fd, &st); err != nil {
		fsx.Close(fd)
		return -1, &os.PathError{Op: "fstat", Path: name, Err: fsx.Errno(err)}
	}
	if err := checkOwnDir(st, euid); err != nil {
		fsx.Close(fd)
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

// openExistingStateDir opens the STATE_DIR a running init uses without
// creating anything: the first candidate that exists and passes
// openStateDir's checks (a parent no other user controls, a directory of
// ours that is no symlink and that group and others cannot write). A
// missing candidate is one the init did not use (it would have made it),
// so the search goes on past it, as past a refused one. With none found,
// the error is ErrNoState, joined with why each candidate was skipped.
func openExistingStateDir(candidates []string, euid int) (*stateDir, []error, error) {
	sd, skipped := firstStateDir(candidates, euid, openOwnDirAt)
	switch {
	case sd != nil:
		return sd, skipped, nil
	case len(skipped) == 0:
		return nil, nil, ErrNoState
	}
	return nil, skipped, fmt.Errorf("%w: %w", ErrNoState, errlist.Join(skipped...))
}

// firstStateDir returns the first candidate that open (ensureDirAt, or
// openOwnDirAt to make nothing) accepts in its parent, reached as
// openParent allows, and why each one before it was skipped.
func firstStateDir(candidates []string, euid int, open func(dirfd int, name string, euid int) (int, error)) (*stateDir, []error) {
	var skipped []error
	for _, p := range candidates {
		parent, pfd, err := openParent(p, euid)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		p = filepath.Join(parent, filepath.Base(p))
		fd, err := open(pfd, filepath.Base(p), euid)
		fsx.Close(pfd)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("%s: %w", p, err))
			continue
		}
		return &stateDir{path: p, fd: fd}, skipped
	}
	return nil, skipped
}

// inspectStateDir judges the candidates as openStateDir does, without
// creating anything, for doctor: the parent must pass the same checks, an
// existing directory must be ours, a missing one needs a parent we may
// write.
func inspectStateDir(candidates []string, euid int) (dir string, skipped []error, err error) {
	for _, p := range candidates {
		parent, pfd, err := openParent(p, euid)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		p = filepath.Join(parent, filepath.Base(p))
		var st unix.Stat_t
		err = fsx.Errno(fsx.Fstatat(pfd, filepath.Base(p), &st, unix.AT_SYMLINK_NOFOLLOW))
		switch {
		case err == nil:
			err = checkOwnDir(st, euid)
		case errors.Is(err, unix.ENOENT):
			if err = fsx.Faccessat(pfd, ".", unix.W_OK|unix.X_OK, unix.AT_EACCESS); err != nil {
				err = fmt.Errorf("parent not writable: %w", fsx.Errno(err))
			}
		}
		fsx.Close(pfd)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("%s: %w", p, err))
			continue
		}
		return p, skipped, nil
	}
	if len(skipped) == 0 {
		return "", nil, errors.New("no candidate directory")
	}
	return "", skipped, errlist.Join(skipped...)
}

// writeFileAt writes data to name under dirfd with fsx.WriteAt, the
// one atomic writer: a temporary file created exclusively (never through
// a symlink), given mode, synced, then renamed over name; on failure the
// old file stays and the temporary one is removed.
func writeFileAt(dirfd int, name string, data []byte, mode uint32) error {
	return fsx.WriteAt(dirfd, name, fsx.AtomicFile{Path: filepath.Clean(name), Mode: fs.FileMode(mode), Content: data})
}
