package bench

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// Tree shape of the issue: 100,000 files in 1,000 directories.
const (
	fixBenchDirs        = 1000
	fixBenchFilesPerDir = 100
	fixBenchRounds      = 7
	fixBenchOwner       = 1234
)

// BenchmarkFixPermissions compares `nonroot-init fix-permissions DIR` with
// `chgrp -R 0 DIR && chmod -R g+rwX DIR` on the same tree of 100,000 files
// in 1,000 directories, owned 1234:1234 with modes 0755/0644: on a fresh
// tree (ownership and modes reset before each run) and on an already-fixed
// one. The four runs of a round are interleaved and their order alternates
// from round to round; the medians are reported.
func BenchmarkFixPermissions(b *testing.B) {
	harness.NeedRoot(b)
	harness.NeedTool(b, "sh", "chgrp", "chmod")
	init := harness.Init(b)
	root := b.TempDir()
	tree := filepath.Join(root, "tree")
	fixBenchMakeTree(b, tree)

	tools := []struct {
		name string
		argv []string
	}{
		{"fix-permissions", []string{init, "fix-permissions", tree}},
		{"chgrp+chmod", []string{"sh", "-c", `chgrp -R 0 "$1" && chmod -R g+rwX "$1"`, "sh", tree}},
	}
	// Milliseconds, so that the medians come from init_bench_test.go's
	// medianf.
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fresh := map[string][]float64{}
	fixed := map[string][]float64{}
	b.ResetTimer()
	for round := range fixBenchRounds {
		order := []int{0, 1}
		if round%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			tool := tools[i]
			b.StopTimer()
			fixBenchReset(b, tree)
			b.StartTimer()
			fresh[tool.name] = append(fresh[tool.name], ms(fixBenchTime(b, tool.argv)))
			fixed[tool.name] = append(fixed[tool.name], ms(fixBenchTime(b, tool.argv)))
		}
	}
	b.StopTimer()

	fp, cc := "fix-permissions", "chgrp+chmod"
	freshFP, freshCC := medianf(fresh[fp]), medianf(fresh[cc])
	fixedFP, fixedCC := medianf(fixed[fp]), medianf(fixed[cc])
	b.ReportMetric(freshFP, "fixperms-fresh-ms")
	b.ReportMetric(freshCC, "chgrpchmod-fresh-ms")
	b.ReportMetric(fixedFP, "fixperms-fixed-ms")
	b.ReportMetric(fixedCC, "chgrpchmod-fixed-ms")
	b.ReportMetric(freshCC/freshFP, "fresh-speedup-x")
	b.ReportMetric(fixedCC/fixedFP, "fixed-speedup-x")
	fmt.Printf("\nfix-permissions vs chgrp -R 0 && chmod -R g+rwX: %d files in %d directories, median of %d interleaved rounds\n",
		fixBenchDirs*fixBenchFilesPerDir, fixBenchDirs, fixBenchRounds)
	fmt.Printf("%-14s %18s %18s %9s\n", "tree", "fix-permissions", "chgrp+chmod", "speedup")
	fmt.Printf("%-14s %15.0f ms %15.0f ms %8.1fx\n", "fresh", freshFP, freshCC, freshCC/freshFP)
	fmt.Printf("%-14s %15.0f ms %15.0f ms %8.1fx\n", "already fixed", fixedFP, fixedCC, fixedCC/fixedFP)
}

// fixBenchMakeTree creates the tree with directories 0755 and files 0644
// owned fixBenchOwner:fixBenchOwner.
func fixBenchMakeTree(b *testing.B, tree string) {
	b.Helper()
	for d := range fixBenchDirs {
		dir := filepath.Join(tree, fmt.Sprintf("d%04d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range fixBenchFilesPerDir {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", f)), []byte("x"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	fixBenchReset(b, tree)
}

// fixBenchReset gives every entry back to fixBenchOwner with 0755/0644.
func fixBenchReset(b *testing.B, tree string) {
	b.Helper()
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, fixBenchOwner, fixBenchOwner); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	})
	if err != nil {
		b.Fatalf("reset %s: %v", tree, err)
	}
}

// fixBenchTime runs argv to completion and returns its wall time.
func fixBenchTime(b *testing.B, argv []string) time.Duration {
	b.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("%v: %v\n%s", argv, err, out)
	}
	return elapsed
}
