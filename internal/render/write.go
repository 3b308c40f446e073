package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// Write writes files with the set-level rule of WriteSet and keeps
// them (Commit).
func Write(files []File) error {
	a, err := WriteSet(files)
	if err != nil {
		return err
	}
	return a.Commit()
}

// WriteSet writes files with the set-level rule. On error nothing
// changed: every DST is as it was and no temp file is left.
//
// First every file is staged (fsx.Stage): its new content written and
// synced in a temporary file in its own directory, and the old file
// kept (a hard link under a hidden name, or in memory when it cannot be
// linked: a mount point of its own, a file of another owner under
// protected_hardlinks). A file that already holds the same bytes and mode
// is left alone. Only when every file is staged are they renamed into
// place, one after the other; a mount point of its own (a single file
// bind-mounted with a Kubernetes subPath, where rename says EBUSY) is
// written in place then. A failure while staging removes every temporary
// file and backup; a failure while renaming also puts back the files
// already renamed. File.Dir is walked from "/" one component at a time,
// creating what is missing and following only symbolic links owned by
// root or by our effective UID; directories below File.Dir are created
// and entered without following any link. Every write goes through the
// descriptor of the directory so reached. Staging goes on after a
// failure and the error names every file that failed. Directories
// created for new files stay, empty, after a failure. What an earlier
// write killed between its steps left in a directory of the set (our own
// .nonroot-init-XXXXXXXXXXXX files) is removed first (Swept).
func WriteSet(files []File) (*Applied, error) { return writeSet(files, nil) }

// Applied is a set WriteSet put in place. It holds the backups and the
// descriptors of the directories until Commit or Restore, one of which
// must be called, once, from one goroutine.
type Applied struct {
	staged    []*fsx.Staged
	dirs      []int // descriptors the staged files are in, closed at the end
	unchanged bool
	ended     string   // "committed" or "restored" once done
	swept     []string // leftovers of an interrupted write, removed
}

// Swept are the paths of what an earlier, interrupted write had left in
// the directories of the set (fsx.SweepLeftovers) and WriteSet removed.
func (a *Applied) Swept() []string {
	if a == nil {
		return nil
	}
	return a.swept
}

// Restore puts back every DST as it was before WriteSet (a file that
// did not exist is removed again), e.g. when RELOAD_CHECK fails.
func (a *Applied) Restore() error {
	if a == nil {
		return errors.New("NONROOT_TEMPLATES: restore of a set WriteSet did not write")
	}
	if a.ended != "" {
		return fmt.Errorf("NONROOT_TEMPLATES: restore of a set already %s", a.ended)
	}
	a.ended = "restored"
	defer a.closeDirs()
	var errs []error
	for i := len(a.staged) - 1; i >= 0; i-- {
		if err := a.staged[i].Restore(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return &writeError{problems: errs}
	}
	return nil
}

// Commit drops what Restore would need. Safe to call once; after it
// Restore is an error.
func (a *Applied) Commit() error {
	if a == nil {
		return errors.New("NONROOT_TEMPLATES: commit of a set WriteSet did not write")
	}
	if a.ended != "" {
		return fmt.Errorf("NONROOT_TEMPLATES: commit of a set already %s", a.ended)
	}
	a.ended = "committed"
	defer a.closeDirs()
	var errs []error
	for _, s := range a.staged {
		if err := s.Commit(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return &writeError{problems: errs}
	}
	return nil
}

// Unchanged reports whether WriteSet found every DST already holding
// the same bytes and mode (then it wrote nothing).
func (a *Applied) Unchanged() bool { return a != nil && a.unchanged }

func (a *Applied) closeDirs() {
	for _, fd := range a.dirs {
		fsx.Close(fd)
	}
	a.dirs = nil
}

// sweepAge is how old (by ctime: when it was made, or linked) an entry
// must be for the sweep to take it for a leftover: older than a running
// write of another process can be (a render budget of 10 s, a
// RELOAD_CHECK of 30 s), so that two writers of one directory do not
// take each other's temporary files and backups.
const sweepAge = 2 * time.Minute

// writeSet is WriteSet with a hook that runs between the two phases
// (nil but in tests, which use it to make a rename fail).
func writeSet(files []File, betweenPhases func()) (*Applied, error) {
	return writeSetAged(files, betweenPhases, sweepAge)
}

// writeSetAged is writeSet sweeping leftovers made at least minAge ago.
func writeSetAged(files []File, betweenPhases func(), minAge time.Duration) (*Applied, error) {
	a := &Applied{unchanged: true}
	// Every directory first, each swept once before anything of this set
	// is staged in it: two pairs may reach one directory under two names
	// (a SRC directory's subdirectory and a file pair into it; a link),
	// and a sweep after the first had staged would take its files.
	fds, errs := a.openDirs(files, minAge)
	for i, f := range files {
		if fds[i] < 0 {
			continue // its error is in errs, or another pair writes the same
		}
		s, err := stageOne(f, fds[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.staged = append(a.staged, s)
		if !s.Unchanged() {
			a.unchanged = false
		}
	}
	if len(errs) > 0 {
		for _, s := range a.staged {
			s.Discard()
		}
		a.closeDirs()
		return nil, &writeError{problems: errs}
	}
	if betweenPhases != nil {
		betweenPhases()
	}
	for i, s := range a.staged {
		err := s.Apply()
		if err == nil {
			continue
		}
		// Put back the files already renamed, newest first, and drop
		// the rest unapplied.
		errs = append(errs, err)
		s.Discard()
		for j := i - 1; j >= 0; j-- {
			if rerr := a.staged[j].Restore(); rerr != nil {
				errs = append(errs, rerr)
			}
		}
		for _, rest := range a.staged[i+1:] {
			rest.Discard()
		}
		a.closeDirs()
		return nil, &writeError{problems: errs}
	}
	return a, nil
}

// writeError is every file WriteSet could not write, or could not put
// back after a failure.
type writeError struct {
	problems []error
}

func (e *writeError) Error() string { return "NONROOT_TEMPLATES: " + errlist.Format(e.problems) }

func (e *writeError) Unwrap() []error { return e.problems }

// openDirs opens the directory of every file, once per directory (a
// keeps the descriptors), and sweeps each directory, told by its inode,
// once (fsx.SweepLeftovers, entries made at least minAge ago). It returns
// the descriptor of each file's directory, -1 for a file not to stage:
// one whose directory cannot be had (an error), or the second of two
// pairs that write one file (through a link or a mount) with the same
// bytes and mode; with different ones they are an error.
func (a *Applied) openDirs(files []File, minAge time.Duration) ([]int, []error) {
	type target struct {
		dir  devIno
		name string
	}
	byName := map[string]destDir{}
	swept := map[devIno]bool{}
	writer := map[target]File{} // who writes each file
	fds := make([]int, len(files))
	var errs []error
	for i, f := range files {
		fds[i] = -1
		name := filepath.Base(f.Rel)
		if name == ".." || name == "." || name == "/" {
			errs = append(errs, fmt.Errorf("%s: %q is not a file name below DST %s", f.Path(), f.Rel, f.Dir))
			continue
		}
		key := f.Dir + "\x00" + filepath.Dir(f.Rel)
		d, ok := byName[key]
		if !ok {
			var err error
			d, err = a.openDir(f, minAge, swept)
			if d.fd >= 0 {
				byName[key] = d
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
		}
		t := target{d.id, name}
		if other, dup := writer[t]; dup {
			if !bytes.Equal(other.Content, f.Content) || other.Mode != f.Mode {
				errs = append(errs, fmt.Errorf("%s and %s are one file (through a link or a mount), written by two template pairs with different contents, from %s and from %s; give each pair a DST of its own", other.Path(), f.Path(), other.Source, f.Source))
			}
			continue
		}
		writer[t] = f
		fds[i] = d.fd
	}
	return fds, errs
}

// destDir is a DST directory openDirs opened: its descriptor (-1 when it
// could not be opened) and identity.
type destDir struct {
	fd int
	id devIno
}

// openDir opens f's directory (a keeps the descriptor) and sweeps it
// unless swept says a directory of that identity was swept already. An
// error of the sweep comes with the directory, which is still used.
func (a *Applied) openDir(f File, minAge time.Duration, swept map[devIno]bool) (destDir, error) {
	fd, err := openDestDir(f.Dir, filepath.Dir(f.Rel))
	if err != nil {
		return destDir{fd: -1}, err
	}
	a.dirs = append(a.dirs, fd)
	dirPath := filepath.Join(f.Dir, filepath.Dir(f.Rel))
	var st unix.Stat_t
	if err := fsx.Fstat(fd, &st); err != nil {
		return destDir{fd: -1}, fmt.Errorf("%s: %w", dirPath, err)
	}
	d := destDir{fd, devIno{uint64(st.Dev), st.Ino}}
	if swept[d.id] {
		return d, nil
	}
	swept[d.id] = true
	removed, err := fsx.SweepLeftovers(fd, dirPath, minAge)
	for _, n := range removed {
		a.swept = append(a.swept, filepath.Join(dirPath, n))
	}
	return d, err
}

// stageOne stages f (fsx.Stage) in its directory dirfd.
func stageOne(f File, dirfd int) (*fsx.Staged, error) {
	name := filepath.Base(f.Rel)
	s, err := fsx.Stage(dirfd, name, fsx.AtomicFile{Path: f.Path(), Mode: f.Mode, Content: f.Content})
	var te *fsx.TempError
	if errors.As(err, &te) {
		// Creating or writing the temporary file failed: the directory
		// (or its filesystem) is the problem, and dirHint says what to
		// do instead.
		return nil, fmt.Errorf("%w%s", err, dirHint(err))
	}
	return s, err
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
	case errors.Is(err, unix.ENOSPC), errors.Is(err, unix.EDQUOT):
		return " (the filesystem is full; no DST was changed: free space there or give the volume more, e.g. a larger emptyDir sizeLimit)"
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
