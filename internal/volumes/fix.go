package volumes

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-multierror"
	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// FixOptions says how FixPermissions changes a tree.
type FixOptions struct {
	GID       int       // the group every entry gets (0 on OpenShift)
	Check     bool      // change nothing; list what would change
	Hardlinks bool      // also change non-directories with more than one link
	Progress  io.Writer // nil: no progress lines

	// MaxEntries stops the walk after about this many entries (0: no
	// limit), for doctor's bounded look; FixReport.Truncated then says so.
	MaxEntries int64

	// EUID is the effective UID the walk runs as (host.Creds.EUID): 0
	// applies root's starting-path rule (openNoSymlinks).
	EUID int

	// asRoot applies the starting-path rule of a run as root whatever
	// the effective UID: doctor tells what root's fix-permissions would
	// refuse.
	asRoot bool

	// afterLook, when set (tests only), is called with an entry's path
	// right after the walk's first look at it (a statx by name, or the
	// open of an eager walk), before anything is decided or opened.
	afterLook func(path string)
}

// listLimit bounds the privileged files and the failures a report keeps
// (the counts stay true): a volume of millions of such entries must not
// fill the memory or the log.
const listLimit = 1000

// Privileged is a file FixPermissions left alone because it runs with
// more privilege than its caller (setuid, setgid, file capabilities):
// with group write, any member of the group could rewrite it, through a
// MAP_SHARED mapping that does not clear setuid, and run it.
type Privileged struct {
	Path   string
	Reason string // "setuid", "setgid", "file capabilities", or several joined by ", "

	// Writable says the file is executable and group or others may
	// already write it: that hole is there, FixPermissions does not
	// close it (it never takes permissions away), and counts it as
	// failed.
	Writable bool
	UID, GID int
	Mode     uint32 // permission bits with setuid, setgid and sticky
}

// String reads `path: left alone: setuid (group write would let ...)`,
// or for a Writable one `path: setuid and writable by group 0 (...): a
// member of group 0 can rewrite it and get root through it; ...`.
func (p Privileged) String() string {
	if !p.Writable {
		return quote(p.Path) + ": left alone: " + p.Reason + " (group write would let the group rewrite a privileged program)"
	}
	by, who := fmt.Sprintf("group %d", p.GID), fmt.Sprintf("a member of group %d", p.GID)
	if p.Mode&0o002 != 0 {
		by, who = "any user", "any user"
	}
	var gets []string
	if p.Mode&unix.S_ISUID != 0 {
		gets = append(gets, idName(p.UID))
		if p.UID != 0 {
			gets[0] = "uid " + gets[0]
		}
	}
	if p.Mode&unix.S_ISGID != 0 {
		gets = append(gets, fmt.Sprintf("group %d", p.GID))
	}
	if strings.Contains(p.Reason, "file capabilities") {
		gets = append(gets, "its file capabilities")
	}
	return fmt.Sprintf("%s: %s and writable by %s (owner %d:%d mode %04o): %s can rewrite it and get %s through it; fix-permissions never changes it: chmod g-w,o-w %s",
		quote(p.Path), p.Reason, by, p.UID, p.GID, p.Mode, who, strings.Join(gets, " and "), quote(p.Path))
}

// writableExec reports a regular file that someone may execute and that
// group or others may write: if it is privileged, that is a way to its
// privileges. (Nobody can run a file without any execute bit, and only
// its owner could add one.)
func writableExec(st *unix.Statx_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o022 != 0 && st.Mode&0o111 != 0
}

// Change is one entry FixPermissions changed, or would change with Check.
type Change struct {
	Path    string
	OldGID  int
	NewGID  int
	OldMode uint32 // permission bits with setuid, setgid and sticky
	NewMode uint32
}

// String describes the change as `path: group 1234 -> 0, mode 0644 -> 0664`.
func (c Change) String() string {
	s := quote(c.Path) + ":"
	if c.OldGID != c.NewGID {
		s += fmt.Sprintf(" group %d -> %d", c.OldGID, c.NewGID)
		if c.OldMode != c.NewMode {
			s += ","
		}
	}
	if c.OldMode != c.NewMode {
		s += fmt.Sprintf(" mode %04o -> %04o", c.OldMode, c.NewMode)
	}
	return s
}

// FixReport counts what FixPermissions saw and did.
type FixReport struct {
	Scanned int64    // entries looked at
	Changed int64    // entries changed (or, with Check, that would change)
	Skipped int64    // symlinks, devices, other filesystems, hard-linked entries
	Failed  int64    // entries that could not be fixed, and refused paths
	Changes []Change // with Check only: every entry that would change, sorted by path

	// Privileged lists the setuid, setgid and file-capability files left
	// alone that would otherwise have changed, and the executable ones
	// group or others may already write (Writable, counted in Failed),
	// sorted by path (not counted in Skipped). It keeps the first
	// listLimit found; PrivilegedNotListed counts the others.
	Privileged          []Privileged
	PrivilegedNotListed int64

	Truncated bool // the walk stopped at opts.MaxEntries
}

// Progress lines start once a run has taken progressAfter and come at
// most every progressEvery.
const (
	progressAfter = 2 * time.Second
	progressEvery = time.Second
)

// queueSize bounds the directories waiting for a worker; each holds an
// open descriptor. When the queue is full the worker that found the
// directory walks it itself, so the number of open descriptors stays
// bounded by the queue plus the depth of the tree.
const queueSize = 512

// FixPermissions makes every entry under paths group-owned by opts.GID and
// group read-write, plus group execute on directories and on files their
// owner can execute, plus setgid on directories, as SPEC.md's
// fix-permissions says. It changes only what differs, so a second run
// makes no chown or chmod call at all.
//
// Each path is resolved component by component from "/" (or the working
// directory) with O_PATH|O_NOFOLLOW, and one that is or passes through a
// symbolic link is refused (a *SymlinkError, counted in Failed): whoever
// can write a volume's parent could otherwise point root's walk at any
// tree. The last descriptor is the one walked, so nothing is looked up by
// name twice. Below it nothing is followed either: every entry
// is reached with openat/statx relative to its parent's descriptor and
// AT_SYMLINK_NOFOLLOW/O_NOFOLLOW, and changed through a descriptor of the
// inode that was checked, so a path component swapped for a symbolic link
// during the walk cannot redirect a change. It never leaves the starting
// path's filesystem (another st_dev, or any mount point, is skipped), and
// it leaves symbolic links, device nodes, and non-directories with more
// than one link (unless opts.Hardlinks) alone. A setuid, setgid or
// file-capability file that would change is left alone and listed in
// Privileged: no group or other write is ever added to one. One that is
// executable and already group- or other-writable is listed too, as
// Writable, and is a failure: it is not right, and FixPermissions never
// takes a permission away.
//
// Run as root (euid 0), it also refuses a starting path (a
// *HostileParentError) when a directory on its way can be changed by
// another user, unless the entry below that directory is a mount point,
// which the kernel does not let anyone rename: that user could otherwise
// rename a directory only root may read into the place of the one meant.
//
// Every failure is collected in the returned error (the first listLimit
// listed, the others counted) and counted in Failed; the walk goes on
// past it.
func FixPermissions(paths []string, opts FixOptions) (FixReport, error) {
	f := &fixer{opts: opts, queue: make(chan dirTask, queueSize), asRoot: opts.asRoot || opts.EUID == 0}
	f.bufs.New = func() any { b := make([]byte, direntBufSize); return &b }
	workers := min(max(4, 2*runtime.NumCPU()), 16)
	var done sync.WaitGroup
	for range workers {
		done.Add(1)
		go func() {
			defer done.Done()
			for t := range f.queue {
				f.walk(t)
				f.pending.Done()
			}
		}()
	}
	stop := f.progress()
	for _, p := range paths {
		f.root(p)
	}
	f.pending.Wait()
	close(f.queue)
	done.Wait()
	stop()

	r := FixReport{
		Scanned:             f.scanned.Load(),
		Changed:             f.changed.Load(),
		Skipped:             f.skipped.Load(),
		Failed:              f.failed.Load(),
		Changes:             f.changes,
		Privileged:          f.privileged,
		PrivilegedNotListed: f.privilegedNotListed,
		Truncated:           f.truncated.Load(),
	}
	sort.Slice(r.Changes, func(i, j int) bool { return r.Changes[i].Path < r.Changes[j].Path })
	sort.Slice(r.Privileged, func(i, j int) bool { return r.Privileged[i].Path < r.Privileged[j].Path })
	err := errlist.OrNil(f.errs)
	if f.errsNotListed > 0 {
		err = fmt.Errorf("%w\n  and %d more not listed", err, f.errsNotListed)
	}
	return r, err
}

// dirTask is a directory to read: an open descriptor, its path (for
// messages only, never opened again) and the device of its tree.
type dirTask struct {
	fd   int
	path string
	dev  uint64
}

type fixer struct {
	opts    FixOptions
	asRoot  bool // apply the starting-path rule of a run as root
	queue   chan dirTask
	pending sync.WaitGroup // directories dispatched and not yet walked

	scanned, changed, skipped, failed atomic.Int64
	truncated                         atomic.Bool

	bufs sync.Pool // *[]byte of direntBufSize, one per directory being read

	// What this kernel refused once, not tried again: fgetxattr on an
	// O_PATH descriptor (EBADF), fchmodat2 (ENOSYS before Linux 6.6).
	xattrByLink, noFchmodat2 atomic.Bool

	mu                  sync.Mutex
	errs                *multierror.Error
	errsNotListed       int64
	changes             []Change
	privileged          []Privileged
	privilegedNotListed int64
}

func (f *fixer) fail(at where, op string, err error) {
	f.failed.Add(1)
	// op already says what was attempted: the errno alone follows it.
	err = fsx.Errno(err)
	f.mu.Lock()
	f.addErr(fmt.Errorf("%s: %s: %w", quote(at.String()), op, err))
	f.mu.Unlock()
}

// addErr keeps err unless listLimit are kept already; f.mu is held.
func (f *fixer) addErr(err error) {
	if f.errs != nil && len(f.errs.Errors) >= listLimit {
		f.errsNotListed++
		return
	}
	f.errs = multierror.Append(f.errs, err)
}

// addPrivileged keeps p unless listLimit are kept already; f.mu is held.
func (f *fixer) addPrivileged(p Privileged) {
	if len(f.privileged) >= listLimit {
		f.privilegedNotListed++
		return
	}
	f.privileged = append(f.privileged, p)
}

// progress writes a count every progressEvery, once a run has taken
// progressAfter, until the returned function is called.
func (f *fixer) progress() (stop func()) {
	if f.opts.Progress == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	tick := time.NewTicker(progressEvery)
	start := time.Now()
	go func() {
		defer wg.Done()
		f.reportProgress(tick.C, start, quit)
	}()
	return func() { close(quit); wg.Wait(); tick.Stop() }
}

// reportProgress writes a line for each tick that comes progressAfter or
// more after start (entries seen, changed, failed, and entries per
// second), until quit is closed.
func (f *fixer) reportProgress(ticks <-chan time.Time, start time.Time, quit <-chan struct{}) {
	for {
		select {
		case <-quit:
			return
		case now := <-ticks:
			took := now.Sub(start)
			if took < progressAfter {
				continue
			}
			seen := f.scanned.Load()
			fmt.Fprintf(f.opts.Progress, "fix-permissions: %d entries seen, %d changed, %d failed so far (%.0f entries/s)\n",
				seen, f.changed.Load(), f.failed.Load(), float64(seen)/took.Seconds())
		}
	}
}

// statxMask is every field the walk decides on: type and mode, owner,
// group, link count, inode (the device and the attributes come with
// every statx).
const statxMask = unix.STATX_TYPE | unix.STATX_MODE | unix.STATX_UID | unix.STATX_GID | unix.STATX_NLINK | unix.STATX_INO

func devOf(st *unix.Statx_t) uint64 { return unix.Mkdev(st.Dev_major, st.Dev_minor) }

func sameInode(a, b *unix.Statx_t) bool {
	return a.Ino == b.Ino && devOf(a) == devOf(b) && a.Mode&unix.S_IFMT == b.Mode&unix.S_IFMT
}

// where names an entry in messages: dir alone, or dir/name. The string is
// made only when a message or a --check list needs it, not for each of
// the million entries of a tree that is right already.
type where struct {
	dir  string
	name []byte // nil: dir is the entry
}

func (w where) String() string {
	if w.name == nil {
		return w.dir
	}
	return w.dir + "/" + string(w.name)
}

// root fixes one starting path and dispatches its walk.
func (f *fixer) root(path string) {
	f.scanned.Add(1)
	at := where{dir: path}
	var st unix.Statx_t
	fd, err := openNoSymlinks(path, &st, f.asRoot)
	if err != nil {
		var se *SymlinkError
		var he *HostileParentError
		if errors.As(err, &se) || errors.As(err, &he) {
			f.fail(at, "refused", err)
		} else {
			f.fail(at, "open", err)
		}
		return
	}
	defer fsx.Close(fd)
	if f.writablePrivileged(fd, at, &st) {
		return
	}
	if f.skip(&st) {
		f.skipped.Add(1)
		return
	}
	if f.leavePrivileged(fd, at, &st) {
		return
	}
	// Fixed first, so that a directory we own but cannot read yet
	// becomes readable.
	f.fix(fd, at, &st)
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		f.enter(fd, path, devOf(&st))
	}
}

// enter opens the directory behind fd, an O_PATH descriptor, for reading
// and dispatches its walk. "." through the pinned descriptor reopens that
// very directory.
func (f *fixer) enter(fd int, path string, dev uint64) {
	dfd, err := fsx.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		f.fail(where{dir: path}, "open directory", err)
		return
	}
	f.dispatch(dirTask{fd: dfd, path: path, dev: dev})
}

// dispatch hands t to an idle worker, or walks it here when all are busy.
func (f *fixer) dispatch(t dirTask) {
	f.pending.Add(1)
	select {
	case f.queue <- t:
	default:
		f.walk(t)
		f.pending.Done()
	}
}

// walk reads one directory and handles each entry; it closes t.fd. The
// entries come from getdents64 into a buffer of direntBufSize (one call
// for most directories), and each name is handed to the kernel from that
// buffer.
//
// Once an entry of a directory needed a change, the next ones probably do
// too (a fresh tree): they are opened at once, which saves the statx by
// name that an unchanged entry costs. The first unchanged entry switches
// back, so an already-fixed tree costs one statx per entry.
func (f *fixer) walk(t dirTask) {
	defer fsx.Close(t.fd)
	buf := f.bufs.Get().(*[]byte)
	defer f.bufs.Put(buf)
	eager := false
	for {
		n, err := getdents(t.fd, *buf)
		if err != nil {
			f.fail(where{dir: t.path}, "read directory", err)
			return
		}
		if n == 0 {
			return
		}
		for rest := (*buf)[:n]; len(rest) > 0; {
			var name []byte
			if name, rest, err = nextDirent(rest); err != nil {
				f.fail(where{dir: t.path}, "read directory", err)
				return
			}
			if isDot(name) {
				continue
			}
			if f.opts.MaxEntries > 0 && f.scanned.Load() >= f.opts.MaxEntries {
				f.truncated.Store(true)
				return
			}
			eager = f.entry(t, name, eager)
		}
	}
}

// skip reports an entry left alone for its type: a symbolic link, a
// device node, or (unless opts.Hardlinks) any other non-directory with
// more than one link: its other name may be outside the tree, and a FIFO
// or socket shared that way is as much someone else's as a file.
func (f *fixer) skip(st *unix.Statx_t) bool {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return false
	case unix.S_IFLNK:
		return true
	case unix.S_IFCHR, unix.S_IFBLK:
		// A device node made group-accessible would hand the device to
		// every process of the group.
		return true
	}
	return st.Nlink > 1 && !f.opts.Hardlinks
}

// leavePrivileged reports (and lists) an entry that is setuid, setgid or
// carries file capabilities and would change: it is left alone. Its
// group and mode come from the statx of the very inode behind fd, and
// chmod sets an absolute mode computed from them, so a setuid bit added
// meanwhile by the owner is cleared, not kept.
//
// The capabilities are read (a getxattr, see hasFileCaps) only for a
// regular file that has an execute bit or keeps its group. One with no
// execute bit whose group changes needs no look: nobody can run it, and
// fix's chown(2) removes security.capability (with setuid and setgid)
// from any non-directory before its chmod adds group write, as chgrp
// would; so no file that carries capabilities is ever made group-writable.
// On a fresh tree of data files that saves a getxattr per file.
func (f *fixer) leavePrivileged(fd int, at where, st *unix.Statx_t) bool {
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return false
	}
	gid, _, change := wanted(st.Mode, int(st.Gid), f.opts.GID)
	if !change {
		return false
	}
	caps := false
	if st.Mode&unix.S_IFMT == unix.S_IFREG && (st.Mode&0o111 != 0 || int(st.Gid) == gid) {
		var err error
		if caps, err = f.hasFileCaps(fd); err != nil {
			// Not knowing is not a licence to add group write.
			f.fail(at, "read security.capability", err)
			return true
		}
	}
	reason := privilegedReason(st.Mode, caps)
	if reason == "" {
		return false
	}
	f.mu.Lock()
	f.addPrivileged(Privileged{Path: at.String(), Reason: reason, UID: int(st.Uid), GID: int(st.Gid), Mode: uint32(st.Mode) & 0o7777})
	f.mu.Unlock()
	return true
}

// writablePrivileged reports (lists, and counts as failed) an entry that
// is setuid, setgid or carries file capabilities, that someone may
// execute, and that group or others may already write: a member of the
// group (any user, for other write) can rewrite it and run it with its
// privileges. It is left alone. fd holds the inode st describes.
func (f *fixer) writablePrivileged(fd int, at where, st *unix.Statx_t) bool {
	if !writableExec(st) {
		return false
	}
	caps, err := f.hasFileCaps(fd)
	if err != nil {
		f.fail(at, "read security.capability", err)
		return true
	}
	reason := privilegedReason(st.Mode, caps)
	if reason == "" {
		return false
	}
	p := Privileged{Path: at.String(), Reason: reason, Writable: true, UID: int(st.Uid), GID: int(st.Gid), Mode: uint32(st.Mode) & 0o7777}
	f.failed.Add(1)
	f.mu.Lock()
	f.addPrivileged(p)
	f.addErr(errors.New(p.String()))
	f.mu.Unlock()
	return true
}

// privilegedReason names what makes a non-directory privileged, or
// returns "" when nothing does.
func privilegedReason(stMode uint16, caps bool) string {
	var why []string
	if uint32(stMode)&unix.S_ISUID != 0 {
		why = append(why, "setuid")
	}
	if uint32(stMode)&unix.S_ISGID != 0 {
		why = append(why, "setgid")
	}
	if caps {
		why = append(why, "file capabilities")
	}
	return strings.Join(why, ", ")
}

// hasFileCaps reports whether the inode behind fd, an O_PATH descriptor,
// carries a security.capability xattr. fgetxattr takes an O_PATH
// descriptor only on some kernels (EBADF on Linux 6.18, and getxattrat's
// AT_EMPTY_PATH too); the /proc/self/fd link then names the very inode,
// as in chmodFD. After the first EBADF the walk goes to the link at once.
// A filesystem without xattrs (EOPNOTSUPP) has no capabilities.
func (f *fixer) hasFileCaps(fd int) (bool, error) {
	const name = "security.capability"
	var err error
	if !f.xattrByLink.Load() {
		_, err = fsx.Fgetxattr(fd, name, nil)
		if errors.Is(err, unix.EBADF) {
			f.xattrByLink.Store(true)
		}
	}
	if f.xattrByLink.Load() {
		_, err = fsx.Getxattr("/proc/self/fd/"+strconv.Itoa(fd), name, nil)
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.EOPNOTSUPP):
		return false, nil
	}
	return false, err
}

// entry handles one directory entry by name, relative to t.fd, and
// reports whether it needed a change. With eager, the entry is opened
// before it is looked at; otherwise only an entry that needs a change is
// (or one that may be a writable privileged file, whose capabilities are
// read through a descriptor, or a directory, which is opened to be
// read). name is NUL-terminated in memory (nextDirent).
func (f *fixer) entry(t dirTask, name []byte, eager bool) (changed bool) {
	at := where{dir: t.path, name: name}
	var st unix.Statx_t
	fd := -1
	defer func() {
		if fd >= 0 {
			fsx.Close(fd)
		}
	}()
	var err error
	if eager {
		fd, err = openEntry(t.fd, name, &st)
	} else {
		err = statxAt(t.fd, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, statxMask, &st)
	}
	if errors.Is(err, unix.ENOENT) {
		return false // removed while we walked
	}
	f.scanned.Add(1)
	if err != nil {
		f.fail(at, "statx", err)
		return false
	}
	if f.opts.afterLook != nil {
		f.opts.afterLook(at.String())
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if fd < 0 && isDir {
		return f.descend(t, name, at, &st)
	}
	if fd < 0 && writableExec(&st) {
		if fd = f.reopen(t, name, at, &st); fd < 0 {
			return false
		}
	}
	if f.leaveAlone(t, fd, at, &st) {
		return false
	}
	_, _, change := wanted(st.Mode, int(st.Gid), f.opts.GID)
	if !change && !isDir {
		return false // the fast path of an already-fixed tree: one statx
	}
	if fd < 0 {
		if fd = f.reopen(t, name, at, &st); fd < 0 {
			return false
		}
		// Decide again on the inode the descriptor holds.
		if f.leaveAlone(t, fd, at, &st) {
			return false
		}
	}
	if f.leavePrivileged(fd, at, &st) {
		return false
	}
	f.fix(fd, at, &st)
	if isDir {
		f.enter(fd, at.String(), t.dev)
	}
	return change
}

// descend handles a directory that statx saw (st) and that has no
// descriptor yet. One on another filesystem or a mount point is skipped
// without being opened. Any other is opened for reading at once, with
// O_NOFOLLOW and O_DIRECTORY, so that neither a symbolic link nor
// anything but a directory swapped in since statx is opened (ELOOP,
// ENOTDIR: skipped, as reopen does); it is checked again on that
// descriptor, fixed through it and walked. That is one open where the
// O_PATH route takes an open, an open of "." and a close. A directory
// this UID may not read yet (it owns it, mode 0300) takes the O_PATH
// route: fixed first, then opened.
func (f *fixer) descend(t dirTask, name []byte, at where, st *unix.Statx_t) (changed bool) {
	// Another filesystem or a mount point is never opened: a FUSE
	// directory's open goes to its daemon, which may hang.
	if f.leaveAlone(t, -1, at, st) {
		return false
	}
	seen := *st
	dfd, err := openAt(t.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW)
	switch {
	case errors.Is(err, unix.EACCES):
		fd := f.reopen(t, name, at, st)
		if fd < 0 {
			return false
		}
		defer fsx.Close(fd)
		if f.leaveAlone(t, fd, at, st) {
			return false
		}
		_, _, change := wanted(st.Mode, int(st.Gid), f.opts.GID)
		f.fix(fd, at, st)
		f.enter(fd, at.String(), t.dev)
		return change
	case errors.Is(err, unix.ENOENT):
		return false
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR):
		f.skipped.Add(1)
		return false
	case err != nil:
		f.fail(at, "open directory", err)
		return false
	}
	if err := fstatx(dfd, st); err != nil {
		fsx.Close(dfd)
		f.fail(at, "statx", err)
		return false
	}
	if !sameInode(&seen, st) {
		fsx.Close(dfd)
		f.skipped.Add(1)
		return false
	}
	if f.leaveAlone(t, dfd, at, st) {
		fsx.Close(dfd)
		return false
	}
	_, _, change := wanted(st.Mode, int(st.Gid), f.opts.GID)
	f.fix(dfd, at, st)
	f.dispatch(dirTask{fd: dfd, path: at.String(), dev: t.dev})
	return change
}

// reopen opens name, which statx saw as st, and stats the inode the
// descriptor holds into st. It returns -1 when the entry is gone, cannot
// be opened (a failure) or was replaced since statx (skipped).
func (f *fixer) reopen(t dirTask, name []byte, at where, st *unix.Statx_t) int {
	seen := *st
	fd, err := openEntry(t.fd, name, st)
	if err != nil {
		if !errors.Is(err, unix.ENOENT) {
			f.fail(at, "open", err)
		}
		return -1
	}
	if !sameInode(&seen, st) {
		fsx.Close(fd)
		f.skipped.Add(1)
		return -1
	}
	return fd
}

// openEntry opens name in dir without following it and stats the inode
// it holds. An O_PATH descriptor pins the inode without reading it (and
// opens no device, whatever was swapped in): chown and chmod go through
// it, so the entry cannot be swapped for another between the decision
// and the change.
func openEntry(dir int, name []byte, st *unix.Statx_t) (int, error) {
	fd, err := openAt(dir, name, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return -1, err
	}
	if err := fstatx(fd, st); err != nil {
		fsx.Close(fd)
		return -1, err
	}
	return fd, nil
}

// leaveAlone reports (and counts) an entry that is not to be changed or
// entered: on another filesystem, a mount point, a writable privileged
// file (counted as failed), or one of skip's. fd holds the inode, or is
// -1 when st cannot be a writable privileged file.
func (f *fixer) leaveAlone(t dirTask, fd int, at where, st *unix.Statx_t) bool {
	// A bind mount of the same filesystem has the same st_dev; statx
	// marks it as a mount root.
	if devOf(st) != t.dev || st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0 {
		f.skipped.Add(1)
		return true
	}
	if fd >= 0 && f.writablePrivileged(fd, at, st) {
		return true
	}
	if f.skip(st) {
		f.skipped.Add(1)
		return true
	}
	return false
}

// fix changes the inode behind fd if it differs from what is wanted.
func (f *fixer) fix(fd int, at where, st *unix.Statx_t) {
	gid, mode, change := wanted(st.Mode, int(st.Gid), f.opts.GID)
	if !change {
		return
	}
	if f.opts.Check {
		f.changed.Add(1)
		f.mu.Lock()
		f.changes = append(f.changes, Change{Path: at.String(), OldGID: int(st.Gid), NewGID: gid, OldMode: uint32(st.Mode) & 0o7777, NewMode: mode})
		f.mu.Unlock()
		return
	}
	if int(st.Gid) != gid {
		if err := chgrpFD(fd, gid); err != nil {
			f.fail(at, "chown to group "+strconv.Itoa(gid), err)
			return
		}
	}
	// chown clears setuid and setgid on a regular file, so the mode is
	// set again even when wanted() left the bits as they were.
	if uint32(st.Mode)&0o7777 != mode || (int(st.Gid) != gid && st.Mode&unix.S_IFMT == unix.S_IFREG) {
		if err := f.chmodFD(fd, mode); err != nil {
			f.fail(at, fmt.Sprintf("chmod %04o", mode), err)
			return
		}
	}
	// Counted once every call succeeded: a failed entry is failed, not
	// changed.
	f.changed.Add(1)
}

// chmodFD sets the mode of the inode behind fd, an O_PATH or an ordinary
// descriptor. fchmodat2(AT_EMPTY_PATH) needs Linux 6.6; before that
// (ENOSYS, remembered for the rest of the walk), an ordinary descriptor
// takes fchmod and an O_PATH one the /proc/self/fd link, which names the
// very inode and is not a path walk.
func (f *fixer) chmodFD(fd int, mode uint32) error {
	if !f.noFchmodat2.Load() {
		err := fchmodat2Empty(fd, mode)
		if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.EINVAL) {
			return err
		}
		f.noFchmodat2.Store(true)
	}
	if err := fsx.Fchmod(fd, mode); !errors.Is(err, unix.EBADF) {
		return err
	}
	return fsx.Chmod("/proc/self/fd/"+strconv.Itoa(fd), mode)
}

// wanted returns the group and mode an entry of the given type and mode
// (a stat st_mode) and group should have, and whether that differs:
// group gid, group read-write, group execute on directories and on files
// their owner can execute, setgid on directories. A regular file that
// changes group loses setuid and setgid, as chown(2) does, so that no
// privileged file is handed to a new group. (FixPermissions leaves such
// files alone before it gets here; this keeps wanted safe on its own.)
func wanted(stMode uint16, oldGID, gid int) (newGID int, mode uint32, change bool) {
	old := uint32(stMode) & 0o7777
	mode = old
	switch uint32(stMode) & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= 0o070 | unix.S_ISGID
	case unix.S_IFREG:
		mode |= 0o060
		if mode&0o100 != 0 {
			mode |= 0o010
		}
		if oldGID != gid {
			mode &^= unix.S_ISUID | unix.S_ISGID
		}
	case unix.S_IFIFO, unix.S_IFSOCK:
		mode |= 0o060
	default:
		return oldGID, old, false
	}
	return gid, mode, mode != old || oldGID != gid
}
