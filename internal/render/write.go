package render

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// Write writes each file atomically: a temporary file in the destination
// directory, written, synced, closed and given its mode, then renamed
// over the destination. A destination that is a mount point of its own (a
// single file bind-mounted with a Kubernetes subPath) cannot be renamed
// over (EBUSY) and is written in place instead. Directories below
// File.Dir are created and entered without following symbolic links. It
// goes on after a failure and returns every one.
func Write(files []File) error {
	var errs []error
	for _, f := range files {
		if err := writeOne(f); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return &writeError{problems: errs}
	}
	return nil
}

// writeError is every file Write could not write. Each file is either
// wholly old or wholly new.
type writeError struct {
	problems []error
}

func (e *writeError) Error() string { return "NONROOT_TEMPLATES: " + joinProblems(e.problems) }

func (e *writeError) Unwrap() []error { return e.problems }

func writeOne(f File) error {
	dirfd, err := openDestDir(f.Dir, filepath.Dir(f.Rel))
	if err != nil {
		return err
	}
	defer fsx.Close(dirfd)
	return writeAt(dirfd, filepath.Base(f.Rel), f, dirHint)
}

// WriteAt writes f.Content as name in the directory dirfd, atomically,
// with mode f.Mode (not subject to the umask): a temporary file created
// next to it (exclusively, never through a symbolic link), written,
// given its mode, synced and closed, then renamed over name, and the
// directory synced. A name that is a mount point of its own (a file
// bind-mounted with a Kubernetes subPath) cannot be renamed over (EBUSY)
// and is rewritten in place instead, keeping its owner's mode when we
// may not change it. On failure the old file is as it was and the
// temporary file is removed, and nothing else. f.Path() names the file
// in errors. It is the one atomic writer: templates, ConfigMap copies and
// identity's state files all go through it.
func WriteAt(dirfd int, name string, f File) error {
	return writeAt(dirfd, name, f, func(error) string { return "" })
}

// writeAt is WriteAt with hint's advice added to a failure to create the
// temporary file.
func writeAt(dirfd int, name string, f File, hint func(error) string) error {
	if isMountRoot(dirfd, name) {
		return writeInPlace(dirfd, name, f)
	}
	tmp, err := writeTemp(dirfd, name, f, randomTempName)
	if err != nil {
		return fmt.Errorf("%w%s", err, hint(err))
	}
	err = fsx.Renameat(dirfd, tmp.name, dirfd, name)
	if errors.Is(err, unix.EBUSY) {
		// A kernel without STATX_ATTR_MOUNT_ROOT (before 5.8) did not
		// tell us it is a mount point; rename did.
		removeTemp(dirfd, tmp)
		return writeInPlace(dirfd, name, f)
	}
	if err != nil {
		removeTemp(dirfd, tmp)
		return fmt.Errorf("write %s: %w", f.Path(), err)
	}
	// Make the rename itself durable; some filesystems cannot sync a
	// directory, which costs nothing but durability.
	_ = fsx.Fsync(dirfd)
	return nil
}

// openDestDir creates and opens dir (following links: the operator chose
// it), then creates and opens each component of rel below it without
// following links.
func openDestDir(dir, rel string) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return -1, fmt.Errorf("create DST %s: %w", dir, err)
	}
	fd, err := fsx.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open DST %s: %w", dir, err)
	}
	if rel == "." {
		return fd, nil
	}
	path := dir
	for _, comp := range strings.Split(rel, "/") {
		path = filepath.Join(path, comp)
		if comp == ".." || comp == "." || comp == "" {
			fsx.Close(fd)
			return -1, fmt.Errorf("%s: refusing a path that leaves DST %s", path, dir)
		}
		if err := fsx.Mkdirat(fd, comp, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			fsx.Close(fd)
			return -1, fmt.Errorf("create %s: %w", path, err)
		}
		next, err := fsx.Openat(fd, comp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		fsx.Close(fd)
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return -1, fmt.Errorf("%s is a symbolic link or not a directory; nonroot-init never writes through a link in DST: remove it", path)
		}
		if err != nil {
			return -1, fmt.Errorf("open %s: %w", path, err)
		}
		fd = next
	}
	return fd, nil
}

// tempFile is a temporary file writeTemp created: its name in the
// directory and the identity of the inode it made.
type tempFile struct {
	name string
	id   devIno
}

// tempTries is how many names writeTemp tries before it gives up.
const tempTries = 100

// randomTempName is a fresh temporary name. getrandom(2) directly:
// crypto/rand would pull its FIPS machinery into a binary that only
// needs a unique name. Short whatever the destination's name is, so that
// it fits NAME_MAX.
func randomTempName() (string, error) {
	var b [6]byte
	if _, err := fsx.Getrandom(b[:], 0); err != nil {
		return "", err
	}
	return ".nonroot-init-" + hex.EncodeToString(b[:]), nil
}

// writeTemp writes f into a new temporary file next to name, with names
// from tempName, and returns it. On any error the temporary file is
// removed, and nothing else is.
func writeTemp(dirfd int, name string, f File, tempName func() (string, error)) (tempFile, error) {
	var tmp tempFile
	fd := -1
	for range tempTries {
		n, err := tempName()
		if err != nil {
			return tempFile{}, fmt.Errorf("write %s: temporary name: %w", f.Path(), err)
		}
		fd, err = fsx.Openat(dirfd, n, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return tempFile{}, fmt.Errorf("write %s: %w", f.Path(), err)
		}
		tmp.name = n
		break
	}
	if fd < 0 {
		return tempFile{}, fmt.Errorf("write %s: no free temporary name after %d tries in %s; remove the .nonroot-init-* files there", f.Path(), tempTries, filepath.Dir(f.Path()))
	}
	file := os.NewFile(uintptr(fd), filepath.Join(filepath.Dir(f.Path()), tmp.name))
	var st unix.Stat_t
	err := fsx.Fstat(fd, &st)
	if err != nil {
		// Without the inode the cleanup cannot tell the file is ours:
		// leave the empty file rather than risk removing another.
		file.Close()
		return tempFile{}, fmt.Errorf("write %s: %w", f.Path(), err)
	}
	tmp.id = devIno{uint64(st.Dev), st.Ino}
	err = writeAll(file, f)
	if cerr := file.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		removeTemp(dirfd, tmp)
		return tempFile{}, fmt.Errorf("write %s: %w", f.Path(), err)
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
	if err := fsx.Fstatat(dirfd, t.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return
	}
	if (devIno{uint64(st.Dev), st.Ino}) != t.id {
		return
	}
	_ = fsx.Unlinkat(dirfd, t.name, 0)
}

func writeAll(file *os.File, f File) error {
	if _, err := file.Write(f.Content); err != nil {
		return err
	}
	// fchmod is not subject to the umask, so the mode is exactly
	// outputMode's.
	if err := file.Chmod(f.Mode); err != nil {
		return err
	}
	return file.Sync()
}

// writeInPlace rewrites the existing file name: truncate after writing,
// so that a shorter content leaves no tail. Not atomic, but nothing reads
// it yet: COMMAND has not started.
func writeInPlace(dirfd int, name string, f File) error {
	fd, err := fsx.Openat(dirfd, name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("write %s in place (a mount point, e.g. a subPath): %w", f.Path(), err)
	}
	file := os.NewFile(uintptr(fd), f.Path())
	_, err = file.Write(f.Content)
	if err == nil {
		err = file.Truncate(int64(len(f.Content)))
	}
	if err == nil {
		// The file may belong to someone else (the kubelet made it);
		// its mode is then theirs to choose.
		if cerr := file.Chmod(f.Mode); cerr != nil && !errors.Is(cerr, fs.ErrPermission) {
			err = cerr
		}
	}
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s in place (a mount point, e.g. a subPath): %w", f.Path(), err)
	}
	return nil
}

// isMountRoot reports whether name in dirfd is the root of a mount: a
// file bind-mounted on its own, which rename cannot replace (EBUSY).
func isMountRoot(dirfd int, name string) bool {
	var stx unix.Statx_t
	if err := fsx.Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE, &stx); err != nil {
		return false
	}
	return stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 &&
		stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0 &&
		stx.Mode&unix.S_IFMT == unix.S_IFREG
}

func dirHint(err error) string {
	switch {
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return fmt.Sprintf(" (the directory is not writable by uid %d; choose a DST in a writable volume such as an emptyDir, or under /tmp)", os.Geteuid())
	case errors.Is(err, unix.EROFS):
		return " (a read-only filesystem; mount an emptyDir there or choose a DST under /tmp)"
	}
	return ""
}

// checkDest checks, without writing, that f can be written: the existing
// part of its directory chain holds directories, none of them a
// symbolic link below File.Dir, and the nearest existing one is writable
// by our effective IDs (or, for a mount-point file, the file itself is).
func checkDest(f File) error {
	// The configured directory, or its nearest existing ancestor.
	existing := f.Dir
	for {
		info, err := os.Stat(existing)
		if err == nil {
			if !info.IsDir() {
				return fmt.Errorf("%s: DST %s is not a directory", f.Source, existing)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || existing == "/" {
			return fmt.Errorf("%s: DST %s: %w", f.Source, existing, err)
		}
		existing = filepath.Dir(existing)
	}
	if existing == f.Dir {
		path := f.Dir
		comps := strings.Split(f.Rel, "/")
		for i, comp := range comps {
			path = filepath.Join(path, comp)
			info, err := os.Lstat(path)
			if errors.Is(err, fs.ErrNotExist) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", f.Source, err)
			}
			last := i == len(comps)-1
			switch {
			case !last && info.Mode()&fs.ModeSymlink != 0:
				return fmt.Errorf("%s: %s is a symbolic link inside DST %s; nonroot-init never writes through one: remove it", f.Source, path, f.Dir)
			case !last && !info.IsDir():
				return fmt.Errorf("%s: %s is in the way: it is not a directory", f.Source, path)
			case last && info.IsDir():
				return fmt.Errorf("%s: %s is a directory in the way of the file", f.Source, path)
			case last && info.Mode().IsRegular() && isMountRoot(unix.AT_FDCWD, path):
				if err := fsx.Faccessat(unix.AT_FDCWD, path, unix.W_OK, unix.AT_EACCESS); err != nil {
					return fmt.Errorf("%s: %s is a mount point (a subPath) and not writable by uid %d: %w", f.Source, path, os.Geteuid(), fsx.Errno(err))
				}
				return nil
			}
			if !last {
				existing = path
			}
		}
	}
	if err := fsx.Faccessat(unix.AT_FDCWD, existing, unix.W_OK|unix.X_OK, unix.AT_EACCESS); err != nil {
		return fmt.Errorf("%s: cannot write into %s: %w%s", f.Source, existing, fsx.Errno(err), dirHint(err))
	}
	return nil
}
