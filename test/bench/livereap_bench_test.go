package bench

import (
	"testing"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// BenchmarkReapingLive: the init as PID 1 while 20,000 orphans are made
// one by one (testchild liveorphans: each a grandchild that exits at once,
// its parent gone), so that every orphan is a wake-up of its own rather
// than part of a backlog. Reported: throughput (target: at least tini's)
// and the init's CPU per orphan from utime+stime of /proc/1/stat (target:
// at most 1.5x tini's). 3 interleaved rounds. reapfloor, the smallest
// Go PID 1 that reaps the plain Go way (os/signal, wait4), runs in the
// same rounds, for what the Go runtime's own signal path costs.
func BenchmarkReapingLive(b *testing.B) {
	harness.NeedRoot(b)
	harness.NeedTool(b, "unshare")
	// reapfloor: the plain Go way (os/signal and wait4), for the floor
	// of the Go runtime's own signal path.
	runners := append(inits(b), initRunner{"reapfloor", []string{floorBinary(b, "reapfloor")}})
	const orphans = 20000
	wall, cpu := map[string][]float64{}, map[string][]float64{}
	for round := 0; round < 3; round++ {
		for _, r := range runners {
			w, c := pid1Run(b, r, "liveorphans", orphans)
			wall[r.name] = append(wall[r.name], orphans/w)
			cpu[r.name] = append(cpu[r.name], c*1e6/orphans)
		}
	}
	reapFigures(b, "live", wall, cpu, 1.5)
}
