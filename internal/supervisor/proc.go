package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// descendants returns the pids of every process below root in the
// process tree, read from procDir (normally /proc). Orphans reparented to
// a subreaper are its children, so they are found too. Processes that
// vanish while it reads are skipped.
func descendants(procDir string, root int) []int {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procDir, e.Name(), "stat"))
		if err != nil {
			continue
		}
		ppid, err := parseStatPPID(string(b))
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], pid)
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

// parseStatPPID returns the parent pid from a /proc/PID/stat line. The
// command name (field 2) is in parentheses and may itself contain spaces
// and parentheses, so the fields are counted from the last ')'.
func parseStatPPID(stat string) (int, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse stat %q: no ')' after the command name", stat)
	}
	fields := strings.Fields(stat[i+1:])
	if len(fields) < 2 {
		return 0, fmt.Errorf("parse stat %q: missing state or ppid", stat)
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil || ppid < 0 {
		return 0, fmt.Errorf("parse stat %q: bad ppid %q", stat, fields[1])
	}
	return ppid, nil
}
