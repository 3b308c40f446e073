package volumes

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// SymlinkError is a starting path that is, or passes through, a symbolic
// link: FixPermissions refuses it, since whoever can write the link's
// directory could point a root walk at any tree.
type SymlinkError struct {
	Path      string // the path as given
	Component string // the prefix of Path that is the link
	Target    string // what the link points to, "" when unreadable
}

func (e *SymlinkError) Error() string {
	to := ""
	if e.Target != "" {
		to = " (to " + quote(e.Target) + ")"
	}
	return fmt.Sprintf("%s is a symbolic link%s, which could point the walk at another tree; pass the real path", quote(e.Component), to)
}

// HostileParentError is a starting path refused, when running as root,
// because a directory on its way can be changed by a user other than
// root: that user could rename another directory (one only root may
// read) into the place of the one meant, and root's walk would hand it
// to the group.
type HostileParentError struct {
	Path string // the path as given
	Dir  string // the directory that another user can change
	Who  string // who: "uid 1000", "a member of group 1000", "any user"
	Why  string // "belongs to uid 1000", "has mode 0777 (...)"
}

func (e *HostileParentError) Error() string {
	return fmt.Sprintf("%s %s, so %s could rename another directory into its place before root walks it; make %s owned by root and not group/other-writable, or run fix-permissions on a mount point or at build time",
		quote(e.Dir), e.Why, e.Who, quote(e.Dir))
}

// renamableBy says who other than root can rename the entries of a
// directory (statx st), or returns "" when nobody can: its owner when
// that is not root (who may chmod it at will), and whoever may write it
// when it is not sticky. A sticky directory (/tmp) lets each user rename
// only their own entries. The same rule as for STATE_DIR (see
// identity's hostileDir), for root.
func renamableBy(st *unix.Statx_t) (who, why string) {
	mode := uint32(st.Mode)
	switch {
	case st.Uid != 0:
		return fmt.Sprintf("uid %d", st.Uid), fmt.Sprintf("belongs to uid %d", st.Uid)
	case mode&unix.S_ISVTX != 0:
		return "", ""
	case mode&0o002 != 0:
		return "any user", fmt.Sprintf("has mode %04o (any user may write it, no sticky bit)", mode&0o7777)
	case mode&0o020 != 0:
		return fmt.Sprintf("a member of group %d", st.Gid), fmt.Sprintf("has mode %04o (group %d may write it, no sticky bit)", mode&0o7777, st.Gid)
	}
	return "", ""
}

// isMountRoot reports a mount point: the kernel refuses to rename it
// (EBUSY), so the directory holding it cannot swap it for another.
func isMountRoot(st *unix.Statx_t) bool {
	return st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}

// openNoSymlinks opens path with O_PATH one component at a time, from
// "/" for an absolute path and from the working directory otherwise,
// each with O_NOFOLLOW, and refuses a symbolic link at any component with
// a *SymlinkError. st gets the statx of the returned descriptor. ".."
// goes to the real parent of the directory reached so far, which is
// never a link.
//
// With asRoot, each step is also refused (a *HostileParentError) when
// the directory holding the entry stepped through can be changed by a
// user other than root (renamableBy) and the entry is not a mount point:
// for a name, the directory it is in; for "..", the parent reached,
// which holds the directory left. A relative path's working directory is
// checked the same way up to "/". Each check is made on the descriptor
// the next step starts from, so the directories checked are the ones
// walked.
func openNoSymlinks(path string, st *unix.Statx_t, asRoot bool) (int, error) {
	if path == "" {
		return -1, unix.ENOENT
	}
	start := "."
	if strings.HasPrefix(path, "/") {
		start = "/"
	}
	fd, err := fsx.Open(start, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := fstatx(fd, st); err != nil {
		fsx.Close(fd)
		return -1, err
	}
	if asRoot && start == "." {
		if err := checkUp(fd, st, path); err != nil {
			fsx.Close(fd)
			return -1, err
		}
	}
	prefix := strings.TrimSuffix(start, ".")
	for _, name := range strings.Split(path, "/") {
		if name == "" || name == "." {
			continue
		}
		dir := prefix
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		prefix += name
		parent := *st
		next, err := fsx.Openat(fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		fsx.Close(fd)
		if err != nil {
			return -1, err
		}
		fd = next
		if err := fstatx(fd, st); err != nil {
			fsx.Close(fd)
			return -1, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			target := make([]byte, unix.PathMax)
			n, err := fsx.Readlinkat(fd, "", target)
			fsx.Close(fd)
			e := &SymlinkError{Path: path, Component: prefix}
			if err == nil {
				e.Target = string(target[:n])
			}
			return -1, e
		}
		if !asRoot {
			continue
		}
		holder, held := &parent, st
		if name == ".." {
			holder, held, dir = st, &parent, prefix
		}
		if who, why := renamableBy(holder); who != "" && !isMountRoot(held) {
			fsx.Close(fd)
			// No component so far is a link: the lexical form is the
			// real one.
			dir = filepath.Clean(dir)
			if dir == "." {
				dir = workDir()
			}
			return -1, &HostileParentError{Path: path, Dir: dir, Who: who, Why: why}
		}
	}
	return fd, nil
}

// checkUp applies openNoSymlinks' asRoot rule to the working directory
// (descriptor fd, statx st) and each of its parents up to "/": a
// relative path is only as safe as the directories that hold the
// working directory.
func checkUp(fd int, st *unix.Statx_t, path string) error {
	cur, err := fsx.Openat(fd, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer func() { fsx.Close(cur) }()
	held := *st
	dir := workDir()
	// PATH_MAX/2 levels at most: "/" is the directory whose ".." is
	// itself.
	for range unix.PathMax / 2 {
		up, err := fsx.Openat(cur, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		fsx.Close(cur)
		cur = up
		var holder unix.Statx_t
		if err := fstatx(cur, &holder); err != nil {
			return err
		}
		if sameInode(&holder, &held) {
			return nil
		}
		dir = filepath.Dir(dir)
		if who, why := renamableBy(&holder); who != "" && !isMountRoot(&held) {
			return &HostileParentError{Path: path, Dir: dir, Who: who, Why: why}
		}
		held = holder
	}
	return nil
}

// workDir names the working directory in a message.
func workDir() string {
	if wd, err := unix.Getwd(); err == nil {
		return wd
	}
	return "the working directory"
}
