// Package procfs reads and parses the two /proc files the init looks at:
// /proc/PID/status (credentials, capabilities, signal masks, NSpid) and
// /proc/PID/stat (state and parent). Reading is apart from parsing: the
// Parse functions are pure and take the file's text. It imports no other
// package of the project, so every step may use it.
package procfs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Line is a set of status lines, one bit per key that ParseStatus reads.
type Line uint32

// The status lines ParseStatus reads.
const (
	LineUid        Line = 1 << iota // Uid: real, effective, saved, filesystem
	LineGid                         // Gid: the same four
	LineGroups                      // Groups: supplementary groups
	LineCapInh                      // CapInh: inheritable set
	LineCapPrm                      // CapPrm: permitted set
	LineCapEff                      // CapEff: effective set
	LineCapBnd                      // CapBnd: bounding set
	LineCapAmb                      // CapAmb: ambient set (Linux 4.3 and later)
	LineNoNewPrivs                  // NoNewPrivs (Linux 4.10 and later)
	LineSeccomp                     // Seccomp (Linux 3.8 and later)
	LineNSpid                       // NSpid (Linux 4.1 and later)
	LineSigBlk                      // SigBlk: blocked signals
	LineSigIgn                      // SigIgn: ignored signals
	LineSigCgt                      // SigCgt: caught signals
	lineEnd
)

// Capabilities are the capability lines a reader of the sets requires:
// every kernel since 2.6.26 writes them. CapAmb is not among them: Linux
// before 4.3 has no ambient set and no CapAmb line, and its status reads
// as an empty ambient set, which is what such a kernel does (no
// capability survives exec for a non-root program).
const Capabilities = LineCapInh | LineCapPrm | LineCapEff | LineCapBnd

// Credentials are the lines that describe who a process is and what it
// may do: its UIDs, GIDs and capability sets.
const Credentials = LineUid | LineGid | Capabilities

// key returns the key of the single line l ("Uid").
func (l Line) key() string {
	keys := [...]string{"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
		"NoNewPrivs", "Seccomp", "NSpid", "SigBlk", "SigIgn", "SigCgt"}
	for i, k := range keys {
		if l == 1<<i {
			return k
		}
	}
	return fmt.Sprintf("line %#x", uint32(l))
}

// lineOf returns the line whose key is key, or 0 for one ParseStatus
// does not read.
func lineOf(key string) Line {
	for l := Line(1); l < lineEnd; l <<= 1 {
		if l.key() == key {
			return l
		}
	}
	return 0
}

// Status is what ParseStatus reads of a /proc/PID/status or
// /proc/PID/task/TID/status file. A line the file did not hold leaves
// its field at zero (nil for the lists); Has tells which were there.
type Status struct {
	UIDs       [4]int // real, effective, saved, filesystem
	GIDs       [4]int
	Groups     []int
	CapInh     uint64
	CapPrm     uint64
	CapEff     uint64
	CapBnd     uint64
	CapAmb     uint64
	NoNewPrivs bool
	Seccomp    int   // 0 disabled, 1 strict, 2 filter
	NSpid      []int // the pid in each PID namespace, outermost first
	SigBlk     uint64
	SigIgn     uint64
	SigCgt     uint64 // bit N-1 of a signal mask is signal N

	has Line
}

// Has reports whether the status held every line of l.
func (st Status) Has(l Line) bool { return st.has&l == l }

// Require returns an error naming the first line of need the status did
// not hold ("no CapBnd line").
func (st Status) Require(need Line) error {
	for l := Line(1); l < lineEnd; l <<= 1 {
		if need&l != 0 && st.has&l == 0 {
			return fmt.Errorf("no %s line", l.key())
		}
	}
	if need >= lineEnd {
		return fmt.Errorf("%#x names no status line", uint32(need))
	}
	return nil
}

// ReadStatus reads the status file at path and parses it with
// ParseStatus; the error names the path (a failed read is os.ReadFile's
// *os.PathError).
func ReadStatus(path string, need Line) (Status, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Status{}, err
	}
	st, err := ParseStatus(string(b), need)
	if err != nil {
		return Status{}, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// ParseStatus parses the lines of a status file that Status holds and
// requires those of need. Other lines are skipped. A line it reads must
// be well formed and appear once: the kernel writes each once, and
// escapes the newlines of the command name, so a line cannot be forged
// from inside one. IDs are 32-bit, pids 31-bit, sets and masks 64-bit
// hexadecimal.
func ParseStatus(s string, need Line) (Status, error) {
	var st Status
	for _, line := range strings.Split(s, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		l := lineOf(key)
		if l == 0 {
			continue
		}
		if st.has&l != 0 {
			return Status{}, fmt.Errorf("two %s lines", key)
		}
		if err := st.set(l, strings.TrimSpace(val)); err != nil {
			return Status{}, fmt.Errorf("bad %s line %q: %w", key, line, err)
		}
		st.has |= l
	}
	if err := st.Require(need); err != nil {
		return Status{}, err
	}
	return st, nil
}

// set parses val into the field of line l.
func (st *Status) set(l Line, val string) error {
	var err error
	switch l {
	case LineUid:
		st.UIDs, err = parseFour(val)
	case LineGid:
		st.GIDs, err = parseFour(val)
	case LineGroups:
		st.Groups, err = parseNumbers(val, 32)
	case LineCapInh:
		st.CapInh, err = parseHex(val)
	case LineCapPrm:
		st.CapPrm, err = parseHex(val)
	case LineCapEff:
		st.CapEff, err = parseHex(val)
	case LineCapBnd:
		st.CapBnd, err = parseHex(val)
	case LineCapAmb:
		st.CapAmb, err = parseHex(val)
	case LineNoNewPrivs:
		switch val {
		case "0", "1":
			st.NoNewPrivs = val == "1"
		default:
			err = fmt.Errorf("%q is neither 0 nor 1", val)
		}
	case LineSeccomp:
		var n uint64
		n, err = strconv.ParseUint(val, 10, 8)
		st.Seccomp = int(n)
	case LineNSpid:
		st.NSpid, err = parseNumbers(val, 31)
		if err == nil && len(st.NSpid) == 0 {
			err = fmt.Errorf("no pid")
		}
	case LineSigBlk:
		st.SigBlk, err = parseHex(val)
	case LineSigIgn:
		st.SigIgn, err = parseHex(val)
	case LineSigCgt:
		st.SigCgt, err = parseHex(val)
	}
	return err
}

// parseFour parses the four IDs of a Uid or Gid line.
func parseFour(val string) ([4]int, error) {
	var out [4]int
	ids, err := parseNumbers(val, 32)
	if err != nil {
		return out, err
	}
	if len(ids) != 4 {
		return out, fmt.Errorf("%d ids, want 4", len(ids))
	}
	copy(out[:], ids)
	return out, nil
}

// parseNumbers parses blank-separated decimal numbers of at most bits
// bits; no sign is allowed.
func parseNumbers(val string, bits int) ([]int, error) {
	var out []int
	for _, f := range strings.Fields(val) {
		n, err := strconv.ParseUint(f, 10, bits)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number of %d bits", f, bits)
		}
		out = append(out, int(n))
	}
	return out, nil
}

// parseHex parses a capability set or signal mask: 64-bit hexadecimal,
// as the kernel prints them (16 digits, no 0x).
func parseHex(val string) (uint64, error) {
	n, err := strconv.ParseUint(val, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a 64-bit hexadecimal set", val)
	}
	return n, nil
}
