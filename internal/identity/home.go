package identity

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// homeFacts are what the HOME rule depends on.
type homeFacts struct {
	setting    string // NONROOT_HOME, empty when unset
	settingErr error  // sharedHome(setting): wraps errSharedHome when another user could plant files in it
	env        string // $HOME as COMMAND would inherit it
	envErr     error  // inheritedHome(env): nil when $HOME can be COMMAND's HOME
	entry      string // the home of the UID's passwd entry, empty without one
	entryErr   error  // the same for it
	uid        int    // who uses HOME: root never takes a shared one
}

// homePlan is where HOME goes, before anything is created.
type homePlan struct {
	path string // HOME; with inState, the fallback when STATE_DIR/home cannot be had
	// setting: NONROOT_HOME, created if missing (unless shared, as root).
	setting bool
	// inState: STATE_DIR/home, when a state directory is usable.
	inState bool
	// skipped are the inherited homes passed over because another user
	// could plant files in them, for the log.
	skipped []skippedHome
}

// skippedHome is an inherited home the HOME rule passed over.
type skippedHome struct {
	what, home string
	err        error
}

// planHome is the HOME rule of SPEC.md (step 2), the only place it is
// written; Provide applies it and Inspect reports it. NONROOT_HOME if
// set, else $HOME if it can be COMMAND's HOME (inheritedHome: writable,
// not /, not shared with another user), else the home of the UID's
// existing entry judged the same way, as a login would pick (root
// started without $HOME gets /root, not a directory in a shared /tmp),
// else STATE_DIR/home. Root never gets STATE_DIR/home: a root-owned
// directory in a shared /tmp would only lock a later non-root process
// out of it. With none usable HOME keeps $HOME unless it is shared (else
// /), and the caller warns.
func planHome(f homeFacts) homePlan {
	var skipped []skippedHome
	if f.setting != "" {
		// Root never takes a HOME another user could plant files in, even
		// when NONROOT_HOME names it: a root shell (COMMAND without
		// RUN_AS, or a `nonroot-init exec` session of kubectl exec as
		// root) would run that user's .bashrc as root. Another UID is
		// only warned: it can hurt only itself.
		if f.uid != 0 || !errors.Is(f.settingErr, errSharedHome) {
			return homePlan{path: f.setting, setting: true}
		}
		skipped = append(skipped, skippedHome{"NONROOT_HOME", f.setting, f.settingErr})
	}
	for _, c := range []struct {
		what, home string
		err        error
	}{{"$HOME", f.env, f.envErr}, {"the passwd entry's home", f.entry, f.entryErr}} {
		if c.err == nil {
			return homePlan{path: c.home, skipped: skipped}
		}
		if errors.Is(c.err, errSharedHome) {
			skipped = append(skipped, skippedHome{c.what, c.home, c.err})
		}
	}
	fallback := "/"
	if usableEnvHome(f.env) && !errors.Is(f.envErr, errSharedHome) {
		fallback = f.env
	}
	return homePlan{path: fallback, inState: f.uid != 0, skipped: skipped}
}

// gatherHome reads the facts planHome needs: the settings, $HOME from
// COMMAND's environment so far, and whether each candidate can be
// COMMAND's HOME.
func gatherHome(o Options, entryHome string) homeFacts {
	f := homeFacts{setting: o.Home, entry: entryHome, uid: o.UID}
	if o.Home != "" {
		f.settingErr = sharedHome(o.Home, o.EUID)
		if o.UID != 0 || !errors.Is(f.settingErr, errSharedHome) {
			return f
		}
	}
	f.env, _ = o.Getenv("HOME")
	f.envErr = inheritedHome(f.env, o.EUID)
	f.entryErr = inheritedHome(entryHome, o.EUID)
	return f
}

// errSharedHome marks a home another user could plant files in.
var errSharedHome = errors.New("another user could plant files there that COMMAND's shell and tools read by name (.bashrc, .profile, .ssh/config)")

// inheritedHome says why h, an inherited $HOME or the home of the UID's
// existing entry, is not COMMAND's HOME (SPEC.md, the HOME
// rule): it is not an absolute path other than / that a passwd line can
// hold, it is not writable by us, or it is shared (sharedHome). Provide
// and Inspect both judge a home only through it.
func inheritedHome(h string, euid int) error {
	if !usableEnvHome(h) {
		return fmt.Errorf("%q is not an absolute path other than / that a passwd line can hold", h)
	}
	if err := writableDir(h); err != nil {
		return err
	}
	return sharedHome(h, euid)
}

// sharedHome returns an error wrapping errSharedHome when a user other
// than us (uid, our effective UID, as for writableDir) and root could put
// files in the directory h or put another directory in its place: h (or,
// while it is missing, the directory it would be made in, where another
// user could make it first) lets others write it, sticky or not (/tmp),
// or belongs to another non-root UID; or a directory on the way lets
// others rename its entries (others may write it without the sticky bit,
// or it belongs to another non-root UID); or a symbolic link on the way
// belongs to another non-root UID (its owner may point it elsewhere at
// any time). Group write is allowed: OpenShift images make homes 0775
// root:0, and the arbitrary UID is in group 0 by design. The path is
// walked one component at a time, links resolved as the kernel resolves
// them, so every directory COMMAND goes through is judged. Other errors
// (a component is a file, a link loop) do not wrap errSharedHome.
func sharedHome(h string, uid int) error {
	if !filepath.IsAbs(h) {
		return fmt.Errorf("%q is not an absolute path", h)
	}
	check := func(dir string, self bool) error {
		var st unix.Stat_t
		if err := fsx.Stat(dir, &st); err != nil {
			return &os.PathError{Op: "stat", Path: dir, Err: fsx.Errno(err)}
		}
		if why := plantable(st.Mode, st.Uid, uid, self); why != "" {
			return fmt.Errorf("%s (on the way to %s) %s: %w", dir, h, why, errSharedHome)
		}
		return nil
	}
	cur, rest, links := "/", strings.Split(h, "/"), 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur) // cur holds no link: this is the kernel's ..
			continue
		}
		if err := check(cur, false); err != nil {
			return err
		}
		next := filepath.Join(cur, name)
		var st unix.Stat_t
		if err := fsx.Lstat(next, &st); err != nil {
			if errors.Is(err, unix.ENOENT) {
				return check(cur, true) // where the home would be made
			}
			return &os.PathError{Op: "lstat", Path: next, Err: fsx.Errno(err)}
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			if st.Uid != 0 && int(st.Uid) != uid {
				return fmt.Errorf("%s (on the way to %s) is a symbolic link of uid %d: %w", next, h, st.Uid, errSharedHome)
			}
			if links++; links > 40 { // the kernel's MAXSYMLINKS
				return &os.PathError{Op: "resolve", Path: h, Err: unix.ELOOP}
			}
			target, err := os.Readlink(next)
			if err != nil {
				return err
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			rest = append(strings.Split(target, "/"), rest...)
		case unix.S_IFDIR:
			cur = next
		default:
			return fmt.Errorf("%s (on the way to %s) is not a directory", next, h)
		}
	}
	return check(cur, true)
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
