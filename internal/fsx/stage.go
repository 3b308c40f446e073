package fsx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// MaxBackup bounds the old content Stage keeps in memory, for a file it
// cannot hard-link (a subPath mount point, a file of another owner under
// protected_hardlinks, a filesystem without links). Render refuses to
// copy more than 64 MiB, so a larger file was not written by us.
const MaxBackup = 64 << 20

// Staged is one file of a set write (render's set-level atomicity): its
// new content waits in a temporary file next to it and its old content
// is kept, so that every file of a set can be prepared before any is
// replaced, and a replaced one put back. The directory descriptor given
// to Stage must stay open until Commit, Restore or Discard.
//
// Its life: Stage; then either Discard (nothing changed), or Apply and
// then Commit (keep the new file) or Restore (put the old one back).
type Staged struct {
	dirfd int
	name  string
	f     AtomicFile
	state stageState

	unchanged bool
	inPlace   bool     // a mount point of its own: written in place
	temp      tempFile // the new content, before Apply
	newID     devIno   // the inode Apply renamed into place

	// What was there before: nothing, a hard link to it (link), its
	// content in memory (old, oldMode, or oldLink for a symbolic link),
	// or, when it can be neither linked nor read, nothing yet: Apply
	// exchanges it with the new file, and the temporary name then holds
	// it (link).
	existed  bool
	exchange bool
	link     tempFile
	linked   bool
	old      []byte
	oldMode  uint32
	oldLink  string
	isLink   bool

	// exchangeCall is exchangeat (a refusing one in tests, for a
	// filesystem that cannot exchange).
	exchangeCall func(dirfd int, a, b string) error
}

type stageState int

const (
	staged stageState = iota
	applied
	done
)

// Stage prepares writing f as name in dirfd: when name already holds
// f.Content with mode f.Mode it writes nothing (Unchanged); otherwise
// it writes a temporary file with the new content, synced (the rules of
// WriteAt: exclusive, never through a link, exact mode), and keeps the
// old file: a hard link to it under a hidden temporary name, or, when it
// cannot be linked, its content in memory (a mount point of its own,
// which is written in place, always so), or, when it can be neither
// linked nor read (another owner's, or over MaxBackup), nothing yet:
// Apply then exchanges it with the new file (RENAME_EXCHANGE), which
// leaves it under the temporary name. Nothing visible under name
// changes. On error everything it made is removed; a failure to create
// or write the temporary file is a *TempError.
func Stage(dirfd int, name string, f AtomicFile) (*Staged, error) {
	return stage(dirfd, name, f, linkat)
}

// exchangeat swaps the entries a and b of dirfd (renameat2 with
// RENAME_EXCHANGE).
func exchangeat(dirfd int, a, b string) error {
	return Renameat2(dirfd, a, dirfd, b, unix.RENAME_EXCHANGE)
}

// linkat is linkat(2) with flags 0: a symbolic link is linked itself,
// never followed.
func linkat(dirfd int, name, newname string) error {
	return call0("linkat", func() error { return unix.Linkat(dirfd, name, dirfd, newname, 0) })
}

// stage is Stage with the call that links the old file (a failing one in
// tests, for the in-memory backup).
func stage(dirfd int, name string, f AtomicFile, link func(dirfd int, name, newname string) error) (*Staged, error) {
	s := &Staged{dirfd: dirfd, name: name, f: f, exchangeCall: exchangeat}
	s.inPlace = IsMountRoot(dirfd, name)
	if holds(dirfd, name, f, s.inPlace) {
		s.unchanged = true
		return s, nil
	}
	if s.inPlace {
		if err := s.keepInMemory(); err != nil {
			return nil, err
		}
		return s, nil
	}
	if err := s.keepOld(link); err != nil {
		return nil, err
	}
	tmp, err := writeTemp(dirfd, name, f, randomTempName)
	if err != nil {
		s.dropBackup()
		return nil, &TempError{err}
	}
	s.temp = tmp
	return s, nil
}

// Unchanged reports whether the file already held the new content and
// mode, so that Apply writes nothing.
func (s *Staged) Unchanged() bool { return s.unchanged }

// Apply puts the new file in place: a rename of the temporary file over
// name, or, for a mount point (rename says EBUSY), a rewrite in place.
// On error name is as it was (an in-place write that failed halfway is
// written back from memory) and Discard removes what is left.
func (s *Staged) Apply() error {
	if s.state != staged {
		return fmt.Errorf("write %s: applied twice", s.f.Path)
	}
	if s.unchanged {
		s.state = applied
		return nil
	}
	if s.inPlace {
		if err := writeInPlace(s.dirfd, s.name, s.f); err != nil {
			if rerr := s.restoreInPlace(); rerr != nil {
				return fmt.Errorf("%w; putting the old content back failed too: %v", err, rerr)
			}
			return err
		}
		s.state = applied
		return nil
	}
	if s.exchange {
		return s.applyExchange()
	}
	err := Renameat(s.dirfd, s.temp.name, s.dirfd, s.name)
	if errors.Is(err, unix.EBUSY) && s.existed && !s.linked && !s.isLink {
		// A kernel without STATX_ATTR_MOUNT_ROOT (before 5.8) did not
		// tell us it is a mount point; rename did. A mount point cannot
		// be linked, so its old content is in memory.
		removeTemp(s.dirfd, s.temp)
		s.temp = tempFile{}
		s.inPlace = true
		return s.Apply()
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", s.f.Path, err)
	}
	s.newID, s.temp = s.temp.id, tempFile{}
	syncDir(s.dirfd)
	s.state = applied
	return nil
}

// applyExchange swaps the new file and the old one in one call: the old
// file is then under the temporary name, and that is its backup.
func (s *Staged) applyExchange() error {
	// A filesystem that cannot exchange (NFS, CIFS, many FUSE: EINVAL)
	// refuses the write: a copy put back would be ours, not theirs.
	err := s.exchangeCall(s.dirfd, s.temp.name, s.name)
	if err != nil {
		return fmt.Errorf("write %s: the old file can be neither linked nor copied faithfully (to put it back on a failure: another owner's file, a setuid or setgid file, or one we cannot read), and exchanging it failed: %w; render this DST into a directory of your own (an emptyDir) rather than one holding such files", s.f.Path, err)
	}
	var st unix.Stat_t
	err = Fstatat(s.dirfd, s.temp.name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		// Someone put a directory there since Stage looked.
		err = errors.New("a directory is in the way of the file")
	}
	if err != nil {
		// Swap back, so that name is as it was and Discard finds the
		// temporary file again.
		if xerr := Renameat2(s.dirfd, s.temp.name, s.dirfd, s.name, unix.RENAME_EXCHANGE); xerr != nil {
			return fmt.Errorf("write %s: %w; exchanging the old file back failed: %v (it is now %s in the same directory)", s.f.Path, err, xerr, s.temp.name)
		}
		return fmt.Errorf("write %s: %w", s.f.Path, err)
	}
	s.newID = s.temp.id
	s.link, s.linked = tempFile{name: s.temp.name, id: devIno{uint64(st.Dev), st.Ino}}, true
	s.temp = tempFile{}
	syncDir(s.dirfd)
	s.state = applied
	return nil
}

// Commit drops what Restore would need (the hard link to the old file).
func (s *Staged) Commit() error {
	if s.state != applied {
		return fmt.Errorf("write %s: commit of a file not applied", s.f.Path)
	}
	s.state = done
	s.dropBackup()
	s.old = nil
	return nil
}

// Restore puts the old file back after Apply: the hard link renamed
// back over name (the very inode, owner and mode), the content kept in
// memory written back (in place for a mount point, else a new file with
// the old bytes and mode), a link made again, or, for a file that did
// not exist, the new one removed.
func (s *Staged) Restore() error {
	if s.state != applied {
		return fmt.Errorf("write %s: restore of a file not applied", s.f.Path)
	}
	s.state = done
	if s.unchanged {
		return nil
	}
	var err error
	switch {
	case s.inPlace:
		err = s.restoreInPlace()
	case !s.existed:
		removeTemp(s.dirfd, tempFile{name: s.name, id: s.newID})
	case s.linked:
		if err = Renameat(s.dirfd, s.link.name, s.dirfd, s.name); err != nil {
			// The old file lives on only under the hidden name: leave
			// it there and say where.
			return fmt.Errorf("put back the old %s: %w; it is kept as %s in the same directory", s.f.Path, err, s.link.name)
		}
		s.linked = false
	case s.isLink:
		err = s.replaceWith(func(tmp string) error {
			return call0("symlinkat", func() error { return unix.Symlinkat(s.oldLink, s.dirfd, tmp) })
		})
	default:
		// keepInMemory kept only a copyable file: never setuid or
		// setgid.
		old := AtomicFile{Path: s.f.Path, Mode: fileMode(s.oldMode), Content: s.old}
		var tmp tempFile
		if tmp, err = writeTemp(s.dirfd, s.name, old, randomTempName); err == nil {
			if err = Renameat(s.dirfd, tmp.name, s.dirfd, s.name); err != nil {
				removeTemp(s.dirfd, tmp)
			}
		}
	}
	s.dropBackup()
	s.old = nil
	if err != nil {
		return fmt.Errorf("put back the old %s: %w", s.f.Path, err)
	}
	syncDir(s.dirfd)
	return nil
}

// Discard removes the temporary file and the backup of a file not
// applied (or whose Apply failed); name is as it was.
func (s *Staged) Discard() {
	if s.state != staged {
		return
	}
	s.state = done
	if s.temp.name != "" {
		removeTemp(s.dirfd, s.temp)
		s.temp = tempFile{}
	}
	s.dropBackup()
	s.old = nil
}

func (s *Staged) dropBackup() {
	if s.linked {
		removeTemp(s.dirfd, s.link)
		s.linked = false
	}
}

// keepOld keeps the old file: a hard link under a hidden name, or, when
// the kernel or the filesystem refuses the link, its content in memory.
func (s *Staged) keepOld(link func(dirfd int, name, newname string) error) error {
	for range tempTries {
		n, err := randomTempName()
		if err != nil {
			return fmt.Errorf("write %s: temporary name: %w", s.f.Path, err)
		}
		err = link(s.dirfd, s.name, n)
		switch {
		case err == nil:
			var st unix.Stat_t
			if err := Fstatat(s.dirfd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				// Without the inode the cleanup cannot tell the link
				// is ours; this leaves it rather than risk another.
				return fmt.Errorf("write %s: keeping the old file: %w", s.f.Path, err)
			}
			s.existed, s.linked = true, true
			s.link = tempFile{name: n, id: devIno{uint64(st.Dev), st.Ino}}
			return nil
		case errors.Is(err, unix.EEXIST):
			continue
		case errors.Is(err, unix.ENOENT):
			return nil
		case errors.Is(err, unix.ENOSPC), errors.Is(err, unix.EROFS), errors.Is(err, unix.EDQUOT), errors.Is(err, unix.EIO):
			return fmt.Errorf("write %s: keeping the old file: %w", s.f.Path, err)
		default:
			// EPERM (protected_hardlinks: another owner's file, or a
			// directory), EXDEV (a mount point), EMLINK, ENOTSUP ...
			return s.keepInMemory()
		}
	}
	return fmt.Errorf("write %s: no free temporary name after %d tries in the directory; remove the %s* files there", s.f.Path, tempTries, tempPrefix)
}

// keepInMemory reads the old file, never through a link: a regular
// file's content and mode, a symbolic link's target, when it is ours and
// neither setuid nor setgid (a copy of it is then the same file). Any
// other file or link, not a mount point, is left for Apply to exchange.
// Anything else (a directory in the way) is an error.
func (s *Staged) keepInMemory() error {
	var st unix.Stat_t
	err := Fstatat(s.dirfd, s.name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) && !s.inPlace {
		return nil
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", s.f.Path, err)
	}
	if !s.inPlace && st.Mode&unix.S_IFMT != unix.S_IFDIR && !copyable(&st) {
		// A copy would not be the file: Restore would make it ours (a
		// setuid program of another user become one of ours, root's
		// when the init runs as root; another user's symbolic link
		// become ours, which protected_symlinks then follows), or
		// give it our group under its setgid bit. Exchange it instead:
		// Restore then brings back the very inode (owner, mode, file
		// capabilities), or Apply fails and nothing changes.
		s.existed, s.exchange = true, true
		return nil
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		// Read through a descriptor of the very link, checked again:
		// one swapped in since the look above is judged as it is.
		lfd, err := Openat(s.dirfd, s.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("write %s: keeping the old link: %w", s.f.Path, err)
		}
		defer Close(lfd)
		var lst unix.Stat_t
		if err := Fstat(lfd, &lst); err != nil {
			return fmt.Errorf("write %s: keeping the old link: %w", s.f.Path, err)
		}
		if lst.Mode&unix.S_IFMT == unix.S_IFDIR {
			return fmt.Errorf("write %s: a directory is in the way of the file", s.f.Path)
		}
		if lst.Mode&unix.S_IFMT != unix.S_IFLNK || !copyable(&lst) {
			s.existed, s.exchange = true, true
			return nil
		}
		buf := make([]byte, unix.PathMax)
		n, err := Readlinkat(lfd, "", buf)
		if err != nil {
			return fmt.Errorf("write %s: keeping the old link: %w", s.f.Path, err)
		}
		s.existed, s.isLink, s.oldLink = true, true, string(buf[:n])
		return nil
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return fmt.Errorf("write %s: a directory is in the way of the file", s.f.Path)
	default:
		return fmt.Errorf("write %s: something that is not a regular file is in the way (mode %#o)", s.f.Path, st.Mode)
	}
	if st.Size > MaxBackup {
		if !s.inPlace {
			s.existed, s.exchange = true, true
			return nil
		}
		return fmt.Errorf("write %s: the old content (%d bytes) is too big to keep in memory (over %d MiB) for putting it back", s.f.Path, st.Size, MaxBackup>>20)
	}
	old, ost, err := readRegular(s.dirfd, s.name, MaxBackup)
	if (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)) && !s.inPlace {
		// Another owner's file we may replace (the directory is
		// writable) but not read.
		s.existed, s.exchange = true, true
		return nil
	}
	if err != nil {
		return fmt.Errorf("write %s: keeping the old content: %w", s.f.Path, err)
	}
	if !s.inPlace && !copyable(&ost) {
		// Not the file looked at above: someone who can write the
		// directory swapped it in between. The rule is the one above,
		// judged on what was read.
		s.existed, s.exchange = true, true
		return nil
	}
	s.existed, s.old, s.oldMode = true, old, ost.Mode&07777
	return nil
}

// copyable reports whether a copy of the file st describes, made by us,
// would be the same file: ours, and neither setuid nor setgid (a copy
// takes our owner and our group).
func copyable(st *unix.Stat_t) bool {
	return int(st.Uid) == os.Geteuid() && st.Mode&(unix.S_ISUID|unix.S_ISGID) == 0
}

// restoreInPlace writes the kept content back into a mount point.
func (s *Staged) restoreInPlace() error {
	return writeInPlace(s.dirfd, s.name, AtomicFile{Path: s.f.Path, Mode: fileMode(s.oldMode), Content: s.old})
}

// replaceWith makes a new entry under a fresh temporary name with mk and
// renames it over name.
func (s *Staged) replaceWith(mk func(tmp string) error) error {
	for range tempTries {
		n, err := randomTempName()
		if err != nil {
			return err
		}
		err = mk(n)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return err
		}
		if err := Renameat(s.dirfd, n, s.dirfd, s.name); err != nil {
			_ = Unlinkat(s.dirfd, n, 0)
			return err
		}
		return nil
	}
	return fmt.Errorf("no free temporary name after %d tries", tempTries)
}

// holds reports whether name is a regular file holding exactly f.Content
// with mode f.Mode (for a mount point of another owner, whose mode is
// not ours to set, the content alone). It reads at most len(f.Content)
// bytes; any error is "no".
func holds(dirfd int, name string, f AtomicFile, inPlace bool) bool {
	var st unix.Stat_t
	if err := Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != int64(len(f.Content)) {
		return false
	}
	if st.Mode&07777 != unixMode(f.Mode) && !(inPlace && int(st.Uid) != os.Geteuid()) {
		return false
	}
	old, _, err := readRegular(dirfd, name, int64(len(f.Content)))
	return err == nil && bytes.Equal(old, f.Content)
}

// readRegular reads the regular file name in dirfd, never through a
// link and never blocking on a FIFO, refusing more than max bytes, and
// returns its content and the fstat of the very file it read.
func readRegular(dirfd int, name string, max int64) ([]byte, unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, st, err
	}
	file := os.NewFile(uintptr(fd), name)
	defer file.Close()
	if err := Fstat(fd, &st); err != nil {
		return nil, st, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, st, errors.New("it is not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(file, max+1))
	if err != nil {
		return nil, st, err
	}
	if int64(len(data)) > max {
		return nil, st, fmt.Errorf("larger than %d bytes", max)
	}
	return data, st, nil
}

// syncDir makes renames in dirfd durable; some filesystems cannot sync a
// directory, which costs nothing but durability. dirfd may be O_PATH,
// which fsync refuses; "." in it is the same directory.
func syncDir(dirfd int) {
	if d, err := Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
		_ = Fsync(d)
		Close(d)
	}
}

// unixMode is m's permission bits with setuid, setgid and sticky, as
// chmod(2) takes them.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		u |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		u |= unix.S_ISVTX
	}
	return u
}

// fileMode is unixMode's inverse.
func fileMode(u uint32) fs.FileMode {
	m := fs.FileMode(u & 0o777)
	if u&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if u&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if u&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// SweepLeftovers removes from the directory dirfd (path names it in
// errors) what an earlier write of ours left when it was killed between
// its steps (SIGKILL, OOM, a node crash): entries named exactly as
// randomTempName names them (".nonroot-init-" and 12 hex digits), regular
// files or symbolic links, owned by our effective UID. A temporary file
// never renamed, or the backup link of a file already replaced, is all
// such an entry can be; nothing else is touched (another user's entry
// of that name is left alone, as is anything not named so, or made or
// linked, by its ctime, less than minAge ago: another process's write
// may still be running). "Ago" is by the filesystem's clock (a network
// filesystem's server may not keep ours): a file made to ask it, and
// removed; when it cannot be made, nothing is swept. It returns
// the names it removed. A directory it cannot list is not an error: the
// write that follows reports what is wrong with it.
func SweepLeftovers(dirfd int, path string, minAge time.Duration) ([]string, error) {
	d, err := Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil
	}
	dir := os.NewFile(uintptr(d), path)
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return nil, nil
	}
	var removed []string
	var cutoff time.Time
	for _, n := range names {
		if !isTempName(n) {
			continue
		}
		var st unix.Stat_t
		if err := Fstatat(dirfd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			continue
		}
		if int(st.Uid) != os.Geteuid() || (st.Mode&unix.S_IFMT != unix.S_IFREG && st.Mode&unix.S_IFMT != unix.S_IFLNK) {
			continue
		}
		if cutoff.IsZero() {
			// Asked once, for the first entry that could be ours to
			// remove.
			now, err := filesystemNow(dirfd)
			switch {
			case errors.Is(err, unix.ENOSPC), errors.Is(err, unix.EDQUOT):
				// Full (of inodes, perhaps of leftovers): our clock
				// is the best there is, and sweeping is what frees it.
				now = time.Now()
			case err != nil:
				return nil, nil
			}
			cutoff = now.Add(-minAge)
		}
		if !time.Unix(st.Ctim.Unix()).Before(cutoff) {
			continue
		}
		if err := Unlinkat(dirfd, n, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return removed, fmt.Errorf("remove %s/%s, left by an interrupted write: %w", path, n, err)
		}
		removed = append(removed, n)
	}
	return removed, nil
}

// filesystemNow is the time by the clock of dirfd's filesystem: the
// ctime of a file made in it for the purpose, and removed.
// (Nothing is written or synced: only its ctime is wanted.)
func filesystemNow(dirfd int) (time.Time, error) {
	fd, n, err := createTemp(dirfd, randomTempName)
	if err != nil {
		return time.Time{}, err
	}
	var st unix.Stat_t
	err = Fstat(fd, &st)
	Close(fd)
	if err != nil {
		// Without the inode the name cannot be told ours: left.
		return time.Time{}, err
	}
	removeTemp(dirfd, tempFile{name: n, id: devIno{uint64(st.Dev), st.Ino}})
	return time.Unix(st.Ctim.Unix()), nil
}

// isTempName reports whether n is a name randomTempName makes.
func isTempName(n string) bool {
	hexPart, ok := strings.CutPrefix(n, tempPrefix)
	if !ok || len(hexPart) != 2*tempRandomBytes {
		return false
	}
	for _, c := range hexPart {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
