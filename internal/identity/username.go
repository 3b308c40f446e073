package identity

import "fmt"

// UsageError is a setting that cannot work with this image. It is found
// before anything is changed, and main exits 2 for it (SPEC.md, exit
// status), not 78 as for a failed step.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// CheckUsername reads the passwd file and refuses a login name of a UID-0
// entry (see checkUsername). setup calls it before step 1, so that
// nothing has changed when it fails. An unreadable file gives nil: there
// is nothing to collide with, and the identity step reports the file
// itself when it needs it.
func CheckUsername(passwdFile, name string) error {
	// readOptional's bounded, non-blocking read: a group-writable
	// passwd can be made any size, or a named pipe.
	data, err := readOptional(passwdFile)
	if err != nil {
		return nil
	}
	return checkUsername(data, name, passwdFile)
}

// checkUsername refuses name when a line of the passwd data (file) gives
// it UID 0: COMMAND would get root's login name in USER and LOGNAME, and
// whatever looks its user up by name (getpwnam, a Go program's
// user.Current without cgo, sudo, ssh) would take it for root. It holds
// for the default name too, and whether or not our UID has an entry.
// Lines are read as the C libraries read them, not only as
// parsePasswdLine does: a line of that name (nameField) that glibc or
// musl reads as UID 0 counts, and so does one that parsePasswdLine
// refuses, since some reader may take it for another UID than we would.
func checkUsername(data []byte, name, file string) error {
	for _, l := range lines(data) {
		if nameField(l) != name {
			continue
		}
		e, err := parsePasswdLine(l)
		if err == nil && e.Name == name && e.UID != 0 {
			continue // every reader agrees: not root
		}
		if g, ok := glibcPasswd(l); ok && g.UID == 0 || muslUID0(l) {
			return &UsageError{fmt.Errorf("NONROOT_USERNAME=%s names an entry of uid 0 in %s (%q): COMMAND would be taken for root by name; set NONROOT_USERNAME to another login name", name, file, l)}
		}
		return &UsageError{fmt.Errorf("NONROOT_USERNAME=%s names an entry of %s that cannot be read safely (%q: C libraries may read another UID from it than nonroot-init); set NONROOT_USERNAME to another login name", name, file, l)}
	}
	return nil
}

// lookupName returns the first line of data named name as any C library
// reads its name (nameField), valid or not, as strictly parsed when it
// can be; ok says there is one.
func lookupName(data []byte, name string) (e Entry, strict, ok bool) {
	for _, l := range lines(data) {
		if nameField(l) == name {
			e, err := parsePasswdLine(l)
			return e, err == nil, true
		}
	}
	return Entry{}, false, false
}

// nameTaken says why name cannot be appended to the passwd file: a line
// of that name (for another UID, else ours would have been found) is
// there already, and an appended file cannot replace lines. nss_wrapper's
// copy can.
func nameTaken(data []byte, name, file string) error {
	e, strict, ok := lookupName(data, name)
	if !ok {
		return nil
	}
	by := fmt.Sprintf("uid %d", e.UID)
	if !strict {
		by = "a line nonroot-init cannot read strictly"
	}
	return fmt.Errorf("the login name %s is taken by %s in %s, whose lines are never replaced; use nss_wrapper (NONROOT_PASSWD=auto or nss-wrapper, with libnss_wrapper installed) or set NONROOT_USERNAME to another name", name, by, file)
}
