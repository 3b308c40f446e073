package identity

import (
	"fmt"
	"path/filepath"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// Inspection is what doctor reports about the identity, found without
// writing anything.
type Inspection struct {
	UID, GID int
	Entry    Entry
	Found    bool
	// EntryHomeErr says why the found entry's home cannot be COMMAND's
	// home; with Method nss-wrapper the copy gets Home instead.
	EntryHomeErr error
	// Taken is the image's entry of NONROOT_USERNAME, for another UID,
	// that the provided entry takes over (TakenOK).
	Taken     Entry
	TakenOK   bool
	Method    Method   // what setup would do; empty when it would fail
	MethodErr error    // why setup would fail
	Reasons   []string // why auto skipped a better method
	Lib       string
	LibErr    error
	StateDir  string
	StateErr  error
	// StateSkipped says why each candidate before StateDir was skipped; a
	// *HostileDirError among them is a risk doctor reports.
	StateSkipped []error
	Home         string
	HomeErr      error // HOME would not be writable
	PasswdWrErr  error // nil: the passwd file is writable by us, reached without a symbolic link
	// PasswdExposed: the passwd file, or what a symbolic link there points
	// to, is writable by us, so any process of the container can add a user.
	PasswdExposed bool
	// Command is COMMAND's C library and whether its own lookups would
	// find the entry; nil when no COMMAND was given.
	Command *CommandInspection
}

// CommandInspection is what doctor says of COMMAND (doctor -- COMMAND).
type CommandInspection struct {
	Path    string // as found on PATH
	Program string // the ELF program run for it: Path, or its #! interpreter
	Libc    string // "glibc", "musl", "static", "unknown"
	LibcErr error  // why Libc is unknown, when the program could not be read
	// LookupsFindEntry: COMMAND's own lookups by UID would find the entry;
	// nil when that cannot be told (unknown C library).
	LookupsFindEntry *bool
	// Problem and Fix: why those lookups would fail, when they would;
	// empty otherwise.
	Problem, Fix string
}

// Inspect judges the identity step in check-only mode: the same choices
// as Provide, from the kernel's access checks with the effective IDs,
// creating nothing.
func Inspect(o Options) Inspection {
	in := Inspection{UID: o.UID, GID: o.GID}
	passwd, err := readPasswd(o)
	if err != nil && o.Mode != config.PasswdOff {
		in.MethodErr = err
		return in
	}
	in.Entry, in.Found = LookupUID(passwd, o.UID)
	in.Taken, in.TakenOK = takenEntry(passwd, o.Username, in.Found)
	if in.Found {
		in.EntryHomeErr = inheritedHome(in.Entry.Home, o.EUID)
	}
	var copyErr error
	if in.Found {
		copyErr = copyable(in.Entry)
	}
	cmd := inspectCommand(o.Command)
	in.Lib, in.LibErr = findLib(o.NSSWrapperLib, o.LibDirs, o.GOARCH, cmd)
	in.StateDir, in.StateSkipped, in.StateErr = inspectStateDir(stateDirCandidates(o.StateDir, o.Getenv), o.EUID)
	in.PasswdWrErr = writableFile(o.PasswdFile)
	if in.PasswdWrErr == nil && !in.Found {
		in.PasswdWrErr = nameTaken(passwd, o.Username, o.PasswdFile)
	}
	in.PasswdExposed = writable(o.PasswdFile) == nil
	p := probe{uid: o.UID, found: in.Found, homeErr: in.EntryHomeErr, copyErr: copyErr, libErr: in.LibErr, stateErr: in.StateErr, passwdWrErr: in.PasswdWrErr}
	in.Method, in.Reasons, in.MethodErr = decide(o.Mode, p)
	if uerr := checkUsername(passwd, o.Username, o.PasswdFile); uerr != nil {
		in.Method, in.MethodErr = "", uerr
	}
	if err != nil {
		in.Reasons = append(in.Reasons, err.Error())
	}
	if cmd.path != "" {
		in.Command = inspectCommandLookups(o, cmd, in)
	}

	entryHome := ""
	if in.Found {
		entryHome = in.Entry.Home
	} else if in.TakenOK {
		entryHome = in.Taken.Home
	}
	plan := planHome(gatherHome(o, entryHome))
	in.Home = plan.path
	switch {
	case plan.setting:
		in.HomeErr = writableDir(o.Home)
	case plan.inState && in.StateErr == nil:
		in.Home = filepath.Join(in.StateDir, "home")
	case plan.inState:
		in.HomeErr = fmt.Errorf("neither $HOME nor a NONROOT_STATE_DIR is writable: %w", in.StateErr)
	}
	return in
}

// inspectCommandLookups judges COMMAND's own lookups as Provide would
// leave them.
func inspectCommandLookups(o Options, cmd command, in Inspection) *CommandInspection {
	ci := &CommandInspection{Path: cmd.path, Program: cmd.program, Libc: string(cmd.libc), LibcErr: cmd.err}
	alsoAppend := appendsForStatic(o.Mode, cmd, in.Method, in.PasswdWrErr)
	switch served, known := cmd.ownLookupsServed(in.Method, alsoAppend); {
	case in.Found:
		ci.LookupsFindEntry = ptrBool(true)
	case in.MethodErr != nil:
		ci.LookupsFindEntry = ptrBool(false)
	case known:
		ci.LookupsFindEntry = ptrBool(served)
	}
	if !in.Found && in.MethodErr == nil {
		ci.Problem, ci.Fix, _ = cmd.unserved(in.Method, alsoAppend, in.LibErr)
	}
	return ci
}

func ptrBool(b bool) *bool { return &b }
