package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// Tree shapes: the 100,000 files in 1,000 directories, and
// 1,000,000 files in 10,000 directories.
const (
	fixBenchDirs         = 1000
	fixBenchFilesPerDir  = 100
	fixBenchRounds       = 5
	fixBenchOwner        = 1234
	fixBenchHugeDirs     = 10000
	fixBenchHugePerDir   = 100
	fixBenchFreshTarget  = 3.0
	fixBenchFixedTarget  = 10.0
	fixBenchChgrpChmodSh = `chgrp -R 0 "$1" && chmod -R g+rwX "$1"`
)

// Settings of the benchmark, from the environment:
//
//	FIXBENCH_INIT=PATH  time this nonroot-init instead of the fresh build
//	                    (a build of another commit, for before/after)
//	FIXBENCH_SYNC=0     no sync before the timed runs: the earlier method,
//	                    to see what writeback does to the figures
//	FIXBENCH_HUGE=0     skip the 1,000,000-file tree
//	FIXBENCH_BASELINE=PATH  also time this nonroot-init in every round
//	                    (the build before a change), interleaved with the
//	                    others, so that load on the machine hits all alike
func fixBenchSetting(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// BenchmarkFixPermissions compares `nonroot-init fix-permissions DIR` with
// `chgrp -R 0 DIR && chmod -R g+rwX DIR` on the same tree of 100,000 files
// in 1,000 directories, as the independent harness of issue #14 did: 5
// rounds; in each, every entry is given back to 1234:1234 with 0755/0644,
// then each tool runs on the fresh tree and again on the tree it has just
// fixed, the order of the tools alternating from round to round. A `sync`
// comes before every timed run (and is not timed), so that the writeback
// of the reset or of the previous run is not done, or waited for, inside
// the next one; the sync after each run is timed on its own and reported
// as the writeback that run left behind. Medians are reported, with the
// ratios, their targets (3x fresh, 10x already fixed) and whether they
// are met. Then a tree of 1,000,000 files in 10,000 directories is fixed
// once fresh and once already fixed by each tool (time and entries/s).
func BenchmarkFixPermissions(b *testing.B) {
	harness.NeedRoot(b)
	harness.NeedTool(b, "sh", "chgrp", "chmod", "sync")
	init := fixBenchSetting("FIXBENCH_INIT", "")
	if init == "" {
		init = harness.Init(b)
	}
	doSync := fixBenchSetting("FIXBENCH_SYNC", "1") != "0"
	root := b.TempDir()
	tree := filepath.Join(root, "tree")
	fixBenchMakeTree(b, tree, fixBenchDirs, fixBenchFilesPerDir, []byte("x"))

	tools := []fixBenchTool{
		{"fix-permissions", []string{init, "fix-permissions", tree}},
		{"chgrp+chmod", []string{"sh", "-c", fixBenchChgrpChmodSh, "sh", tree}},
		{fixBenchFloorName, nil},
	}
	baseline := fixBenchSetting("FIXBENCH_BASELINE", "")
	if baseline != "" {
		tools = append(tools, fixBenchTool{"baseline", []string{baseline, "fix-permissions", tree}})
	}
	// Milliseconds, so that the medians come from init_bench_test.go's
	// medianf.
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fresh := map[string][]float64{}
	fixed := map[string][]float64{}
	writeback := map[string][]float64{} // the sync after a fresh run
	b.ResetTimer()
	for round := range fixBenchRounds {
		b.StopTimer()
		// Each tool in turn, starting one later each round.
		var order []int
		for i := range tools {
			order = append(order, (i+round)%len(tools))
		}
		for _, i := range order {
			tool := tools[i]
			fixBenchReset(b, tree)
			if doSync {
				fixBenchSync(b)
			}
			b.StartTimer()
			fresh[tool.name] = append(fresh[tool.name], ms(tool.time(b, tree)))
			b.StopTimer()
			if doSync {
				writeback[tool.name] = append(writeback[tool.name], ms(fixBenchSync(b)))
			}
			b.StartTimer()
			fixed[tool.name] = append(fixed[tool.name], ms(tool.time(b, tree)))
			b.StopTimer()
		}
	}

	fp, cc := "fix-permissions", "chgrp+chmod"
	freshFP, freshCC := medianf(fresh[fp]), medianf(fresh[cc])
	fixedFP, fixedCC := medianf(fixed[fp]), medianf(fixed[cc])
	b.ReportMetric(freshFP, "fixperms-fresh-ms")
	b.ReportMetric(freshCC, "chgrpchmod-fresh-ms")
	b.ReportMetric(fixedFP, "fixperms-fixed-ms")
	b.ReportMetric(fixedCC, "chgrpchmod-fixed-ms")
	b.ReportMetric(freshCC/freshFP, "fresh-speedup-x")
	b.ReportMetric(fixedCC/fixedFP, "fixed-speedup-x")
	method := "sync before every timed run"
	if !doSync {
		method = "no sync (FIXBENCH_SYNC=0)"
	}
	fmt.Printf("\nfix-permissions vs chgrp -R 0 && chmod -R g+rwX: %d files in %d directories, median of %d interleaved rounds, %s\n",
		fixBenchDirs*fixBenchFilesPerDir, fixBenchDirs, fixBenchRounds, method)
	fmt.Printf("%-14s %18s %18s %9s %8s\n", "tree", "fix-permissions", "chgrp+chmod", "speedup", "target")
	fmt.Printf("%-14s %15.0f ms %15.0f ms %8.1fx %7.0fx %s\n", "fresh", freshFP, freshCC, freshCC/freshFP, fixBenchFreshTarget, metOrNot(freshCC/freshFP >= fixBenchFreshTarget))
	fmt.Printf("%-14s %15.0f ms %15.0f ms %8.1fx %7.0fx %s\n", "already fixed", fixedFP, fixedCC, fixedCC/fixedFP, fixBenchFixedTarget, metOrNot(fixedCC/fixedFP >= fixBenchFixedTarget))
	if doSync {
		fmt.Printf("%-14s %15.0f ms %15.0f ms   (the sync after a fresh run, not timed in it)\n", "writeback", medianf(writeback[fp]), medianf(writeback[cc]))
	}
	// The floor: what chgrp+chmod's time over it says of the targets.
	freshFl, fixedFl := medianf(fresh[fixBenchFloorName]), medianf(fixed[fixBenchFloorName])
	b.ReportMetric(freshCC/freshFl, "fresh-ceiling-x")
	b.ReportMetric(fixedCC/fixedFl, "fixed-ceiling-x")
	fmt.Printf("floor: %s\n", fixBenchFloorWhat)
	fmt.Printf("%-14s %15.0f ms %18s %8.1fx %7.0fx %s\n", "floor fresh", freshFl, "", freshCC/freshFl, fixBenchFreshTarget, ceilingVerdict(freshCC/freshFl, fixBenchFreshTarget))
	fmt.Printf("%-14s %15.0f ms %18s %8.1fx %7.0fx %s\n", "floor fixed", fixedFl, "", fixedCC/fixedFl, fixBenchFixedTarget, ceilingVerdict(fixedCC/fixedFl, fixBenchFixedTarget))
	fmt.Printf("fix-permissions is at %.2fx the floor's time fresh and %.2fx already fixed\n", freshFP/freshFl, fixedFP/fixedFl)
	if baseline != "" {
		bl := "baseline"
		fmt.Printf("baseline %s: fresh %.0f ms (%.1fx), already fixed %.0f ms (%.1fx)\n", baseline,
			medianf(fresh[bl]), freshCC/medianf(fresh[bl]), medianf(fixed[bl]), fixedCC/medianf(fixed[bl]))
	}
	for _, tool := range tools {
		fmt.Printf("rounds (ms): %s fresh %v fixed %v\n", tool.name, rounded(fresh[tool.name]), rounded(fixed[tool.name]))
	}

	if err := os.RemoveAll(tree); err != nil {
		b.Fatal(err)
	}
	if fixBenchSetting("FIXBENCH_HUGE", "1") != "0" {
		fixBenchHuge(b, root, init, baseline)
	}
}

// fixBenchHuge times each tool once on a fresh and once on an already-
// fixed tree of 1,000,000 empty files in 10,000 directories, built once
// (and baseline too, unless it is "").
func fixBenchHuge(b *testing.B, root, init, baseline string) {
	tree := filepath.Join(root, "huge")
	start := time.Now()
	fixBenchMakeTree(b, tree, fixBenchHugeDirs, fixBenchHugePerDir, nil)
	built := time.Since(start)
	entries := float64(fixBenchHugeDirs*(fixBenchHugePerDir+1) + 1)
	fmt.Printf("\n%d files in %d directories (built in %.1f s), one run each, sync before every run:\n",
		fixBenchHugeDirs*fixBenchHugePerDir, fixBenchHugeDirs, built.Seconds())
	fmt.Printf("%-16s %-14s %10s %14s\n", "tool", "tree", "time", "entries/s")
	tools := []fixBenchTool{
		{"fix-permissions", []string{init, "fix-permissions", tree}},
		{"chgrp+chmod", []string{"sh", "-c", fixBenchChgrpChmodSh, "sh", tree}},
		{fixBenchFloorName, nil},
	}
	if baseline != "" {
		tools = append(tools, fixBenchTool{"baseline", []string{baseline, "fix-permissions", tree}})
	}
	for i, tool := range tools {
		if i > 0 {
			fixBenchReset(b, tree)
		}
		for _, state := range []string{"fresh", "already fixed"} {
			fixBenchSync(b)
			b.StartTimer()
			took := tool.time(b, tree)
			b.StopTimer()
			fmt.Printf("%-16s %-14s %8.2f s %14.0f\n", tool.name, state, took.Seconds(), entries/took.Seconds())
			if tool.name == "fix-permissions" {
				unit := "huge-fresh-s"
				if state != "fresh" {
					unit = "huge-fixed-s"
				}
				b.ReportMetric(took.Seconds(), unit)
			}
		}
	}
	b.StopTimer()
	start = time.Now()
	if err := os.RemoveAll(tree); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("(removed in %.1f s)\n", time.Since(start).Seconds())
}

// fixBenchTool is one way of fixing the tree: a command, or (argv nil)
// the in-process floor.
type fixBenchTool struct {
	name string
	argv []string
}

const (
	fixBenchFloorName = "floor"
	fixBenchFloorWhat = "statx by name per entry, fchownat+fchmodat by name where needed, on every core, in this process, names read beforehand, no check of any kind (see fixfloor_test.go); ratio = chgrp+chmod's time over the floor's, the most any tool could show here"
)

// time runs the tool once on tree and returns how long it took; the
// floor's reading of the names is not timed.
func (t fixBenchTool) time(b *testing.B, tree string) time.Duration {
	b.Helper()
	if t.argv != nil {
		return fixBenchTime(b, t.argv)
	}
	b.StopTimer()
	fl, err := newFixFloor(tree)
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	took, err := fl.run()
	if err != nil {
		b.Fatalf("floor: %v", err)
	}
	return took
}

// ceilingVerdict says whether a target is within what the floor allows
// on this machine.
func ceilingVerdict(ceiling, target float64) string {
	if ceiling >= target {
		return "target within reach here"
	}
	return fmt.Sprintf("target ABOVE this machine's ceiling (%.1fx < %.0fx)", ceiling, target)
}

func metOrNot(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func rounded(v []float64) []int {
	r := make([]int, len(v))
	for i, x := range v {
		r[i] = int(x + 0.5)
	}
	return r
}

// fixBenchSync runs sync(1) and returns how long it took: the writeback
// that was pending.
func fixBenchSync(b *testing.B) time.Duration {
	b.Helper()
	start := time.Now()
	if out, err := exec.Command("sync").CombinedOutput(); err != nil {
		b.Fatalf("sync: %v\n%s", err, out)
	}
	return time.Since(start)
}

// fixBenchMakeTree creates dirs directories of perDir files holding data,
// directories 0755 and files 0644, owned fixBenchOwner:fixBenchOwner, on
// both cores.
func fixBenchMakeTree(b *testing.B, tree string, dirs, perDir int, data []byte) {
	b.Helper()
	if err := os.Mkdir(tree, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.Lchown(tree, fixBenchOwner, fixBenchOwner); err != nil {
		b.Fatal(err)
	}
	fixBenchParallel(b, dirs, func(d int) error {
		dir := filepath.Join(tree, fmt.Sprintf("d%05d", d))
		if err := unix.Mkdir(dir, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", dir, err)
		}
		dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", dir, err)
		}
		defer unix.Close(dfd)
		if err := unix.Fchown(dfd, fixBenchOwner, fixBenchOwner); err != nil {
			return fmt.Errorf("chown %s: %w", dir, err)
		}
		if err := unix.Fchmod(dfd, 0o755); err != nil {
			return fmt.Errorf("chmod %s: %w", dir, err)
		}
		for f := range perDir {
			name := "f" + strconv.Itoa(f)
			fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
			if err != nil {
				return fmt.Errorf("create %s/%s: %w", dir, name, err)
			}
			if len(data) > 0 {
				if _, err := unix.Write(fd, data); err != nil {
					unix.Close(fd)
					return fmt.Errorf("write %s/%s: %w", dir, name, err)
				}
			}
			err = errors.Join(unix.Fchown(fd, fixBenchOwner, fixBenchOwner), unix.Fchmod(fd, 0o644))
			unix.Close(fd)
			if err != nil {
				return fmt.Errorf("chown/chmod %s/%s: %w", dir, name, err)
			}
		}
		return nil
	})
}

// fixBenchReset gives every entry of a tree fixBenchMakeTree built back
// to fixBenchOwner with 0755/0644, on both cores.
func fixBenchReset(b *testing.B, tree string) {
	b.Helper()
	if err := errors.Join(os.Lchown(tree, fixBenchOwner, fixBenchOwner), os.Chmod(tree, 0o755)); err != nil {
		b.Fatal(err)
	}
	dirs, err := os.ReadDir(tree)
	if err != nil {
		b.Fatal(err)
	}
	fixBenchParallel(b, len(dirs), func(d int) error {
		dir := filepath.Join(tree, dirs[d].Name())
		dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", dir, err)
		}
		f := os.NewFile(uintptr(dfd), dir)
		defer f.Close()
		if err := errors.Join(unix.Fchown(dfd, fixBenchOwner, fixBenchOwner), unix.Fchmod(dfd, 0o755)); err != nil {
			return fmt.Errorf("reset %s: %w", dir, err)
		}
		names, err := f.Readdirnames(-1)
		if err != nil {
			return fmt.Errorf("read %s: %w", dir, err)
		}
		for _, name := range names {
			err := errors.Join(
				unix.Fchownat(dfd, name, fixBenchOwner, fixBenchOwner, unix.AT_SYMLINK_NOFOLLOW),
				unix.Fchmodat(dfd, name, 0o644, 0))
			if err != nil {
				return fmt.Errorf("reset %s/%s: %w", dir, name, err)
			}
		}
		return nil
	})
}

// fixBenchParallel calls do(0) ... do(n-1) on two goroutines and fails b
// with the first error.
func fixBenchParallel(b *testing.B, n int, do func(int) error) {
	b.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := do(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		b.Fatal(first)
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
