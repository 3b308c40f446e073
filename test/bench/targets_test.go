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

var floors struct {
	sync.Mutex
	built map[string]string
}

// goFloor builds test/bench/gofloor, the smallest Go init (fork-exec and
// wait4), stripped like bin/nonroot-init.
func goFloor(b *testing.B) string { return floorBinary(b, "gofloor") }

// featFloor builds test/bench/featfloor: gofloor linked with the
// packages SPEC.md's features need (see its doc), the floor of any Go
// init that has them.
func featFloor(b *testing.B) string { return floorBinary(b, "featfloor") }

// floorBinary builds ./test/bench/NAME once, stripped like
// bin/nonroot-init, and returns its path.
func floorBinary(b *testing.B, name string) string {
	floors.Lock()
	defer floors.Unlock()
	if p, ok := floors.built[name]; ok {
		return p
	}
	root, err := harness.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	dir, err := os.MkdirTemp("", name+"-")
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", p, "./test/bench/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build ./test/bench/%s: %v\n%s", name, err, out)
	}
	if floors.built == nil {
		floors.built = map[string]string{}
	}
	floors.built[name] = p
	return p
}
