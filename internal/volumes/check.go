package volumes

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-multierror"
	"github.com/nonroot-init/nonroot-init/internal/fsx"
	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// Identity is who a volume must be writable for: the effective IDs and
// the supplementary groups (a pod's fsGroup and supplementalGroups).
type Identity struct {
	UID    int
	GID    int
	Groups []int
}

// IdentityOf is who the process of credentials c writes as: its
// effective UID and GID and its supplementary groups.
func IdentityOf(c host.Creds) Identity {
	return Identity{UID: c.EUID, GID: c.EGID, Groups: c.Groups}
}

// inGroup reports whether gid is the effective GID or a supplementary one.
func (id Identity) inGroup(gid int) bool {
	if gid == id.GID {
		return true
	}
	for _, g := range id.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// groupList is "0,1000" : the effective GID first, then the others.
func (id Identity) groupList() string {
	out := []int{id.GID}
	for _, g := range id.Groups {
		if g != id.GID {
			out = append(out, g)
		}
	}
	return joinIDs(out)
}

// Problem is a volume that is not usable: what is wrong, with the facts
// that show it, and the fix that applies.
type Problem struct {
	Path string
	What string // e.g. "is not writable by uid 1000680000 (groups 0): owner root:root mode 0755"
	Fix  string
	Err  error // the errno behind it, for errors.Is
}

func (p *Problem) Error() string {
	s := "NONROOT_VOLUMES: " + quote(p.Path) + " " + p.What
	if p.Fix != "" {
		s += "; " + p.Fix
	}
	return s
}

func (p *Problem) Unwrap() error { return p.Err }

// Check proves each path writable by creating, writing 4 KiB, syncing and
// removing a uniquely named file directly in it, and returns every path
// that failed in one error, each a *Problem with its cause and fix (see
// Problems). Only the listed directories are probed, never their trees.
//
// A listed path is resolved with its symbolic links: it is the operator's
// setting, and a volume path may be a link to the real mount. The probe
// file itself is created with O_CREAT|O_EXCL|O_NOFOLLOW relative to the
// directory's descriptor, so nothing planted in the volume can redirect it.
// who is used to explain a failure; the probe runs as the process.
func Check(paths []string, who Identity) error {
	var errs *multierror.Error
	for _, p := range paths {
		if err := probe(p); err != nil {
			errs = multierror.Append(errs, diagnose(p, who, gather(p), err))
		}
	}
	return errlist.OrNil(errs)
}

// Problems returns the problems inside an error from Check, one per path.
func Problems(err error) []error {
	var me *multierror.Error
	if errors.As(err, &me) {
		return me.Errors
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// probeSize is how much the probe writes: one page, so that a filesystem
// with less than a block free fails the probe.
const probeSize = 4096

// probe creates, writes, syncs and removes a file in dir. The file is
// removed on every path out once it exists; a SIGTERM during setup cannot
// interrupt it, because the init has already caught every signal (only
// SIGKILL can leave a ".nonroot-init-probe-*" file behind).
func probe(dir string) error {
	dfd, err := fsx.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: fsx.Errno(err)}
	}
	defer fsx.Close(dfd)
	var rnd [8]byte
	// getrandom(2) directly: crypto/rand would pull its FIPS machinery
	// into a binary that only needs a unique name.
	if _, err := fsx.Getrandom(rnd[:], 0); err != nil {
		return fmt.Errorf("probe name: %w", err)
	}
	name := fmt.Sprintf(".nonroot-init-probe-%d-%s", os.Getpid(), hex.EncodeToString(rnd[:]))
	fd, err := fsx.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return &os.PathError{Op: "create", Path: dir + "/" + name, Err: fsx.Errno(err)}
	}
	werr := writeAll(fd, make([]byte, probeSize))
	var serr error
	if werr == nil {
		serr = fsx.Fsync(fd)
	}
	cerr := fsx.Close(fd)
	uerr := fsx.Unlinkat(dfd, name, 0)
	path := dir + "/" + name
	switch {
	case werr != nil:
		return &os.PathError{Op: "write", Path: path, Err: fsx.Errno(werr)}
	case serr != nil:
		return &os.PathError{Op: "fsync", Path: path, Err: fsx.Errno(serr)}
	case cerr != nil:
		return &os.PathError{Op: "close", Path: path, Err: fsx.Errno(cerr)}
	case uerr != nil:
		return &os.PathError{Op: "remove", Path: path, Err: fsx.Errno(uerr)}
	}
	return nil
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := fsx.Write(fd, b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// facts is what gather saw about a volume path; diagnose decides from it.
type facts struct {
	statErr    error  // from stat(2); nil when the fields below are set
	link       bool   // the path itself is a symbolic link (from lstat)
	linkTarget string // what it points to, as written
	realPath   string // the path with every link resolved, when that differs from it
	isDir      bool
	kind       string // "regular file", "directory", ...
	uid, gid   int
	mode       uint32 // permission bits with setuid, setgid and sticky
	mountRoot  bool   // the path is a mount point (a mounted volume)
	readOnly   bool   // statfs says ST_RDONLY
	statfsOK   bool
	freeBytes  uint64 // available to unprivileged users
	sizeBytes  uint64
}

// gather stats path and its filesystem.
func gather(path string) facts {
	var f facts
	// The link itself, for advice: a fix run as root must name the real
	// directory, since fix-permissions refuses a path through a link.
	if target, err := os.Readlink(path); err == nil {
		f.link, f.linkTarget = true, target
	}
	if real, err := filepath.EvalSymlinks(path); err == nil && real != filepath.Clean(path) {
		f.realPath = real
	}
	var st unix.Statx_t
	if err := fsx.Statx(unix.AT_FDCWD, path, 0, unix.STATX_TYPE|unix.STATX_MODE|unix.STATX_UID|unix.STATX_GID, &st); err != nil {
		f.statErr = fsx.Errno(err)
		return f
	}
	f.uid, f.gid, f.mode = int(st.Uid), int(st.Gid), uint32(st.Mode)&0o7777
	f.isDir = st.Mode&unix.S_IFMT == unix.S_IFDIR
	f.kind = kindOf(uint32(st.Mode))
	f.mountRoot = st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
	var sfs unix.Statfs_t
	if err := fsx.Statfs(path, &sfs); err == nil {
		f.statfsOK = true
		f.readOnly = sfs.Flags&unix.ST_RDONLY != 0
		f.freeBytes = sfs.Bavail * uint64(sfs.Bsize)
		f.sizeBytes = sfs.Blocks * uint64(sfs.Bsize)
	}
	return f
}

func kindOf(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFREG:
		return "regular file"
	case unix.S_IFLNK:
		return "symbolic link"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "device"
	case unix.S_IFIFO:
		return "named pipe"
	case unix.S_IFSOCK:
		return "socket"
	}
	return "special file"
}
