// Package identity gives COMMAND a user: a passwd entry for a UID the
// image has never heard of, a writable HOME, and USER and LOGNAME
// (SPEC.md, setup step 2). The passwd and group files are parsed here,
// since the binary is static and has no libc to ask.
package identity

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/elfinfo"
	"github.com/nonroot-init/nonroot-init/internal/fsx"
	"golang.org/x/sys/unix"
)

// User is who COMMAND runs as, as the later steps (templates' .User) see it.
type User struct {
	Name string
	UID  int
	GID  int
	Home string
}

// Method is how the passwd entry is provided.
type Method string

// Methods.
const (
	MethodExisting   Method = "existing"    // the UID already has an entry
	MethodNSSWrapper Method = "nss-wrapper" // copies plus the entry in STATE_DIR, loaded by LD_PRELOAD
	MethodEtcPasswd  Method = "etc-passwd"  // appended to a writable passwd file
	MethodEnv        Method = "environment" // USER, LOGNAME and HOME only
)

// Options is what the identity step needs; setup fills it from the
// settings and the host.
type Options struct {
	Mode          config.PasswdMode
	Username      string // NONROOT_USERNAME
	Gecos         string // NONROOT_GECOS, empty when unset
	Home          string // NONROOT_HOME, empty when unset
	NSSWrapperLib string // NONROOT_NSS_WRAPPER_LIB, empty to search LibDirs
	StateDir      string // NONROOT_STATE_DIR, empty for the defaults
	PasswdFile    string
	GroupFile     string
	LibDirs       []string
	GOARCH        string
	Shell         string // the shell of a generated entry
	UID, GID      int    // who we are now (after RUN_AS)
	// Groups are our supplementary groups (after RUN_AS), as getgroups(2)
	// lists them: each without a group entry gets one in the copy.
	Groups []int
	// EUID is our effective UID (after RUN_AS): the one owner, besides
	// root, that the state directory and HOME checks trust.
	EUID int
	// Getenv reads COMMAND's environment as built so far.
	Getenv func(string) (string, bool)
	// Command is COMMAND's resolved path, then each #! interpreter the
	// kernel runs for it (supervisor.Programs); empty when not known. The
	// last one's C library picks the nss_wrapper build (command.go).
	Command []string
}

// Var is one variable for COMMAND's environment.
type Var struct{ Key, Value string }

// Result is what the step did.
type Result struct {
	User   User
	Method Method
	Env    []Var // in the order they should be set
}

// probe holds the facts the choice of method depends on. A nil error
// means the thing is usable.
type probe struct {
	uid   int
	found bool
	// homeErr says why the home of the UID's entry (found) cannot be
	// COMMAND's home: nss_wrapper's copy then gets the HOME rule's.
	homeErr error
	// copyErr says why the found entry cannot go into nss_wrapper's copy
	// (a line only glibc reads, such as one with a tab in its GECOS).
	copyErr     error
	libErr      error
	stateErr    error
	passwdWrErr error
}

// decide picks how the entry is provided, in SPEC.md's order for auto.
// An explicit mode that cannot be honoured is an error; auto falls back,
// and reasons says why each better method was skipped (or, for an entry
// copied through nss_wrapper, why it is copied).
func decide(mode config.PasswdMode, p probe) (method Method, reasons []string, err error) {
	if p.uid == 0 {
		if p.found {
			return MethodExisting, nil, nil
		}
		return MethodEnv, []string{"uid 0 never gets an entry written"}, nil
	}
	if mode == config.PasswdOff {
		if p.found {
			return MethodExisting, nil, nil
		}
		return MethodEnv, []string{"NONROOT_PASSWD=off"}, nil
	}
	nss := p.libErr
	if nss == nil && p.stateErr != nil {
		nss = fmt.Errorf("no usable NONROOT_STATE_DIR: %w", p.stateErr)
	}
	switch mode {
	case config.PasswdNSSWrapper:
		if nss == nil && p.found {
			nss = p.copyErr
		}
		if nss != nil {
			return "", nil, fmt.Errorf("NONROOT_PASSWD=nss-wrapper: %w", nss)
		}
		return MethodNSSWrapper, nil, nil
	case config.PasswdEtcPasswd:
		if p.found {
			return MethodExisting, nil, nil // its lines are never replaced
		}
		if p.passwdWrErr != nil {
			return "", nil, fmt.Errorf("NONROOT_PASSWD=etc-passwd: %w; use NONROOT_PASSWD=auto to go through nss_wrapper instead", p.passwdWrErr)
		}
		return MethodEtcPasswd, nil, nil
	}
	if p.found {
		if p.homeErr == nil {
			return MethodExisting, nil, nil
		}
		why := "the passwd entry's home is not usable: " + p.homeErr.Error()
		if nss == nil && p.copyErr != nil {
			return MethodExisting, []string{why, p.copyErr.Error()}, nil
		}
		if nss == nil {
			return MethodNSSWrapper, []string{why}, nil
		}
		return MethodExisting, []string{why, "nss_wrapper: " + nss.Error()}, nil
	}
	if nss == nil {
		return MethodNSSWrapper, nil, nil
	}
	if p.passwdWrErr == nil {
		return MethodEtcPasswd, []string{"nss_wrapper: " + nss.Error()}, nil
	}
	return MethodEnv, []string{"nss_wrapper: " + nss.Error(), p.passwdWrErr.Error()}, nil
}

// takenEntry returns the entry of passwd that name, our login name,
// takes over (SPEC.md, step 2: taking over an image user): the line of
// that name, for another UID, when our UID has none. checkUsername has
// refused a name of UID 0 and one whose line cannot be read strictly.
func takenEntry(passwd []byte, name string, found bool) (Entry, bool) {
	if found {
		return Entry{}, false
	}
	e, strict, ok := lookupName(passwd, name)
	return e, ok && strict && e.UID != 0
}

// copyable says why the UID's entry e, as glibc read it, cannot go into
// nss_wrapper's copy, which holds only lines every reader agrees on.
func copyable(e Entry) error {
	if err := validPasswd(e.Line()); err != nil {
		return fmt.Errorf("the passwd entry cannot be copied for nss_wrapper: %w", err)
	}
	return nil
}

// providedEntry is the line the copy (or an appended file) gets for us:
// the UID's own entry when it has one, the entry of the name taken over
// with our UID and GID, else a new one. It keeps the old GECOS and
// shell, and the UID's own entry its GID; NONROOT_GECOS, when set, replaces the GECOS, which for a new
// entry is the login name. Its home is NONROOT_HOME when set, else the
// old home when it can be COMMAND's, else home (the HOME rule's).
func providedEntry(o Options, name, home string, old Entry, hasOld, own bool) Entry {
	e := Entry{Name: name, UID: o.UID, GID: o.GID, Gecos: name, Home: home, Shell: o.Shell}
	if own {
		e.GID = old.GID
	}
	if hasOld {
		e.Gecos, e.Shell = old.Gecos, old.Shell
		if o.Home == "" && inheritedHome(old.Home, o.EUID) == nil {
			e.Home = old.Home
		}
	}
	if o.Gecos != "" {
		e.Gecos = o.Gecos
	}
	return e
}

// Provide runs the identity step: it finds or provides the passwd entry
// for o.UID and returns the user and the variables COMMAND gets.
func Provide(o Options, log *slog.Logger) (Result, error) {
	passwd, readErr := readPasswd(o)
	if readErr != nil && o.Mode != config.PasswdOff {
		return Result{}, readErr
	}
	if err := checkUsername(passwd, o.Username, o.PasswdFile); err != nil {
		return Result{}, err
	}
	entry, found := LookupUID(passwd, o.UID)
	taken, isTaken := takenEntry(passwd, o.Username, found)

	var sd *stateDir
	var sdErr error
	sdOpened := false
	state := func() (*stateDir, error) {
		if !sdOpened {
			sdOpened = true
			var skipped []error
			sd, skipped, sdErr = openStateDir(stateDirCandidates(o.StateDir, o.Getenv), o.EUID)
			logSkipped(log, skipped)
		}
		return sd, sdErr
	}
	defer func() { sd.close() }()

	p := probe{uid: o.UID, found: found}
	if found {
		p.homeErr = inheritedHome(entry.Home, o.EUID)
		p.copyErr = copyable(entry)
	}
	// An entry found with a usable home needs no copy, except when
	// NONROOT_PASSWD=nss-wrapper asks for one.
	wantCopy := !found || p.homeErr != nil || o.Mode == config.PasswdNSSWrapper
	var lib string
	// COMMAND's program is read only when an entry is to be provided.
	cmd := command{libc: elfinfo.Unknown}
	if wantCopy && o.UID != 0 && o.Mode != config.PasswdOff {
		cmd = inspectCommand(o.Command)
	}
	if wantCopy && o.UID != 0 && o.Mode != config.PasswdOff && o.Mode != config.PasswdEtcPasswd {
		lib, p.libErr = findLib(o.NSSWrapperLib, o.LibDirs, o.GOARCH, cmd)
		if p.libErr == nil {
			_, p.stateErr = state()
		}
	}
	if !found && o.UID != 0 && o.Mode != config.PasswdOff && o.Mode != config.PasswdNSSWrapper {
		p.passwdWrErr = writableFile(o.PasswdFile)
		if p.passwdWrErr == nil {
			p.passwdWrErr = nameTaken(passwd, o.Username, o.PasswdFile)
		}
	}
	method, reasons, err := decide(o.Mode, p)
	if err != nil {
		return Result{}, err
	}
	if readErr != nil {
		reasons = append(reasons, readErr.Error())
	}
	// A static COMMAND ignores LD_PRELOAD: in auto mode its entry also
	// goes to an already writable passwd file.
	alsoAppend := appendsForStatic(o.Mode, cmd, method, p.passwdWrErr)
	unservedWhat, unservedFix, unserved := cmd.unserved(method, alsoAppend, p.libErr)
	// Only a method that writes an entry needs the groups; an image that
	// knows the UID (most starts) does not pay for reading them.
	var group []byte
	if method == MethodNSSWrapper || method == MethodEtcPasswd {
		if group, err = readOptional(o.GroupFile); err != nil {
			return Result{}, err
		}
	}

	name, entryHome, old, hasOld := o.Username, "", taken, isTaken
	if found {
		name, entryHome, old, hasOld = entry.Name, entry.Home, entry, true
	} else if isTaken {
		entryHome = taken.Home
	}
	home := chooseHome(o, entryHome, state, log)
	res := Result{User: User{Name: name, UID: o.UID, GID: o.GID, Home: home}, Method: method}
	e := providedEntry(o, name, home, old, hasOld, found)
	groups := missingGroups(group, name, append([]int{e.GID, o.GID}, o.Groups...))

	switch method {
	case MethodExisting:
		if p.homeErr != nil && o.Mode != config.PasswdOff {
			log.Warn("the passwd entry's home cannot be COMMAND's home, and nss_wrapper cannot give COMMAND a copy with another: programs that read the entry (ssh, Java's user.home, Node's os.userInfo) get it, not HOME; install libnss_wrapper (NONROOT_PASSWD=auto) or make the home writable",
				"user", name, "uid", o.UID, "entry home", entry.Home, "HOME", home, "why", strings.Join(reasons, "; "))
		} else {
			log.Debug("passwd entry found", "user", name, "uid", o.UID)
		}
	case MethodNSSWrapper:
		env, err := writeNSSFiles(sd, passwd, group, e, groups, append([]int{e.GID, o.GID}, o.Groups...), o.Getenv, lib)
		if err != nil {
			return Result{}, err
		}
		res.Env = env
		switch {
		case found:
			why := "NONROOT_PASSWD=nss-wrapper"
			if len(reasons) > 0 {
				why = strings.Join(reasons, "; ")
			}
			log.Info("the UID's passwd entry is given to COMMAND through nss_wrapper with another home",
				"user", name, "uid", o.UID, "gid", e.GID, "home", e.Home, "dir", sd.path, "lib", lib, "entry home", entry.Home, "why", why)
		case isTaken:
			log.Info("passwd entry provided through nss_wrapper, taking over the image's entry of that name",
				"user", name, "uid", o.UID, "gid", e.GID, "home", e.Home, "dir", sd.path, "lib", lib, "replaced", taken.Line(), "command", cmd.path, "libc", string(cmd.libc))
		default:
			logProvided(log, cmd, o, alsoAppend, name, home, sd.path, lib)
		}
		if !alsoAppend {
			break
		}
		fallthrough
	case MethodEtcPasswd:
		if err := appendEntry(o.PasswdFile, e); err != nil {
			return Result{}, err
		}
		if len(groups) > 0 && writableFile(o.GroupFile) == nil {
			for _, g := range groups {
				if err := appendGroup(o.GroupFile, g); err != nil {
					log.Warn("cannot add a group entry", "gid", g.GID, "err", err)
				}
			}
		}
		log.Info("passwd entry appended", "file", o.PasswdFile, "user", name, "uid", o.UID, "gid", o.GID, "home", home)
	case MethodEnv:
		log.Warn("no passwd entry for our uid: COMMAND gets USER, LOGNAME and HOME only, so programs that look the user up (whoami, ssh, git) may fail",
			"uid", o.UID, "user", name, "why", strings.Join(reasons, "; "))
	}
	// Without any entry, the warning above says why (a musl COMMAND
	// without a musl build among the reasons); a static COMMAND is told
	// that nss_wrapper would not have helped it.
	if unserved && (method != MethodEnv || cmd.libc == elfinfo.Static) {
		log.Warn(unservedWhat, "uid", o.UID, "user", name, "fix", unservedFix)
	}
	res.Env = append(res.Env, Var{"HOME", home}, Var{"USER", name}, Var{"LOGNAME", name})
	return res, nil
}

// logSkipped logs why STATE_DIR candidates were skipped: a hostile parent
// as a warning, since it is a risk to anything using that directory, and
// the ordinary reasons (a missing $XDG_RUNTIME_DIR) at debug.
func logSkipped(log *slog.Logger, skipped []error) {
	for _, err := range skipped {
		var he *HostileDirError
		if errors.As(err, &he) {
			log.Warn("STATE_DIR candidate skipped: another user could replace it", "dir", he.Candidate, "err", err)
		} else {
			log.Debug("STATE_DIR candidate skipped", "err", err)
		}
	}
}

// writeNSSFiles writes nss_wrapper's passwd and group into the state
// directory and returns the variables that make COMMAND use them.
func writeNSSFiles(sd *stateDir, passwd, group []byte, e Entry, groups []Group, ours []int, getenv func(string) (string, bool), lib string) ([]Var, error) {
	if err := config.ValidPasswdField(e.Home); err != nil {
		return nil, fmt.Errorf("HOME: %w", err)
	}
	pf, gf, _, err := nssFiles(passwd, group, e, groups, ours)
	if err != nil {
		return nil, err
	}
	if err := writeFileAt(sd.fd, "passwd", pf, 0o644); err != nil {
		return nil, fmt.Errorf("NONROOT_STATE_DIR %s: %w", sd.path, err)
	}
	if err := writeFileAt(sd.fd, "group", gf, 0o644); err != nil {
		return nil, fmt.Errorf("NONROOT_STATE_DIR %s: %w", sd.path, err)
	}
	preload, _ := getenv("LD_PRELOAD")
	return []Var{
		{"LD_PRELOAD", appendPreload(preload, lib)},
		{"NSS_WRAPPER_PASSWD", filepath.Join(sd.path, "passwd")},
		{"NSS_WRAPPER_GROUP", filepath.Join(sd.path, "group")},
	}, nil
}

// groupName is the name of a generated group: the user's name, else
// USER-GID, else USER-GID-2, -3, ...: the first that no group of the file
// has, so that a generated name never collides with an existing one.
func groupName(group []byte, user string, gid int) string {
	name := user
	for n := 1; groupNamed(group, name); n++ {
		name = user + "-" + strconv.Itoa(gid)
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
	}
	return name
}

// missingGroups returns a group for each of gids (our GID first, then
// the supplementary ones) that the group data has no entry for, each
// named by groupName against the data and the groups named before it,
// so that no two names collide.
func missingGroups(group []byte, user string, gids []int) []Group {
	var out []Group
	seen := map[int]bool{}
	for _, gid := range gids {
		if seen[gid] {
			continue
		}
		seen[gid] = true
		if _, ok := lookupGID(group, gid); ok {
			continue
		}
		g := Group{Name: groupName(group, user, gid), GID: gid}
		out = append(out, g)
		group = append(append(append([]byte(nil), group...), '\n'), g.Line()...)
	}
	return out
}

// chooseHome applies the HOME plan (planHome): it creates NONROOT_HOME
// when missing (root does not make a shared one: its mkdir -p would
// follow a link planted on the way), and STATE_DIR/home when the plan
// puts HOME there; it warns about each inherited home passed over as
// shared, and with none usable keeps the plan's fallback and warns.
func chooseHome(o Options, entryHome string, state func() (*stateDir, error), log *slog.Logger) string {
	f := gatherHome(o, entryHome)
	plan := planHome(f)
	for _, sk := range plan.skipped {
		log.Warn(sk.what+" is not used as HOME: another user could plant files in it", "home", sk.home, "err", sk.err)
	}
	switch {
	case plan.setting:
		// Root never gets here with a shared NONROOT_HOME (planHome
		// passes it over), so its mkdir -p cannot follow a planted link.
		if errors.Is(f.settingErr, errSharedHome) {
			log.Warn("NONROOT_HOME is used as set, but another user could plant files in it; point it at a directory only COMMAND's user can write", "home", o.Home, "err", f.settingErr)
		}
		if err := os.MkdirAll(o.Home, 0o700); err != nil {
			log.Warn("NONROOT_HOME cannot be created", "home", o.Home, "err", err)
		} else if err := writableDir(o.Home); err != nil {
			log.Warn("NONROOT_HOME is not writable by COMMAND", "home", o.Home, "err", err)
		}
		return plan.path
	case !plan.inState:
		return plan.path
	}
	sd, err := state()
	if err == nil {
		fd, herr := ensureDirAt(sd.fd, "home", o.EUID)
		if herr == nil {
			fsx.Close(fd)
			return filepath.Join(sd.path, "home")
		}
		err = fmt.Errorf("%s/home: %w", sd.path, herr)
	}
	log.Warn("no writable HOME for COMMAND; set NONROOT_HOME to a writable directory (an emptyDir volume)", "home", plan.path, "err", err)
	return plan.path
}

// usableEnvHome accepts an inherited $HOME that is absolute, not / and
// safe to put in a passwd line.
func usableEnvHome(h string) bool {
	return filepath.IsAbs(h) && filepath.Clean(h) != "/" && config.ValidPasswdField(h) == nil
}

// writableDir reports whether our effective IDs may create files in dir.
func writableDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return writableErr(dir, unix.W_OK|unix.X_OK)
}

// writable reports whether our effective IDs may write path, by the
// kernel's access check (read-only mounts give EROFS).
func writable(path string) error { return writableErr(path, unix.W_OK) }

func writableErr(path string, mode uint32) error {
	if err := fsx.Faccessat(unix.AT_FDCWD, path, mode, unix.AT_EACCESS); err != nil {
		return fmt.Errorf("%s is not writable: %w", path, fsx.Errno(err))
	}
	return nil
}

// readOptional reads a passwd or group file; a missing one (a scratch
// image) reads as empty.
func readOptional(path string) ([]byte, error) {
	b, err := fsx.ReadFileLimit(path, maxIdentityFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if errors.Is(err, fsx.ErrTooLarge) || errors.Is(err, fsx.ErrNotRegular) {
		return nil, fmt.Errorf("cannot use the passwd or group file: %w; it must be a regular file of at most %d MiB (one that group 0 may write can be filled by any user: chmod g-w it at build time and let NONROOT_PASSWD=auto use nss_wrapper)", err, maxIdentityFile>>20)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the passwd or group file: %w; make it readable by every user (chmod 0644)", err)
	}
	return b, nil
}

// maxIdentityFile bounds what is read of the passwd and group files: a
// passwd of 16 MiB holds some 200,000 entries, and one that group 0 may
// write can be made any size by COMMAND's user.
const maxIdentityFile = 16 << 20

// readPasswd reads the passwd file. An unreadable one is an error, except
// that with NONROOT_PASSWD=off nothing needs it: the caller then carries
// on as for a UID without an entry and says why.
func readPasswd(o Options) ([]byte, error) {
	b, err := readOptional(o.PasswdFile)
	if err != nil && o.Mode != config.PasswdOff {
		return nil, fmt.Errorf("%w or set NONROOT_PASSWD=off", err)
	}
	return b, err
}

// appendEntry appends e's line to the passwd file at path unless its UID
// is there by now. It never follows a symlink and never changes the
// file's mode. The line goes out in one Write on an O_APPEND descriptor,
// so it lands at the end even if the file grew since it was read; that
// Write may take more than one write(2) (os.File repeats a short one), so
// a reader at that moment can see part of the line.
func appendEntry(path string, e Entry) error {
	line := e.Line()
	if _, err := parsePasswdLine(line); err != nil {
		return fmt.Errorf("refusing to write %s: %w", path, err)
	}
	return appendLine(path, line, func(data []byte) (bool, error) {
		if _, ok := LookupUID(data, e.UID); ok {
			return true, nil
		}
		return false, nameTaken(data, e.Name, path)
	})
}

func appendGroup(path string, g Group) error {
	line := g.Line()
	if _, err := parseGroupLine(line); err != nil {
		return fmt.Errorf("refusing to write %s: %w", path, err)
	}
	return appendLine(path, line, func(data []byte) (bool, error) {
		if _, ok := lookupGID(data, g.GID); ok {
			return true, nil
		}
		if groupNamed(data, g.Name) {
			return false, fmt.Errorf("the group name %s is taken in %s", g.Name, path)
		}
		return false, nil
	})
}

// appendLine appends line to the file at path unless present, judging
// the contents read under the same open descriptor, says it is there (or
// that it must not be written).
func appendLine(path, line string, present func([]byte) (bool, error)) error {
	f, err := openFileNoFollow(path, unix.O_RDWR|unix.O_APPEND)
	if err != nil {
		return fmt.Errorf("open %s for appending: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxIdentityFile+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxIdentityFile {
		return fmt.Errorf("%s holds more than %d MiB: %w; it is not appended to", path, maxIdentityFile>>20, fsx.ErrTooLarge)
	}
	if ok, err := present(data); ok || err != nil {
		return err
	}
	buf := line + "\n"
	if len(data) > 0 && data[len(data)-1] != '\n' {
		buf = "\n" + buf
	}
	if _, err := f.Write([]byte(buf)); err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}
