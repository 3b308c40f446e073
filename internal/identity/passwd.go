package identity

import (
	"fmt"
	"strconv"
	"strings"
)

// Entry is one line of a passwd file.
type Entry struct {
	Name  string
	UID   int
	GID   int
	Gecos string
	Home  string
	Shell string
}

// Line returns e as a passwd line, without the newline.
func (e Entry) Line() string {
	return fmt.Sprintf("%s:x:%d:%d:%s:%s:%s", e.Name, e.UID, e.GID, e.Gecos, e.Home, e.Shell)
}

// Group is one line of a group file.
type Group struct {
	Name    string
	GID     int
	Members string
}

// Line returns g as a group line, without the newline.
func (g Group) Line() string {
	return fmt.Sprintf("%s:x:%d:%s", g.Name, g.GID, g.Members)
}

// parsePasswdLine parses "name:password:uid:gid:gecos:home:shell". It
// refuses what would make nss_wrapper reject the whole file or what a
// libc would read differently: a wrong field count, an empty name, IDs
// that are not decimal numbers below 2^32-1, control characters.
func parsePasswdLine(line string) (Entry, error) {
	f, err := splitLine("passwd", line, 7)
	if err != nil {
		return Entry{}, err
	}
	uid, err := parseID(f[2])
	if err != nil {
		return Entry{}, fmt.Errorf("passwd line %q: uid %w", line, err)
	}
	gid, err := parseID(f[3])
	if err != nil {
		return Entry{}, fmt.Errorf("passwd line %q: gid %w", line, err)
	}
	return Entry{Name: f[0], UID: uid, GID: gid, Gecos: f[4], Home: f[5], Shell: f[6]}, nil
}

// parseGroupLine parses "name:password:gid:member,member".
func parseGroupLine(line string) (Group, error) {
	f, err := splitLine("group", line, 4)
	if err != nil {
		return Group{}, err
	}
	gid, err := parseID(f[2])
	if err != nil {
		return Group{}, fmt.Errorf("group line %q: gid %w", line, err)
	}
	return Group{Name: f[0], GID: gid, Members: f[3]}, nil
}

// splitLine splits a kind ("passwd" or "group") of line into its n
// fields, refusing control characters and an empty name.
func splitLine(kind, line string, n int) ([]string, error) {
	for _, c := range line {
		if c < 0x20 || c == 0x7f {
			return nil, fmt.Errorf("line %q contains a control character", line)
		}
	}
	f := strings.Split(line, ":")
	if len(f) != n {
		return nil, fmt.Errorf("%s line %q has %d fields, want %d", kind, line, len(f), n)
	}
	if f[0] == "" {
		return nil, fmt.Errorf("%s line %q has an empty name", kind, line)
	}
	return f, nil
}

// parseID accepts what glibc's files backend accepts for an ID that is
// not the reserved (uid_t)-1: decimal digits only.
func parseID(s string) (int, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, fmt.Errorf("%q is not from 0 to 4294967294", s)
	}
	return int(n), nil
}

// lines splits a file into lines, without the newlines, ignoring a final
// empty one. A CRLF line end counts as a newline: an /etc/passwd edited on
// Windows must not read as having no users.
func lines(data []byte) []string {
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimSuffix(l, "\r")
	}
	return ls
}

// LookupUID returns the entry of data that glibc's getpwuid(uid) would
// return: the first line glibc reads with that UID, read as glibc reads
// it (glibcPasswd), even one parsePasswdLine refuses. glibc's view wins
// both ways: a line only it reads still gives the UID an entry (nothing
// is provided, so no second line for the UID is appended to a writable
// /etc/passwd), and a comment or +/- line that glibc skips gives none
// (else COMMAND would be left with no entry that whoami finds).
func LookupUID(data []byte, uid int) (Entry, bool) {
	for _, l := range lines(data) {
		if e, ok := glibcPasswd(l); ok && e.UID == uid {
			return e, true
		}
	}
	return Entry{}, false
}

// lookupGID returns the first valid group entry of data with gid.
func lookupGID(data []byte, gid int) (Group, bool) {
	for _, l := range lines(data) {
		if g, err := parseGroupLine(l); err == nil && g.GID == gid {
			return g, true
		}
	}
	return Group{}, false
}

// groupNamed says whether a line of the group data has name, as any C
// library reads its name (nameField), valid or not: a generated group
// must not take a name getgrnam already answers with another GID.
func groupNamed(data []byte, name string) bool {
	for _, l := range lines(data) {
		if nameField(l) == name {
			return true
		}
	}
	return false
}

// validLines keeps the lines of data that parse, and returns how many it
// dropped. nss_wrapper refuses a whole file for one line it cannot parse,
// so its copies hold only lines known to be good; comments and blank
// lines go too.
func validLines(data []byte, parse func(string) error) (kept []string, dropped int) {
	for _, l := range lines(data) {
		if parse(l) != nil {
			dropped++
			continue
		}
		kept = append(kept, l)
	}
	return kept, dropped
}

// validPasswd accepts a line parsePasswdLine accepts and glibc reads the
// same way: a # comment, a +/- line or a name after white space, which
// parse but which glibc skips or reads another name from, would be an
// entry to nss_wrapper that getpwuid never returns without it.
func validPasswd(l string) error {
	e, err := parsePasswdLine(l)
	if err != nil {
		return err
	}
	if g, ok := glibcPasswd(l); !ok || g != e {
		return fmt.Errorf("passwd line %q is a comment, a +/- line or a name after white space to glibc", l)
	}
	return nil
}

// validGroup is validPasswd for a group line.
func validGroup(l string) error {
	if _, err := parseGroupLine(l); err != nil {
		return err
	}
	if strings.ContainsRune("#+- ", rune(l[0])) {
		return fmt.Errorf("group line %q is a comment, a +/- line or a name after white space to glibc", l)
	}
	return nil
}

// validateFile checks that every line of data parses, before a generated
// file is handed to nss_wrapper.
func validateFile(data []byte, parse func(string) error) error {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return fmt.Errorf("generated file does not end with a newline")
	}
	for i, l := range lines(data) {
		if err := parse(l); err != nil {
			return fmt.Errorf("generated line %d: %w", i+1, err)
		}
	}
	return nil
}
