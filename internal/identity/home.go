package identity

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// errSharedHome marks a home another user could plant files in.
var errSharedHome = errors.New("another user could plant files there that COMMAND's shell and tools read by name (.bashrc, .profile, .ssh/config)")

// inheritedHome says why h, an inherited $HOME or the home of the UID's
// existing entry, is not COMMAND's HOME (SPEC.md, the HOME
// rule): it is not an absolute path other than / that a passwd line can
// hold, it is not writable by us, or it is shared (sharedHome). Provide
// and Inspect both judge a home only through it.
func inheritedHome(h string) error {
	if !usableEnvHome(h) {
		return fmt.Errorf("%q is not an absolute path other than / that a passwd line can hold", h)
	}
	if err := writableDir(h); err != nil {
		return err
	}
	return sharedHome(h)
}

// fallbackHome is the HOME kept when none is usable: h unless it is
// unfit for a passwd line or shared, else /.
func fallbackHome(h string) string {
	if usableEnvHome(h) && !errors.Is(sharedHome(h), errSharedHome) {
		return h
	}
	return "/"
}

// sharedHome returns an error wrapping errSharedHome when a user other
// than us (the effective UID, as for writableDir) and root could put files in the directory h or put another
// directory in its place: h (or, while it is missing, the nearest
// existing directory above it, where another user could make it first)
// lets others write it, sticky or not (/tmp), or belongs to another
// non-root UID; or a directory above it lets others rename its entries
// (others may write it without the sticky bit, or it belongs to another
// non-root UID). Group write is allowed: OpenShift images make homes
// 0775 root:0, and the arbitrary UID is in group 0 by design. Symbolic
// links are resolved, as COMMAND will resolve them. Other errors (h
// cannot be resolved) do not wrap errSharedHome.
func sharedHome(h string) error {
	uid := os.Geteuid()
	p := filepath.Clean(h)
	for p != "/" {
		if _, err := os.Stat(p); err == nil {
			break
		}
		p = filepath.Dir(p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return err
	}
	for dir, self := real, true; ; dir, self = filepath.Dir(dir), false {
		var st unix.Stat_t
		if err := unix.Stat(dir, &st); err != nil {
			return &os.PathError{Op: "stat", Path: dir, Err: err}
		}
		if why := plantable(st.Mode, st.Uid, uid, self); why != "" {
			if dir == filepath.Clean(h) {
				return fmt.Errorf("%s %s: %w", dir, why, errSharedHome)
			}
			return fmt.Errorf("%s (for %s) %s: %w", dir, h, why, errSharedHome)
		}
		if dir == "/" {
			return nil
		}
	}
}

// plantable says why a directory of mode and owner lets a user other than
// uid and root plant files: in it when self (the home, or where it would
// be made), else below it by renaming its entries. "" when none can.
func plantable(mode, owner uint32, uid int, self bool) string {
	switch {
	case owner != 0 && int(owner) != uid:
		return fmt.Sprintf("belongs to uid %d", owner)
	case self && mode&0o002 != 0:
		return fmt.Sprintf("has mode %04o (others may write it)", mode&0o7777)
	case !self && mode&0o002 != 0 && mode&unix.S_ISVTX == 0:
		return fmt.Sprintf("has mode %04o (others may rename what is in it: no sticky bit)", mode&0o7777)
	}
	return ""
}
