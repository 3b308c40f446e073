package identity

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// openDirNoFollow opens the absolute directory dir one component at a
// time from /, each with O_NOFOLLOW, so that no component may be a
// symbolic link: what is opened is what was checked, whatever is renamed
// meanwhile. check, when not nil, judges each directory on the way (/
// first, dir last) from its fstat. It returns an O_PATH descriptor of dir.
func openDirNoFollow(dir string, check func(path string, st *unix.Stat_t) error) (int, error) {
	if !filepath.IsAbs(dir) {
		return -1, fmt.Errorf("%q is not an absolute path", dir)
	}
	dir = filepath.Clean(dir)
	fd, err := fsx.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: "/", Err: fsx.Errno(err)}
	}
	cur := "/"
	var names []string
	if dir != "/" {
		names = strings.Split(dir[1:], "/")
	}
	for i := -1; i < len(names); i++ {
		if i >= 0 { // i == -1 checks / itself
			parent := fd
			cur = filepath.Join(cur, names[i])
			next, err := fsx.Openat(parent, names[i], unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				err = componentErr(parent, names[i], cur, err)
				fsx.Close(parent)
				return -1, err
			}
			fsx.Close(parent)
			fd = next
		}
		if check == nil {
			continue
		}
		var st unix.Stat_t
		if err := fsx.Fstat(fd, &st); err != nil {
			fsx.Close(fd)
			return -1, &os.PathError{Op: "fstat", Path: cur, Err: fsx.Errno(err)}
		}
		if err := check(cur, &st); err != nil {
			fsx.Close(fd)
			return -1, err
		}
	}
	return fd, nil
}

// errSymlink marks a path refused because a component is a symbolic link.
var errSymlink = errors.New("is a symbolic link, which nonroot-init never follows there")

// componentErr says why name under dirfd (at path) could not be opened
// as a directory, naming a symbolic link as such.
func componentErr(dirfd int, name, path string, err error) error {
	if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		var st unix.Stat_t
		if fsx.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return fmt.Errorf("%s %w", path, errSymlink)
		}
	}
	return &os.PathError{Op: "open", Path: path, Err: fsx.Errno(err)}
}

// openFileNoFollow opens the file at the absolute path with flags (which
// get O_NOFOLLOW) through openDirNoFollow: neither the file nor any
// directory on the way may be a symbolic link.
func openFileNoFollow(path string, flags int) (*os.File, error) {
	pfd, err := openDirNoFollow(filepath.Dir(path), nil)
	if err != nil {
		return nil, err
	}
	defer fsx.Close(pfd)
	fd, err := fsx.Openat(pfd, filepath.Base(path), flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, componentErr(pfd, filepath.Base(path), path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// writableFile reports whether path is a regular file that our effective
// IDs may write, reached without a symbolic link anywhere on the way: a
// symlinked /etc/passwd counts as not writable (SPEC.md, hostile files),
// since it would be written where the link's author chose.
func writableFile(path string) error {
	f, err := openFileNoFollow(path, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", path, err)
	}
	// O_PATH|O_NOFOLLOW opens a symbolic link itself rather than failing.
	if fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%s is not writable: it %w", path, errSymlink)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not writable: not a regular file (%s)", path, fi.Mode().Type())
	}
	return writable(path)
}
