package procfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Stat is what ParseStat reads of a /proc/PID/stat line.
type Stat struct {
	PID   int
	Comm  string // the command name, without its parentheses
	State byte   // R, S, D, Z, T, ...
	PPID  int
	// StartTime is field 22 (starttime): when the process started, in
	// clock ticks since boot; it tells a process from a later one given
	// the same pid. HasStartTime is false, and StartTime 0, when the
	// line ends before field 22 or that field is not a number.
	StartTime    uint64
	HasStartTime bool
}

// ReadStat reads the stat file at path and parses it with ParseStat; the
// error names the path (a failed read is os.ReadFile's *os.PathError).
func ReadStat(path string) (Stat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Stat{}, err
	}
	st, err := ParseStat(string(b))
	if err != nil {
		return Stat{}, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// ParseStat parses the pid, command name, state, parent pid and start
// time of a /proc/PID/stat line ("42 (sh) S 1 42 42 0 ..."). The command name is
// in parentheses and may itself hold spaces, parentheses and anything
// that looks like the fields after it, so it ends at the last ')' of the
// line, and the fields are counted from there (as runc and procps do).
func ParseStat(s string) (Stat, error) {
	open := strings.IndexByte(s, '(')
	end := strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return Stat{}, fmt.Errorf("parse stat %q: no command name in parentheses", s)
	}
	pid, err := strconv.ParseUint(strings.TrimSuffix(s[:open], " "), 10, 31)
	if err != nil {
		return Stat{}, fmt.Errorf("parse stat %q: pid %q is not a number", s, s[:open])
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 2 {
		return Stat{}, fmt.Errorf("parse stat %q: no state and parent pid after the command name", s)
	}
	if len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("parse stat %q: state %q is not one letter", s, f[0])
	}
	ppid, err := strconv.ParseUint(f[1], 10, 31)
	if err != nil {
		return Stat{}, fmt.Errorf("parse stat %q: parent pid %q is not a number", s, f[1])
	}
	st := Stat{PID: int(pid), Comm: s[open+1 : end], State: f[0][0], PPID: int(ppid)}
	const startField = 22 - 3 // f[0] is field 3, the state
	if len(f) > startField {
		if n, err := strconv.ParseUint(f[startField], 10, 64); err == nil {
			st.StartTime, st.HasStartTime = n, true
		}
	}
	return st, nil
}

// Processes returns the stat of every process of procDir (the entries
// named by a number). A process that exits while it reads, or whose stat
// does not parse, is skipped; only a procDir that cannot be listed is an
// error.
func Processes(procDir string) ([]Stat, error) {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return nil, err
	}
	var out []Stat
	for _, e := range entries {
		if _, err := strconv.ParseUint(e.Name(), 10, 31); err != nil {
			continue
		}
		st, err := ReadStat(filepath.Join(procDir, e.Name(), "stat"))
		if err != nil {
			continue
		}
		out = append(out, st)
	}
	return out, nil
}
