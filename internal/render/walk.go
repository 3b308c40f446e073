package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// maxLinks is how many symbolic links one walk follows, the kernel's
// MAXSYMLINKS.
const maxLinks = 40

// linkRule is which symbolic links a walker follows.
type linkRule int

const (
	// ownedLinks: on the way to SRC or DST, a link owned by root or by
	// our effective UID. Anyone else who owns a link could point it
	// anywhere, and the init may be root (the kernel's
	// fs.protected_symlinks has the same idea, for sticky directories
	// only). Debian's /var/run -> /run is root's and keeps working.
	ownedLinks linkRule = iota
	// noLinks: below DST, none.
	noLinks
	// insideLinks: inside SRC, any link, whoever owns it, as long as it
	// stays inside SRC: what it names is in SRC anyway. This is how a
	// ConfigMap's top-level names and its ..data are read.
	insideLinks
)

// A walker resolves a path one component at a time, each an
// openat(O_PATH|O_NOFOLLOW) in the directory before, so that the kernel
// never follows a symbolic link for it: the walker reads each link
// (readlinkat on the link's own descriptor) and follows it or not by its
// rule. It holds a descriptor of every directory from "/" to where it
// is, so ".." returns to the directory it came from, and whoever uses it
// acts through the descriptor of the directory it checked, never through
// a path walked again.
type walker struct {
	dirs  []int    // O_PATH descriptors, dirs[0] "/"
	names []string // the path of each, for messages
	rule  linkRule
	floor int    // ".." and links never lead above dirs[floor] (with noLinks and insideLinks)
	real  string // with insideLinks: the path of dirs[floor], links resolved, for absolute links
	place string // with noLinks and insideLinks: DST or SRC as configured, for messages
	label string // before a path that is not a directory: "DST "
	euid  int
	links int
}

// newWalker starts at "/", following links owned by root or euid.
//
// euid is read here, not handed in as setup's host.Creds: the owner
// rule trusts the UID the kernel opens the walked files as, and the
// value read where those opens happen cannot be a stale one.
func newWalker() (*walker, error) {
	fd, err := fsx.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: "/", Err: fsx.Errno(err)}
	}
	return &walker{dirs: []int{fd}, names: []string{"/"}, rule: ownedLinks, euid: os.Geteuid()}, nil
}

func (w *walker) fd() int      { return w.dirs[len(w.dirs)-1] }
func (w *walker) path() string { return w.names[len(w.names)-1] }

func (w *walker) close() { w.truncate(0) }

// truncate closes the directories from dirs[n] on.
func (w *walker) truncate(n int) {
	for _, fd := range w.dirs[n:] {
		fsx.Close(fd)
	}
	w.dirs, w.names = w.dirs[:n], w.names[:n]
}

func (w *walker) push(fd int, name string) {
	w.dirs = append(w.dirs, fd)
	w.names = append(w.names, filepath.Join(w.path(), name))
}

// confine makes the current directory the floor: from now on links are
// followed by rule and never lead above it. real is its path with links
// resolved; shown is how messages name it.
func (w *walker) confine(rule linkRule, place, shown string) {
	w.rule, w.place, w.label = rule, place, ""
	w.floor = len(w.dirs) - 1
	w.real = w.path()
	w.names[w.floor] = shown
	w.links = 0
}

// clone is a walker of its own at the same place.
func (w *walker) clone() (*walker, error) {
	c := *w
	c.dirs, c.names = make([]int, 0, len(w.dirs)), append([]string(nil), w.names...)
	for _, fd := range w.dirs {
		d, err := fsx.DupCloexec(fd)
		if err != nil {
			c.close()
			return nil, err
		}
		c.dirs = append(c.dirs, d)
	}
	return &c, nil
}

// leaf is the last component of a walk when it is not a directory: its
// name in the walker's directory and its own status (lstat).
type leaf struct {
	name string
	st   unix.Stat_t
}

// walkOpts says what a walk may do.
type walkOpts struct {
	create bool // make missing directories (mkdirat, mode 0755 minus the umask)
	leaf   bool // the last component may be something else than a directory
}

// step is one component still to walk, and the link it comes from.
type step struct {
	name   string
	link   string // the link whose target it is, or ""
	target string // that target
}

func steps(path, link, target string) []step {
	var out []step
	for _, c := range strings.Split(path, "/") {
		if c != "" && c != "." {
			out = append(out, step{c, link, target})
		}
	}
	return out
}

// walk resolves path (relative to where w is; an absolute path from
// "/": callers make a configured path absolute first). It leaves w in the last directory and returns nil, or, with
// opts.leaf, the last component when that is not a directory. A missing
// component without opts.create ends the walk with an error satisfying
// errors.Is(err, fs.ErrNotExist), w in the last directory that exists.
func (w *walker) walk(path string, opts walkOpts) (*leaf, error) {
	if filepath.IsAbs(path) {
		w.truncate(1)
	}
	queue := steps(path, "", "")
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s.name == ".." {
			if len(w.dirs)-1 > w.floor {
				w.truncate(len(w.dirs) - 1)
			} else if w.rule != ownedLinks {
				return nil, w.outError(s.link, s.target)
			}
			continue
		}
		path := filepath.Join(w.path(), s.name)
		fd, err := fsx.Openat(w.fd(), s.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) && opts.create {
			if err := fsx.Mkdirat(w.fd(), s.name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
				return nil, &fs.PathError{Op: "create", Path: path, Err: err}
			}
			fd, err = fsx.Openat(w.fd(), s.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		var st unix.Stat_t
		if err := fsx.Fstat(fd, &st); err != nil {
			fsx.Close(fd)
			return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			w.push(fd, s.name)
			continue
		case unix.S_IFLNK:
			target, err := readlink(fd)
			fsx.Close(fd)
			if err != nil {
				return nil, &fs.PathError{Op: "readlink", Path: path, Err: err}
			}
			if err := w.follow(path, &st, target); err != nil {
				return nil, err
			}
			if w.links++; w.links > maxLinks {
				return nil, &fs.PathError{Op: "open", Path: path, Err: unix.ELOOP}
			}
			rest, err := w.jump(path, target)
			if err != nil {
				return nil, err
			}
			queue = append(steps(rest, path, target), queue...)
			continue
		}
		fsx.Close(fd)
		if len(queue) == 0 && opts.leaf {
			return &leaf{name: s.name, st: st}, nil
		}
		if w.rule == noLinks {
			return nil, fmt.Errorf("%s is in the way: it is not a directory", path)
		}
		return nil, fmt.Errorf("%s%s is not a directory", w.label, path)
	}
	return nil, nil
}

// follow decides whether the walker follows the link at path (its own
// status st, pointing at target).
func (w *walker) follow(path string, st *unix.Stat_t, target string) error {
	switch w.rule {
	case ownedLinks:
		// Root's link with a second name (a hard link another user made,
		// where fs.protected_hardlinks is 0) is not where root put it.
		if st.Uid == 0 && st.Nlink > 1 {
			return fmt.Errorf("%s is a symbolic link owned by root with %d hard links (to %s); another user may have linked root's link there, so nonroot-init does not follow it: name the real path in NONROOT_TEMPLATES", path, st.Nlink, target)
		}
		if st.Uid == 0 || int(st.Uid) == w.euid {
			return nil
		}
		return fmt.Errorf("%s is a symbolic link owned by uid %d (to %s); on the way to SRC or DST nonroot-init follows only a link owned by root or by uid %d (itself), since another owner could point it anywhere: name the real path in NONROOT_TEMPLATES, or remove the link", path, st.Uid, target, w.euid)
	case noLinks:
		return fmt.Errorf("%s is a symbolic link inside DST %s; nonroot-init never writes through one: remove it", path, w.place)
	}
	return nil
}

// jump moves w to where the target of the link at path starts from and
// returns what is left to walk: for a relative target, the link's
// directory and the whole target; for an absolute one "/" (or, inside
// SRC, SRC itself, when the target is below it).
func (w *walker) jump(path, target string) (string, error) {
	if !filepath.IsAbs(target) {
		return target, nil
	}
	if w.rule == ownedLinks {
		w.truncate(1)
		return target, nil
	}
	clean := filepath.Clean(target)
	rest, ok := strings.CutPrefix(clean, strings.TrimSuffix(w.real, "/")+"/")
	if !ok && clean != w.real {
		if _, err := os.Lstat(clean); errors.Is(err, fs.ErrNotExist) {
			return "", &fs.PathError{Op: "open", Path: path, Err: unix.ENOENT}
		}
		return "", w.outError(path, target)
	}
	w.truncate(w.floor + 1)
	return rest, nil
}

// outError is the refusal of a link leading above the floor.
func (w *walker) outError(link, target string) error {
	if w.rule == noLinks || link == "" {
		return fmt.Errorf("%s: refusing a path that leaves DST %s", w.path(), w.place)
	}
	return fmt.Errorf("%s is a symbolic link out of SRC %s (to %s); only links inside SRC, such as a ConfigMap's, are followed", link, w.place, target)
}

// readlink reads the link fd is an O_PATH|O_NOFOLLOW descriptor of.
func readlink(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := fsx.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	if n == len(buf) {
		return "", &os.SyscallError{Syscall: "readlinkat", Err: unix.ENAMETOOLONG}
	}
	return string(buf[:n]), nil
}

// openLeaf opens the file l in dirfd for reading and checks that it is
// the inode the walk saw: O_NOFOLLOW, and O_NONBLOCK so that a FIFO
// swapped in meanwhile cannot block the init. It returns the file's
// status, taken on the open descriptor.
func openLeaf(dirfd int, l *leaf, shown string) (*os.File, unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := fsx.Openat(dirfd, l.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, st, &fs.PathError{Op: "open", Path: shown, Err: err}
	}
	if err := fsx.Fstat(fd, &st); err != nil {
		fsx.Close(fd)
		return nil, st, &fs.PathError{Op: "stat", Path: shown, Err: err}
	}
	if st.Dev != l.st.Dev || st.Ino != l.st.Ino {
		fsx.Close(fd)
		return nil, st, fmt.Errorf("%s was replaced while it was read; start again, and keep other users from writing SRC", shown)
	}
	return os.NewFile(uintptr(fd), shown), st, nil
}

// modeOf is the fs.FileMode of a stat(2) mode.
func modeOf(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
