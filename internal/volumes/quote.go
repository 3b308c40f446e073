package volumes

import (
	"strconv"
	"unicode/utf8"
)

// quote returns a path for a message: as it is when it is valid UTF-8 of
// printable characters other than a backslash and a double quote, and
// quoted Go %q style otherwise. File names come from whoever can write
// the volume: quoted, a newline cannot forge a line of the output or the
// log, and an escape sequence cannot reach the terminal.
func quote(path string) string {
	if !utf8.ValidString(path) {
		return strconv.Quote(path)
	}
	for _, r := range path {
		if r == '\\' || r == '"' || !strconv.IsPrint(r) {
			return strconv.Quote(path)
		}
	}
	return path
}

// Quote is quote for the reports other packages print (doctor's text).
func Quote(path string) string { return quote(path) }
