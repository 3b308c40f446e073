package supervisor

import "github.com/nonroot-init/nonroot-init/internal/procfs"

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
