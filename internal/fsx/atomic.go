package fsx

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// AtomicFile is what WriteAt writes.
type AtomicFile struct {
	// Path names the file in errors; WriteAt writes by descriptor and
	// name, never through Path.
	Path string
	// Mode is the file's mode, exactly (fchmod, not subject to the
	// umask).
	Mode os.FileMode
	// Content is the whole new content.
	Content []byte
}

// TempError is a failure of WriteAt to create or write its temporary
// file: nothing was renamed, the old file is as it was. Its message is
// the wrapped error's, so that a caller can add its advice on where to
// write instead (render's DST hint on EACCES, EPERM or EROFS).
type TempError struct{ Err error }

func (e *TempError) Error() string { return e.Err.Error() }

func (e *TempError) Unwrap() error { return e.Err }

// WriteAt writes f.Content as name in the directory dirfd (an O_PATH
// descriptor or an open one), atomically, with mode f.Mode (not subject
// to the umask): a temporary file created next to it (exclusively, never
// through a symbolic link), written, given its mode, synced and closed,
// then renamed over name, and the directory synced. A name that is a
// mount point of its own (a file bind-mounted with a Kubernetes subPath)
// cannot be renamed over (EBUSY) and is rewritten in place instead,
// keeping its owner's mode when we may not change it. On failure the old
// file is as it was and the temporary file is removed, and nothing else;
// a failure before the rename is a *TempError. f.Path names the file in
// errors. Identity's state files go through it; templates and
// ConfigMap copies go through Stage, which shares its temporary file and
// in-place rules. The caller has reached dirfd by its own checked walk.
func WriteAt(dirfd int, name string, f AtomicFile) error {
	if IsMountRoot(dirfd, name) {
		return writeInPlace(dirfd, name, f)
	}
	tmp, err := writeTemp(dirfd, name, f, randomTempName)
	if err != nil {
		return &TempError{err}
	}
	err = Renameat(dirfd, tmp.name, dirfd, name)
	if errors.Is(err, unix.EBUSY) {
		// A kernel without STATX_ATTR_MOUNT_ROOT (before 5.8) did not
		// tell us it is a mount point; rename did.
		removeTemp(dirfd, tmp)
		return writeInPlace(dirfd, name, f)
	}
	if err != nil {
		removeTemp(dirfd, tmp)
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	// Make the rename itself durable; some filesystems cannot sync a
	// directory, which costs nothing but durability. dirfd may be
	// O_PATH, which fsync refuses; "." in it is the same directory.
	if d, err := Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
		_ = Fsync(d)
		Close(d)
	}
	return nil
}

// devIno identifies an inode.
type devIno struct{ dev, ino uint64 }

// tempFile is a temporary file writeTemp created: its name in the
// directory and the identity of the inode it made.
type tempFile struct {
	name string
	id   devIno
}

// tempTries is how many names writeTemp tries before it gives up.
const tempTries = 100

// tempPrefix and tempRandomBytes make every temporary name: the prefix
// and that many random bytes in hex (isTempName tells such a name).
const (
	tempPrefix      = ".nonroot-init-"
	tempRandomBytes = 6
)

// randomTempName is a fresh temporary name. getrandom(2) directly:
// crypto/rand would pull its FIPS machinery into a binary that only
// needs a unique name. Short whatever the destination's name is, so that
// it fits NAME_MAX.
func randomTempName() (string, error) {
	var b [tempRandomBytes]byte
	if _, err := Getrandom(b[:], 0); err != nil {
		return "", err
	}
	return tempPrefix + hex.EncodeToString(b[:]), nil
}

// errNoFreeName is createTemp finding every name it tried taken.
var errNoFreeName = errors.New("no free temporary name")

// createTemp creates a new, empty temporary file in dirfd (exclusively,
// never through a link, mode 0600), with names from tempName, and
// returns its descriptor and name.
func createTemp(dirfd int, tempName func() (string, error)) (int, string, error) {
	for range tempTries {
		n, err := tempName()
		if err != nil {
			return -1, "", fmt.Errorf("temporary name: %w", err)
		}
		fd, err := Openat(dirfd, n, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return -1, "", err
		}
		return fd, n, nil
	}
	return -1, "", errNoFreeName
}

// writeTemp writes f into a new temporary file next to name, with names
// from tempName, and returns it. On any error the temporary file is
// removed, and nothing else is.
func writeTemp(dirfd int, name string, f AtomicFile, tempName func() (string, error)) (tempFile, error) {
	var tmp tempFile
	fd, n, err := createTemp(dirfd, tempName)
	if errors.Is(err, errNoFreeName) {
		return tempFile{}, fmt.Errorf("write %s: no free temporary name after %d tries in %s; remove the %s* files there", f.Path, tempTries, filepath.Dir(f.Path), tempPrefix)
	}
	if err != nil {
		return tempFile{}, fmt.Errorf("write %s: %w", f.Path, err)
	}
	tmp.name = n
	file := os.NewFile(uintptr(fd), filepath.Join(filepath.Dir(f.Path), tmp.name))
	var st unix.Stat_t
	err = Fstat(fd, &st)
	if err != nil {
		// Without the inode the cleanup cannot tell the file is ours:
		// leave the empty file rather than risk removing another.
		file.Close()
		return tempFile{}, fmt.Errorf("write %s: %w", f.Path, err)
	}
	tmp.id = devIno{uint64(st.Dev), st.Ino}
	err = writeAll(file, f)
	if cerr := file.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		removeTemp(dirfd, tmp)
		// The temporary file's name means nothing to the reader.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return tempFile{}, fmt.Errorf("write %s: %w", f.Path, err)
	}
	return tmp, nil
}

// removeTemp removes the temporary file t if its name still leads to the
// inode writeTemp created: whoever else can write the directory may have
// renamed another file onto the name meanwhile, and that one is theirs.
// (The check and the unlink are two calls; a swap between them is the
// remaining window, which no unlink-by-descriptor call closes.)
func removeTemp(dirfd int, t tempFile) {
	var st unix.Stat_t
	if err := Fstatat(dirfd, t.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return
	}
	if (devIno{uint64(st.Dev), st.Ino}) != t.id {
		return
	}
	_ = Unlinkat(dirfd, t.name, 0)
}

func writeAll(file *os.File, f AtomicFile) error {
	if _, err := file.Write(f.Content); err != nil {
		return err
	}
	// fchmod is not subject to the umask, so the mode is exactly f.Mode.
	if err := file.Chmod(f.Mode); err != nil {
		return err
	}
	return file.Sync()
}

// writeInPlace rewrites the existing file name: truncate after writing,
// so that a shorter content leaves no tail. Not atomic, but nothing reads
// it yet: COMMAND has not started. It never follows a link (O_NOFOLLOW)
// and writes only a regular file that is the root of a mount, as far as
// the kernel tells (5.8 and later): a name that another user turned into
// a hard link to someone else's file is left alone.
func writeInPlace(dirfd int, name string, f AtomicFile) error {
	fd, err := Openat(dirfd, name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("write %s in place (a mount point, e.g. a subPath): %w", f.Path, err)
	}
	file := os.NewFile(uintptr(fd), f.Path)
	if err := checkMountRoot(fd); err != nil {
		file.Close()
		return fmt.Errorf("write %s in place (a mount point, e.g. a subPath): %w", f.Path, err)
	}
	// The mode is set before the bytes go in, so that content meant
	// for the owner only (a template holding a secret) is never readable
	// by others, not even for a moment. The file may belong to someone
	// else (the kubelet made it); its mode is then theirs to choose,
	// unless it would let others read owner-only content.
	err = file.Chmod(f.Mode)
	if errors.Is(err, fs.ErrPermission) {
		err = nil
		var st unix.Stat_t
		if serr := unix.Fstat(fd, &st); serr != nil {
			err = serr
		} else if extra := os.FileMode(st.Mode&0o077) &^ f.Mode.Perm(); f.Mode.Perm()&0o077 == 0 && extra != 0 {
			err = fmt.Errorf("its content is for its owner only (it holds a secret), but the file is mode %04o, owned by uid %d, and we cannot change that; make the mounted file mode 0600 (defaultMode), or render it to a directory instead of a subPath file", st.Mode&0o7777, st.Uid)
		}
	}
	if err == nil {
		_, err = file.Write(f.Content)
	}
	if err == nil {
		err = file.Truncate(int64(len(f.Content)))
	}
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s in place (a mount point, e.g. a subPath): %w", f.Path, err)
	}
	return nil
}

// checkMountRoot checks that the open file fd is a regular file and,
// when the kernel says, the root of a mount.
func checkMountRoot(fd int) error {
	var stx unix.Statx_t
	if err := Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_TYPE, &stx); err != nil {
		return err
	}
	if stx.Mode&unix.S_IFMT != unix.S_IFREG {
		return errors.New("it is not a regular file")
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return errors.New("it is not a mount point any more (was it replaced?)")
	}
	return nil
}

// IsMountRoot reports whether name in dirfd is a regular file that is
// the root of a mount: a file bind-mounted on its own, which rename
// cannot replace (EBUSY), so WriteAt rewrites it in place.
func IsMountRoot(dirfd int, name string) bool {
	var stx unix.Statx_t
	if err := Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE, &stx); err != nil {
		return false
	}
	return stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 &&
		stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0 &&
		stx.Mode&unix.S_IFMT == unix.S_IFREG
}
