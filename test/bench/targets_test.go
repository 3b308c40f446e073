package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// A figure is one line of the table `make bench` prints: ours beside the
// peer's, the ratio, the target and whether it is met. A figure without
// a target is only reported.
type figure struct {
	name       string
	ours, peer string // formatted values, with their unit
	peerName   string
	ratio      float64 // ours/peer or peer/ours, as the target reads
	target     string  // "<= 1.3x", "" when only reported
	met        bool
}

var headerOnce sync.Once

func (f figure) print() {
	headerOnce.Do(func() {
		fmt.Printf("%-44s %14s %26s %8s %10s %s\n", "figure", "ours", "peer", "ratio", "target", "")
	})
	verdict, target := "reported", f.target
	if target != "" {
		verdict = metOrNot(f.met)
	} else {
		target = "-"
	}
	peer := f.peer
	if f.peerName != "" {
		peer = f.peerName + " " + f.peer
	}
	ratio := "-"
	if f.ratio != 0 {
		ratio = fmt.Sprintf("%.2fx", f.ratio)
	}
	fmt.Printf("%-44s %14s %26s %8s %10s %s\n", f.name, f.ours, peer, ratio, target, verdict)
}

// ourInit is the binary users run: bin/nonroot-init as `make build`
// stripped it (make bench builds it first); the harness's unstripped
// build when it is missing.
func ourInit(b *testing.B) string {
	root, err := harness.ModuleRoot()
	if err == nil {
		p := filepath.Join(root, "bin", "nonroot-init")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return harness.Init(b)
}

var floor struct {
	once sync.Once
	path string
	err  error
}

// goFloor builds test/bench/gofloor, the smallest Go init (fork-exec and
// wait4), stripped like bin/nonroot-init.
func goFloor(b *testing.B) string {
	floor.once.Do(func() {
		root, err := harness.ModuleRoot()
		if err != nil {
			floor.err = err
			return
		}
		dir, err := os.MkdirTemp("", "gofloor-")
		if err != nil {
			floor.err = err
			return
		}
		floor.path = filepath.Join(dir, "gofloor")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", floor.path, "./test/bench/gofloor")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			floor.err = fmt.Errorf("go build ./test/bench/gofloor: %v\n%s", err, out)
		}
	})
	if floor.err != nil {
		b.Fatal(floor.err)
	}
	return floor.path
}
