// Package bench measures nonroot-init side by side with Debian's tini in
// one run, interleaved, and reports medians and the ratio to tini. The
// figures are printed, never asserted: `make bench`.
package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// initRunner is one init under comparison: the argv that puts it in
// front of COMMAND.
type initRunner struct {
	name   string
	prefix []string
}

func inits(b *testing.B) []initRunner {
	harness.NeedTool(b, "tini")
	tini, _ := exec.LookPath("tini")
	return []initRunner{
		{"nonroot-init", []string{harness.Init(b), "--"}},
		// -s: register as subreaper when not PID 1, as nonroot-init does.
		{"tini", []string{tini, "-s", "--"}},
	}
}

// quietEnv keeps the init's info lines (such as "running as root") out of
// the measurement.
var quietEnv = append(os.Environ(), "NONROOT_LOG_LEVEL=error")

func medianf(ds []float64) float64 {
	s := append([]float64(nil), ds...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func report(b *testing.B, what, unit string, got map[string][]float64) {
	ni, tini := medianf(got["nonroot-init"]), medianf(got["tini"])
	b.ReportMetric(ni, "nonroot-init-"+unit)
	b.ReportMetric(tini, "tini-"+unit)
	ratio := 0.0
	if tini != 0 {
		ratio = ni / tini
		b.ReportMetric(ratio, "ratio")
	}
	fmt.Printf("%-34s nonroot-init %10.3f %-9s tini %10.3f %-9s ratio %.2f (median of %d)\n",
		what, ni, unit, tini, unit, ratio, len(got["nonroot-init"]))
}

func runQuiet(b *testing.B, argv []string) time.Duration {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = quietEnv
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%v: %v", argv, err)
	}
	return time.Since(start)
}

// BenchmarkStartupOverhead: wall time of `INIT -- true` minus `true` alone,
// 300 interleaved rounds.
func BenchmarkStartupOverhead(b *testing.B) {
	runners := inits(b)
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Skip("needs true")
	}
	got := map[string][]float64{}
	for round := 0; round < 300; round++ {
		base := runQuiet(b, []string{truePath})
		for _, r := range runners {
			d := runQuiet(b, append(append([]string{}, r.prefix...), truePath))
			got[r.name] = append(got[r.name], float64(d-base)/1e6)
		}
	}
	report(b, "startup overhead (INIT -- true)", "ms", got)
}

// BenchmarkMemory: VmRSS and VmHWM of the init while it supervises a
// sleeping child.
func BenchmarkMemory(b *testing.B) {
	runners := inits(b)
	rss, hwm := map[string][]float64{}, map[string][]float64{}
	for round := 0; round < 5; round++ {
		for _, r := range runners {
			cmd := exec.Command(r.prefix[0], append(r.prefix[1:], "sleep", "30")...)
			cmd.Env = quietEnv
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
			if err != nil {
				b.Fatal(err)
			}
			rss[r.name] = append(rss[r.name], statusKB(st, "VmRSS:")/1024)
			hwm[r.name] = append(hwm[r.name], statusKB(st, "VmHWM:")/1024)
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	report(b, "VmRSS while supervising", "MiB", rss)
	report(b, "VmHWM while supervising", "MiB", hwm)
}

func statusKB(status []byte, key string) float64 {
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseFloat(f[0], 64)
				return n
			}
		}
	}
	return 0
}

// BenchmarkReaping: orphans reaped per second by the init as PID 1 of a
// fresh PID namespace. The test child hands the init 20,000 zombies at
// once (their parent exits without reaping them) and reports the wall time
// until the namespace holds only PID 1 and itself, and the CPU time PID 1
// spent on them.
func BenchmarkReaping(b *testing.B) {
	harness.NeedRoot(b)
	harness.NeedTool(b, "unshare")
	runners := inits(b)
	const orphans = 20000
	wall, cpu := map[string][]float64{}, map[string][]float64{}
	for round := 0; round < 7; round++ {
		for _, r := range runners {
			argv := append([]string{"unshare", "--pid", "--fork", "--mount-proc"}, r.prefix...)
			argv = append(argv, harness.Child(b), "reapbench", strconv.Itoa(orphans))
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = quietEnv
			out, err := cmd.Output()
			if err != nil {
				b.Fatalf("%v: %v", argv, err)
			}
			f := strings.Fields(string(out))
			if len(f) != 2 {
				b.Fatalf("reapbench printed %q", out)
			}
			w, err1 := strconv.ParseFloat(f[0], 64)
			c, err2 := strconv.ParseFloat(f[1], 64)
			if err1 != nil || err2 != nil || w <= 0 || c <= 0 {
				b.Fatalf("reapbench printed %q", out)
			}
			wall[r.name] = append(wall[r.name], orphans/w)
			cpu[r.name] = append(cpu[r.name], c*1e6/orphans)
		}
	}
	report(b, "orphans reaped per second (PID 1)", "orphans/s", wall)
	report(b, "PID 1 CPU time per orphan reaped", "µs", cpu)
}

// BenchmarkSignalLatency: time from kill(SIGUSR1) to the init until the
// child reports it on its stdout, 200 interleaved signals.
func BenchmarkSignalLatency(b *testing.B) {
	runners := inits(b)
	type proc struct {
		cmd   *exec.Cmd
		lines *bufio.Scanner
	}
	procs := map[string]proc{}
	for _, r := range runners {
		cmd := exec.Command(r.prefix[0], append(r.prefix[1:], harness.Child(b), "signals", "PWR")...)
		cmd.Env = quietEnv
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		if !sc.Scan() || sc.Text() != "ready" {
			b.Fatalf("%s: child not ready", r.name)
		}
		procs[r.name] = proc{cmd, sc}
		defer func() {
			_ = cmd.Process.Signal(syscall.SIGPWR)
			_ = cmd.Wait()
		}()
	}
	got := map[string][]float64{}
	for i := 0; i < 200; i++ {
		for _, r := range runners {
			p := procs[r.name]
			start := time.Now()
			if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
				b.Fatal(err)
			}
			if !p.lines.Scan() || p.lines.Text() != "SIGUSR1" {
				b.Fatalf("%s: child did not report SIGUSR1", r.name)
			}
			got[r.name] = append(got[r.name], float64(time.Since(start))/1e3)
		}
	}
	report(b, "signal forwarding latency", "µs", got)
}

// BenchmarkBinarySize: the static nonroot-init built by `make build`
// (stripped) beside Debian's static and dynamic tini.
func BenchmarkBinarySize(b *testing.B) {
	root, err := harness.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	sizes := map[string]string{
		"nonroot-init (static, bin/nonroot-init)": root + "/bin/nonroot-init",
		"tini-static":    "/usr/bin/tini-static",
		"tini (dynamic)": "/usr/bin/tini",
	}
	for _, name := range []string{"nonroot-init (static, bin/nonroot-init)", "tini-static", "tini (dynamic)"} {
		fi, err := os.Stat(sizes[name])
		if err != nil {
			fmt.Printf("%-40s missing (%v)\n", name, err)
			continue
		}
		fmt.Printf("%-40s %8.2f MiB\n", name, float64(fi.Size())/(1<<20))
		if strings.HasPrefix(name, "nonroot-init") {
			b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
		}
	}
}
