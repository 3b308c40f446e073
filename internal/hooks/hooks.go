// Package hooks lists the start-up hooks of NONROOT_HOOKS (setup step
// 8): the executables of each directory, in the order they run. Running
// them is the supervisor's (supervisor.RunHook), which is the only code
// that starts processes.
//
// The order is that of run-parts and of the Docker official images'
// /docker-entrypoint.d/*: the directories in the order given, and the
// entries of each in byte order of their names (so "10-x" runs before
// "2-y": number them with the same width).
package hooks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-multierror"
	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// Listing is what List found.
type Listing struct {
	Hooks   []string  // paths to run, in order
	Skipped []Skipped // entries that are not run, with why (to warn about)
	Empty   []string  // directories with nothing in them to run or skip
}

// Skipped is an entry of a hook directory that is not run.
type Skipped struct {
	Path   string
	Reason string
}

// List returns the hooks of dirs in the order they run. Names starting
// with "." are ignored (a ConfigMap mount's ..data and its timestamped
// directory, editor and VCS files). A symlink counts as what it points
// to: a symlink to an executable file runs. A regular file the effective
// IDs may not execute (faccessat with AT_EACCESS, the kernel's answer
// for exec), a directory and any other kind of entry are Skipped, with
// the reason. A directory that is missing or unreadable is an error
// naming it (a typo in NONROOT_HOOKS must not silently skip a
// migration); every such directory is reported at once.
func List(dirs []string) (Listing, error) {
	var l Listing
	var errs *multierror.Error
	for _, dir := range dirs {
		hooks, skipped, err := listDir(dir)
		if err != nil {
			errs = multierror.Append(errs, err)
			continue
		}
		if len(hooks) == 0 && len(skipped) == 0 {
			l.Empty = append(l.Empty, dir)
		}
		l.Hooks = append(l.Hooks, hooks...)
		l.Skipped = append(l.Skipped, skipped...)
	}
	if err := errlist.OrNil(errs); err != nil {
		return Listing{}, err
	}
	return l, nil
}

// listDir lists one directory. Every entry is judged relative to the
// directory's descriptor, so that a directory renamed meanwhile cannot
// mix two trees' entries.
func listDir(dir string) (hooks []string, skipped []Skipped, err error) {
	fd, err := fsx.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, dirError(dir, err)
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, nil, dirError(dir, err)
	}
	sort.Strings(names) // byte order, as run-parts and `ls` in the C locale
	for _, name := range names {
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		if why := judge(fd, name); why != "" {
			skipped = append(skipped, Skipped{Path: path, Reason: why})
			continue
		}
		hooks = append(hooks, path)
	}
	return hooks, skipped, nil
}

// judge returns why the entry name of the directory dirfd is not run,
// or "" when it is.
func judge(dirfd int, name string) string {
	var lst unix.Stat_t
	if err := fsx.Fstatat(dirfd, name, &lst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Sprintf("cannot stat it: %v", fsx.Errno(err))
	}
	st := lst
	link := lst.Mode&unix.S_IFMT == unix.S_IFLNK
	if link {
		if err := fsx.Fstatat(dirfd, name, &st, 0); err != nil {
			return fmt.Sprintf("a symlink whose target cannot be reached: %v", fsx.Errno(err))
		}
	}
	what := ""
	if link {
		what = "a symlink to "
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return what + "a directory; hook directories are not searched recursively (list it in NONROOT_HOOKS to run its hooks)"
	default:
		return what + "not a regular file"
	}
	if err := fsx.Faccessat(dirfd, name, unix.X_OK, unix.AT_EACCESS); err != nil {
		return fmt.Sprintf("not executable by uid %d (owner %d:%d, mode %04o): %v; chmod a+x it (or g+x for group 0) at build time, or set defaultMode 0755 on a ConfigMap volume",
			os.Geteuid(), st.Uid, st.Gid, st.Mode&0o7777, fsx.Errno(err))
	}
	return ""
}

// dirError names a hook directory that cannot be listed and the fix.
func dirError(dir string, err error) error {
	errno := fsx.Errno(err)
	fix := "fix NONROOT_HOOKS or make the directory readable (r-x) by our uid or group"
	if errors.Is(errno, unix.ENOENT) {
		fix = "create it, or remove it from NONROOT_HOOKS (a missing directory is an error so that a typo never skips a hook)"
	} else if errors.Is(errno, unix.ENOTDIR) {
		fix = "list directories in NONROOT_HOOKS, not files"
	}
	return fmt.Errorf("NONROOT_HOOKS: cannot list %s: %w; %s", dir, errno, fix)
}
