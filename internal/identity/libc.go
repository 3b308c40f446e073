package identity

import (
	"strconv"
	"strings"
	"unicode"
)

// parsePasswdLine is strict on purpose: nss_wrapper refuses a whole file
// for one odd line. The C libraries that COMMAND, sudo or su use read the
// same file more leniently, and a decision that protects (a name of UID
// 0, a name already taken, whether our UID has an entry) must see the
// file as they do. The functions below are those readings.

// nameField is the login name of a passwd or group line as some reader
// sees it: C strings end at NUL; glibc skips leading C white space and
// Go's os/user trims Unicode white space before the name; musl takes the
// bytes up to the first colon. Comparing it with a name that has no white
// space (a portable login name) matches every one of those readings.
func nameField(line string) string {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	name, _, _ := strings.Cut(strings.TrimLeftFunc(line, unicode.IsSpace), ":")
	return name
}

// glibcPasswd reads line as glibc's files backend does (the LINE_PARSER
// of pwd/fgetpwent_r.c with the macros of nss/nss_files/files-parse.c),
// and says whether getpwuid and getpwnam may return it: leading white
// space is skipped, an empty line or a # comment is no entry, a name
// starting with + or - is skipped by those lookups, the UID and GID are
// strtoul numbers (white space and a sign before the digits) ending at
// the colon, missing trailing fields are empty, and the shell is the
// rest of the line, colons included. getent was seen to agree on each.
func glibcPasswd(line string) (Entry, bool) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimLeftFunc(line, isCSpace)
	if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
		return Entry{}, false
	}
	f := strings.SplitN(line, ":", 7)
	for len(f) < 7 {
		f = append(f, "")
	}
	uid, ok := glibcID(f[2])
	if !ok {
		return Entry{}, false
	}
	gid, ok := glibcID(f[3])
	if !ok {
		return Entry{}, false
	}
	return Entry{Name: f[0], UID: uid, GID: gid, Gecos: f[4], Home: f[5], Shell: f[6]}, true
}

// glibcID reads an ID field as glibc's INT_FIELD: strtoul in base 10,
// which must consume the whole field. A negative number other than -0
// wraps past 2^32-1, and glibc refuses that and anything from 2^32-1 up
// (getent finds no entry).
func glibcID(s string) (int, bool) {
	s = strings.TrimLeftFunc(s, isCSpace)
	neg := strings.HasPrefix(s, "-")
	if neg || strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n >= 1<<32-1 || neg && n != 0 {
		return 0, false
	}
	return int(n), true
}

// muslUID0 says whether musl's getpwent (src/passwd/getpwent_a.c) reads
// line as UID 0: its atou takes the digits up to the colon, none at all
// reading as 0, and wraps modulo 2^32.
func muslUID0(line string) bool {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	f := strings.SplitN(line, ":", 4)
	if len(f) < 4 || strings.TrimLeft(f[2], "0123456789") != "" {
		return false
	}
	var x uint32
	for _, c := range []byte(f[2]) {
		x = 10*x + uint32(c-'0')
	}
	return x == 0
}

// isCSpace is C's isspace in the C locale.
func isCSpace(r rune) bool { return r == ' ' || r >= '\t' && r <= '\r' }
