package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

// descendants returns the pids of every process below root in the
// process tree, read from procDir (normally /proc). Orphans reparented to
// a subreaper are its children, so they are found too. Processes that
// vanish while it reads are skipped.
func descendants(procDir string, root int) []int {
	procs, err := procfs.Processes(procDir)
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, p := range procs {
		children[p.PPID] = append(children[p.PPID], p.PID)
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// proc is a listed process: its pid, parent and start time (field 22 of
// /proc/PID/stat, in clock ticks since boot), which tells it from a later
// process given the same pid.
type proc struct {
	pid, ppid int
	start     uint64
}

// readProc reads the pid, parent and start time of pid from procDir.
func readProc(procDir string, pid int) (proc, error) {
	path := filepath.Join(procDir, strconv.Itoa(pid), "stat")
	b, err := os.ReadFile(path)
	if err != nil {
		return proc{}, err
	}
	st, err := procfs.ParseStat(string(b))
	if err != nil {
		return proc{}, fmt.Errorf("%s: %w", path, err)
	}
	start, err := parseStartTime(string(b))
	if err != nil {
		return proc{}, fmt.Errorf("%s: %w", path, err)
	}
	return proc{pid: st.PID, ppid: st.PPID, start: start}, nil
}

// parseStartTime returns field 22 (starttime) of a /proc/PID/stat line;
// the fields are counted after the command name's last ')', as
// procfs.ParseStat does.
func parseStartTime(s string) (uint64, error) {
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, fmt.Errorf("parse stat %q: no command name in parentheses", s)
	}
	f := strings.Fields(s[end+1:])
	const startField = 22 - 3 // f[0] is field 3, the state
	if len(f) <= startField {
		return 0, fmt.Errorf("parse stat %q: no start time (field 22)", s)
	}
	n, err := strconv.ParseUint(f[startField], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse stat %q: start time %q is not a number", s, f[startField])
	}
	return n, nil
}
