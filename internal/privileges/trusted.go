package privileges

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// UntrustedError is a file root does not take facts from in step 1,
// because someone other than root could have written it: what it says
// about groups and GIDs would be that user's choice, applied with root's
// power.
type UntrustedError struct {
	Path string // the file
	Why  string // who could have written it, e.g. "group 0 can write it (owner 0:0, mode 0664)"
}

func (e *UntrustedError) Error() string { return e.Path + ": " + e.Why }

// ReadTrusted reads the file at the absolute path if root can trust it:
// a regular file owned by root that neither group nor others may write,
// reached from / without a symbolic link, through directories owned by
// root that no one else may rename entries of (not writable by group or
// others, or sticky). Anything else is an *UntrustedError saying who
// could have written it. A missing file (or directory on the way) reads
// as nil: no one but root could have removed it. The file is judged and
// read through descriptors of what was checked; it is never opened for
// reading before it is known to be a regular file (a FIFO would hang,
// a device could act on open).
func ReadTrusted(path string) ([]byte, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("%q is not an absolute path", path)
	}
	path = filepath.Clean(path)
	dir, err := fsx.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/", Err: fsx.Errno(err)}
	}
	defer func() { fsx.Close(dir) }()
	cur := "/"
	names := strings.Split(path[1:], "/")
	for i, name := range names {
		var st unix.Stat_t
		if err := fsx.Fstat(dir, &st); err != nil {
			return nil, &os.PathError{Op: "fstat", Path: cur, Err: fsx.Errno(err)}
		}
		if why := dirWriters(&st); why != "" {
			return nil, &UntrustedError{Path: path, Why: fmt.Sprintf("the directory %s on its path %s", cur, why)}
		}
		cur = filepath.Join(cur, name)
		if i == len(names)-1 {
			return readTrustedAt(dir, name, path)
		}
		next, err := fsx.Openat(dir, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		switch {
		case errors.Is(err, unix.ENOENT):
			return nil, nil
		case (errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP)) && isSymlinkAt(dir, name):
			return nil, &UntrustedError{Path: path, Why: fmt.Sprintf("the directory %s on its path is a symbolic link, which root does not follow there", cur)}
		case err != nil:
			return nil, &os.PathError{Op: "open", Path: cur, Err: fsx.Errno(err)}
		}
		fsx.Close(dir)
		dir = next
	}
	return nil, fmt.Errorf("%q names no file", path)
}

// readTrustedAt judges the file name in the directory dirfd (trusted:
// no one but root can swap its entries), then reads it.
func readTrustedAt(dirfd int, name, path string) ([]byte, error) {
	pfd, err := fsx.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: fsx.Errno(err)}
	}
	var st unix.Stat_t
	err = fsx.Fstat(pfd, &st)
	fsx.Close(pfd)
	if err != nil {
		return nil, &os.PathError{Op: "fstat", Path: path, Err: fsx.Errno(err)}
	}
	if why := fileWriters(&st); why != "" {
		return nil, &UntrustedError{Path: path, Why: why}
	}
	fd, err := fsx.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: fsx.Errno(err)}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var again unix.Stat_t
	if err := fsx.Fstat(fd, &again); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: path, Err: fsx.Errno(err)}
	}
	if again.Dev != st.Dev || again.Ino != st.Ino {
		return nil, &UntrustedError{Path: path, Why: "it was replaced while it was checked"}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// isSymlinkAt reports whether name in dirfd is a symbolic link.
func isSymlinkAt(dirfd int, name string) bool {
	var st unix.Stat_t
	return fsx.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

// fileWriters says who besides root could have written the file of stat
// st, as a phrase ("group 0 can write it (owner 0:0, mode 0664)"), or ""
// when no one: a regular file owned by root that neither group nor
// others may write. An ACL granting write shows in the group bits (its
// mask).
func fileWriters(st *unix.Stat_t) string {
	mode := st.Mode & 0o7777
	owner := fmt.Sprintf("(owner %d:%d, mode %04o)", st.Uid, st.Gid, mode)
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return "it is a symbolic link, which root does not follow there"
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return "it is not a regular file " + owner
	case st.Uid != 0:
		return fmt.Sprintf("uid %d owns it and can write it %s", st.Uid, owner)
	case mode&0o002 != 0:
		return "every user can write it " + owner
	case mode&0o020 != 0:
		return fmt.Sprintf("group %d can write it %s", st.Gid, owner)
	}
	return ""
}

// dirWriters says who besides root could rename the entries of the
// directory of stat st, and so put a file of their own in the place of
// one below it, or "" when no one: owned by root, and not writable by
// group or others unless sticky (in a sticky directory only an entry's
// owner may rename it).
func dirWriters(st *unix.Stat_t) string {
	mode := st.Mode & 0o7777
	owner := fmt.Sprintf("(owner %d:%d, mode %04o)", st.Uid, st.Gid, mode)
	switch {
	case st.Uid != 0:
		return fmt.Sprintf("belongs to uid %d, who can replace what is in it %s", st.Uid, owner)
	case mode&unix.S_ISVTX != 0:
		return ""
	case mode&0o002 != 0:
		return "lets every user replace what is in it " + owner
	case mode&0o020 != 0:
		return fmt.Sprintf("lets group %d replace what is in it %s", st.Gid, owner)
	}
	return ""
}
