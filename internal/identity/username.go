package identity

import (
	"fmt"
	"os"
)

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
	data, err := os.ReadFile(passwdFile)
	if err != nil {
		return nil
	}
	return checkUsername(data, name, passwdFile)
}

// checkUsername refuses name when a valid line of the passwd data (file)
// gives it UID 0: COMMAND would get root's login name in USER and LOGNAME,
// and whatever looks its user up by name (getpwnam, a Go program's
// user.Current without cgo, sudo, ssh) would take it for root. It holds
// for the default name too, and whether or not our UID has an entry.
func checkUsername(data []byte, name, file string) error {
	for _, l := range lines(data) {
		if e, err := parsePasswdLine(l); err == nil && e.Name == name && e.UID == 0 {
			return &UsageError{fmt.Errorf("NONROOT_USERNAME=%s names an entry of uid 0 in %s: COMMAND would be taken for root by name; set NONROOT_USERNAME to another login name", name, file)}
		}
	}
	return nil
}

// lookupName returns the first valid passwd entry of data named name, as
// getpwnam would find it.
func lookupName(data []byte, name string) (Entry, bool) {
	for _, l := range lines(data) {
		if e, err := parsePasswdLine(l); err == nil && e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// nameTaken says why name cannot be appended to the passwd file: a line
// of that name (for another UID, else ours would have been found) is
// there already, and an appended file cannot replace lines. nss_wrapper's
// copy can.
func nameTaken(data []byte, name, file string) error {
	if e, ok := lookupName(data, name); ok {
		return fmt.Errorf("the login name %s is taken by uid %d in %s, whose lines are never replaced; use nss_wrapper (NONROOT_PASSWD=auto or nss-wrapper, with libnss_wrapper installed) or set NONROOT_USERNAME to another name", name, e.UID, file)
	}
	return nil
}
