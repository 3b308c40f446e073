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

	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// Write writes each file atomically: a temporary file in the destination
// directory, written, synced, closed and given its mode, then renamed
// over the destination. A destination that is a mount point of its own (a
// single file bind-mounted with a Kubernetes subPath) cannot be renamed
// over (EBUSY) and is written in place instead. File.Dir is walked from
// "/" one component at a time, creating what is missing and following
// only symbolic links owned by root or by our effective UID; directories
// below File.Dir are created and entered without following any link.
// Every write goes through the descriptor of the directory so reached.
// It goes on after a failure and returns every one.
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

func (e *writeError) Error() string { return "NONROOT_TEMPLATES: " + errlist.Format(e.problems) }

func (e *writeError) Unwrap() []error { return e.problems }

func writeOne(f File) error {
	name := filepath.Base(f.Rel)
	if name == ".." || name == "." || name == "/" {
		return fmt.Errorf("%s: %q is not a file name below DST %s", f.Path(), f.Rel, f.Dir)
	}
	dirfd, err := openDestDir(f.Dir, filepath.Dir(f.Rel))
	if err != nil {
		return err
	}
	defer fsx.Close(dirfd)
	return writeAt(dirfd, name, f, dirHint)
}

// WriteAt writes f.Content as name in the directory dirfd (an O_PATH
// descriptor or an open one), atomically, with mode f.Mode (not subject
// to the umask): a temporary file created next to it (exclusively, never
// through a symbolic link), written, given its mode, synced and closed,
// then renamed over name, and the directory synced. A name that is a
// mount point of its own (a file bind-mounted with a Kubernetes subPath)
// cannot be renamed over (EBUSY) and is rewritten in place instead,
// keeping its owner's mode when we may not change it. On failure the old
// file is as it was and the temporary file is removed, and nothing else.
// f.Path() names the file in errors. It is the one atomic writer:
// templates, ConfigMap copies and identity's state files all go through
// it; the caller has reached dirfd by its own checked walk.
func WriteAt(dirfd int, name string, f File) error {
	return writeAt(dirfd, name, f, func(error) string { return "" })
}

// writeAt is WriteAt with hint's advice added to a failure to create or
// write the temporary file.
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
	// directory, which costs nothing but durability. dirfd is O_PATH,
	// which fsync refuses; "." in it is the same directory.
	if d, err := fsx.Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
		_ = fsx.Fsync(d)
		fsx.Close(d)
	}
	return nil
}

// openDestDir opens the directory of a file to write, creating what is
// missing, and returns an O_PATH descriptor of it, through which
// everything after is done. dir is walked from "/" one component at a
// time, following only links owned by root or by us; rel below it never
// follows a link.
func openDestDir(dir, rel string) (int, error) {
	for _, comp := range strings.Split(rel, "/") {
		if rel != "." && (comp == ".." || comp == "." || comp == "") {
			return -1, fmt.Errorf("%s: refusing a path that leaves DST %s", filepath.Join(dir, rel), dir)
		}
	}
	w, err := destWalker(dir, rel, walkOpts{create: true})
	if err != nil {
		return -1, destError(err)
	}
	defer w.close()
	fd, err := fsx.DupCloexec(w.fd())
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", w.path(), err)
	}
	return fd, nil
}

// destWalker walks to the directory of dir/rel: dir by the owner rule
// for links, rel without following any. On an error the walker is
// closed, except for a missing component without opts.create: then it
// is returned with the error, in the last directory that exists.
func destWalker(dir, rel string, opts walkOpts) (*walker, error) {
	w, err := newWalker()
	if err != nil {
		return nil, err
	}
	w.label = "DST "
	if dir, err = filepath.Abs(dir); err != nil {
		w.close()
		return nil, fmt.Errorf("DST %s: %w", dir, err)
	}
	_, err = w.walk(dir, opts)
	if err == nil {
		w.confine(noLinks, dir, dir)
		_, err = w.walk(rel, opts)
	}
	if err != nil && !(errors.Is(err, fs.ErrNotExist) && !opts.create) {
		w.close()
		return nil, err
	}
	return w, err
}

// destError adds the fix to a failed creation of a DST directory.
func destError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "create" {
		return fmt.Errorf("%w%s", err, dirHint(err))
	}
	return err
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
// it yet: COMMAND has not started. It never follows a link (O_NOFOLLOW)
// and writes only a regular file that is the root of a mount, as far as
// the kernel tells (5.8 and later): a name that another user turned into
// a hard link to someone else's file is left alone.
func writeInPlace(dirfd int, name string, f File) error {
	fd, err := fsx.Openat(dirfd, name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("write %s in place (a mount point, e.g. a subPath): %w", f.Path(), err)
	}
	file := os.NewFile(uintptr(fd), f.Path())
	if err := checkMountRoot(fd); err != nil {
		file.Close()
		return fmt.Errorf("write %s in place (a mount point, e.g. a subPath): %w", f.Path(), err)
	}
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

// checkMountRoot checks that the open file fd is a regular file and,
// when the kernel says, the root of a mount.
func checkMountRoot(fd int) error {
	var stx unix.Statx_t
	if err := fsx.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_TYPE, &stx); err != nil {
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
// part of its directory chain holds directories, walked as Write walks
// them (links followed only when root or we own them, none below
// File.Dir), and the nearest existing one is writable by our effective
// IDs (or, for a mount-point file, the file itself is).
func checkDest(f File) error {
	w, err := destWalker(f.Dir, filepath.Dir(f.Rel), walkOpts{})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", f.Source, err)
	}
	defer w.close()
	if err == nil {
		name := filepath.Base(f.Rel)
		var st unix.Stat_t
		err := fsx.Fstatat(w.fd(), name, &st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR:
			return fmt.Errorf("%s: %s is a directory in the way of the file", f.Source, f.Path())
		case err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && isMountRoot(w.fd(), name):
			if err := fsx.Faccessat(w.fd(), name, unix.W_OK, unix.AT_EACCESS); err != nil {
				return fmt.Errorf("%s: %s is a mount point (a subPath) and not writable by uid %d: %w", f.Source, f.Path(), os.Geteuid(), fsx.Errno(err))
			}
			return nil
		case err != nil && !errors.Is(err, unix.ENOENT):
			return fmt.Errorf("%s: %s: %w", f.Source, f.Path(), err)
		}
	}
	if err := fsx.Faccessat(w.fd(), ".", unix.W_OK|unix.X_OK, unix.AT_EACCESS); err != nil {
		return fmt.Errorf("%s: cannot write into %s: %w%s", f.Source, w.path(), fsx.Errno(err), dirHint(err))
	}
	return nil
}
