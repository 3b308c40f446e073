package render

import (
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
// Every write goes through the descriptor of the directory so reached,
// with fsx.WriteAt. It goes on after a failure and returns every one.
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
	err = fsx.WriteAt(dirfd, name, fsx.AtomicFile{Path: f.Path(), Mode: f.Mode, Content: f.Content})
	var te *fsx.TempError
	if errors.As(err, &te) {
		// Creating the temporary file failed: the directory is the
		// problem, and dirHint says where to write instead.
		return fmt.Errorf("%w%s", err, dirHint(err))
	}
	return err
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
		case err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && fsx.IsMountRoot(w.fd(), name):
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
