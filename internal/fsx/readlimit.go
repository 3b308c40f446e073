package fsx

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrNotRegular is what ReadFileLimit's error Is when the path is not a
// regular file (a directory, a named pipe, a device).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is what ReadFileLimit's error Is when the file holds more
// than the limit.
var ErrTooLarge = errors.New("file too large")

// ReadFileLimit reads the regular file at path, of at most max bytes.
// Symbolic links are followed (a Kubernetes Secret volume's names are
// links into ..data). The file is opened with O_NONBLOCK, so that a
// named pipe nobody writes cannot hang the caller: it is refused once
// fstat shows what it is, as is any other file that is not regular. A
// size above max fails before anything is read; the read itself stops
// one byte past max, which catches a file that grows meanwhile, or whose
// size fstat does not tell (a /proc file says 0). Errors name path,
// never the content: open's errno in an *os.PathError (errors.Is
// fs.ErrNotExist, fs.ErrPermission), or one that Is ErrNotRegular or
// ErrTooLarge.
func ReadFileLimit(path string, max int64) ([]byte, error) {
	fd, err := Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if errors.Is(err, unix.ENXIO) {
		// open(2) of a socket, or of a device with no driver behind it.
		return nil, fmt.Errorf("%s: open: %w: %w", path, Errno(err), ErrNotRegular)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: Errno(err)}
	}
	defer Close(fd)
	var st unix.Stat_t
	if err := Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: path, Err: Errno(err)}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%s is a %s: %w", path, fileKind(st.Mode), ErrNotRegular)
	}
	if st.Size > max {
		return nil, fmt.Errorf("%s is %d bytes, above the limit of %d: %w", path, st.Size, max, ErrTooLarge)
	}
	buf := make([]byte, 0, min(st.Size, max)+1)
	for int64(len(buf)) <= max {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := min(int64(cap(buf)), max+1)
		n, err := Read(fd, buf[len(buf):room])
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: Errno(err)}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
	return nil, fmt.Errorf("%s holds more than the limit of %d bytes: %w", path, max, ErrTooLarge)
}

// Read is read(2): one call, which may read less than len(b).
func Read(fd int, b []byte) (int, error) {
	return call("read", func() (int, error) { return unix.Read(fd, b) })
}

// fileKind names a file type that is not a regular file's.
func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFIFO:
		return "named pipe"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "device"
	case unix.S_IFLNK:
		return "symbolic link"
	}
	return "special file"
}
