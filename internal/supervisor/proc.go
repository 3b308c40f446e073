package supervisor

import (
	"fmt"
	"path/filepath"
	"strconv"

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
	st, err := procfs.ReadStat(path)
	if err != nil {
		return proc{}, err
	}
	if !st.HasStartTime {
		return proc{}, fmt.Errorf("%s: no start time (field 22)", path)
	}
	return proc{pid: st.PID, ppid: st.PPID, start: st.StartTime}, nil
}
