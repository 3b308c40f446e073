// Package bench measures nonroot-init side by side with its peers in one
// run, interleaved: Debian's tini, the smallest Go init (gofloor), the
// shell-script stack (bash, nss_wrapper, envsubst, tini) and chgrp+chmod
// -R. Each figure is printed with the median, the ratio, its target and
// whether it is met (see figure); nothing is asserted: `make bench`.
package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
		{"nonroot-init", []string{ourInit(b), "--"}},
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
// 300 interleaved rounds, for nonroot-init, the Go floor (gofloor: only
// fork-exec and wait4) and tini. Target: at most 1.3x the floor's
// overhead; tini's is reported. featfloor (gofloor linked with the
// packages the features need) runs in the same rounds: its ratio to the
// floor is the ceiling of that target for any Go init with the features.
func BenchmarkStartupOverhead(b *testing.B) {
	runners := append(inits(b), initRunner{"gofloor", []string{goFloor(b)}}, initRunner{"featfloor", []string{featFloor(b)}})
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
	ours, fl, tini := medianf(got["nonroot-init"]), medianf(got["gofloor"]), medianf(got["tini"])
	feat := medianf(got["featfloor"])
	b.ReportMetric(ours, "nonroot-init-ms")
	b.ReportMetric(fl, "gofloor-ms")
	b.ReportMetric(feat, "featfloor-ms")
	b.ReportMetric(tini, "tini-ms")
	figure{name: "start-up overhead (INIT -- true)", ours: ms(ours), peerName: "gofloor", peer: ms(fl),
		ratio: ours / fl, target: "<= 1.3x", met: ours <= 1.3*fl}.print()
	// The ceiling: the packages the features need, initialised at every
	// start, and nothing else.
	figure{name: "  ceiling: featfloor -- true", ours: ms(feat), peerName: "gofloor", peer: ms(fl),
		ratio: feat / fl, target: "<= 1.3x", met: feat <= 1.3*fl}.print()
	figure{name: "  nonroot-init over featfloor", ours: ms(ours), peerName: "featfloor", peer: ms(feat),
		ratio: ours / feat}.print()
	figure{name: "start-up overhead (INIT -- true)", ours: ms(ours), peerName: "tini", peer: ms(tini),
		ratio: ours / tini}.print()
}

func ms(v float64) string { return fmt.Sprintf("%.2f ms", v) }

// BenchmarkMemory: VmRSS (and its RssAnon and RssFile parts) and VmHWM of
// the init as PID 1 of a new PID namespace while it supervises a sleeping
// child, 5 interleaved rounds. Target: VmRSS at most 3 MiB.
func BenchmarkMemory(b *testing.B) {
	harness.NeedRoot(b)
	harness.NeedTool(b, "unshare")
	runners := inits(b)
	keys := []string{"VmRSS:", "RssAnon:", "RssFile:", "VmHWM:"}
	got := map[string]map[string][]float64{}
	for _, k := range keys {
		got[k] = map[string][]float64{}
	}
	for round := 0; round < 5; round++ {
		for _, r := range runners {
			argv := append([]string{"unshare", "--pid", "--fork", "--mount-proc"}, r.prefix...)
			cmd := exec.Command(argv[0], append(argv[1:], "sleep", "30")...)
			cmd.Env = quietEnv
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			pid := initPID(b, cmd.Process.Pid, r.prefix[0])
			// nonroot-init gives back setup's memory 200 ms after
			// COMMAND starts (memtrim).
			time.Sleep(time.Second)
			st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				b.Fatal(err)
			}
			for _, k := range keys {
				got[k][r.name] = append(got[k][r.name], statusKB(st, k)/1024)
			}
			_ = syscall.Kill(pid, syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	for _, k := range keys {
		ours, tini := medianf(got[k]["nonroot-init"]), medianf(got[k]["tini"])
		name := strings.TrimSuffix(k, ":")
		b.ReportMetric(ours, "nonroot-init-"+name+"-MiB")
		f := figure{name: name + " while supervising (PID 1)", ours: mib(ours), peerName: "tini", peer: mib(tini)}
		if tini != 0 {
			f.ratio = ours / tini
		}
		if k == "VmRSS:" {
			f.target, f.met = "<= 3 MiB", ours <= 3
		}
		f.print()
	}
}

func mib(v float64) string { return fmt.Sprintf("%.2f MiB", v) }

// initPID waits for the child of unshare (pid) to be exe, and returns it.
func initPID(b *testing.B, pid int, exe string) int {
	want, _ := filepath.EvalSymlinks(exe)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := harness.ChildPID(pid); err == nil {
			if got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", c)); err == nil && got == want {
				// COMMAND may be the child of any of the init's threads.
				kids, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", c))
				for _, k := range kids {
					if b, err := os.ReadFile(k); err == nil && len(strings.Fields(string(b))) > 0 {
						return c
					}
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("%s did not start under unshare %d", exe, pid)
	return 0
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

// pid1Run runs `unshare --pid --fork --mount-proc INIT testchild MODE
// N` and returns the two numbers the child printed: seconds of wall time
// and of PID 1's CPU.
func pid1Run(b *testing.B, r initRunner, mode string, n int) (wall, cpu float64) {
	argv := append([]string{"unshare", "--pid", "--fork", "--mount-proc"}, r.prefix...)
	argv = append(argv, harness.Child(b), mode, strconv.Itoa(n))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = quietEnv
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%v: %v", argv, err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		b.Fatalf("%s printed %q", mode, out)
	}
	w, err1 := strconv.ParseFloat(f[0], 64)
	c, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || w <= 0 || c < 0 {
		b.Fatalf("%s printed %q", mode, out)
	}
	return w, c
}

// BenchmarkReaping: orphans reaped per second by the init as PID 1 of a
// fresh PID namespace. The test child hands the init 20,000 zombies at
// once (their parent exits without reaping them) and reports the wall time
// until the namespace holds only PID 1 and itself, and the CPU time PID 1
// spent on them. Target: throughput at least tini's.
func BenchmarkReaping(b *testing.B) {
	harness.NeedRoot(b)
	harness.NeedTool(b, "unshare")
	runners := inits(b)
	const orphans = 20000
	wall, cpu := map[string][]float64{}, map[string][]float64{}
	for round := 0; round < 5; round++ {
		for _, r := range runners {
			w, c := pid1Run(b, r, "reapbench", orphans)
			wall[r.name] = append(wall[r.name], orphans/w)
			cpu[r.name] = append(cpu[r.name], c*1e6/orphans)
		}
	}
	reapFigures(b, "backlog", wall, cpu, 0)
}

// reapFigures prints throughput (target: at least tini's) and CPU per
// orphan (target: at most cpuTarget times tini's; 0: only reported).
func reapFigures(b *testing.B, what string, wall, cpu map[string][]float64, cpuTarget float64) {
	ow, tw := medianf(wall["nonroot-init"]), medianf(wall["tini"])
	oc, tc := medianf(cpu["nonroot-init"]), medianf(cpu["tini"])
	b.ReportMetric(ow, "nonroot-init-orphans/s")
	b.ReportMetric(tw, "tini-orphans/s")
	b.ReportMetric(oc, "nonroot-init-us/orphan")
	b.ReportMetric(tc, "tini-us/orphan")
	figure{name: "reaping as PID 1, " + what + ": throughput", ours: fmt.Sprintf("%.0f /s", ow), peerName: "tini", peer: fmt.Sprintf("%.0f /s", tw),
		ratio: ow / tw, target: ">= 1.0x", met: ow >= tw}.print()
	f := figure{name: "reaping as PID 1, " + what + ": CPU/orphan", ours: fmt.Sprintf("%.1f us", oc), peerName: "tini", peer: fmt.Sprintf("%.1f us", tc)}
	if tc > 0 {
		f.ratio = oc / tc
	}
	if cpuTarget > 0 {
		f.target, f.met = fmt.Sprintf("<= %.1fx", cpuTarget), tc > 0 && oc <= cpuTarget*tc
	}
	f.print()
	if fc, ok := cpu["reapfloor"]; ok && tc > 0 {
		fl := medianf(fc)
		b.ReportMetric(fl, "reapfloor-us/orphan")
		figure{name: "  reapfloor (os/signal + wait4): CPU/orphan", ours: fmt.Sprintf("%.1f us", fl), peerName: "tini", peer: fmt.Sprintf("%.1f us", tc),
			ratio: fl / tc, target: fmt.Sprintf("<= %.1fx", cpuTarget), met: fl <= cpuTarget*tc}.print()
		figure{name: "  nonroot-init over reapfloor: CPU/orphan", ours: fmt.Sprintf("%.1f us", oc), peerName: "reapfloor", peer: fmt.Sprintf("%.1f us", fl),
			ratio: oc / fl}.print()
	}
}

// BenchmarkSignalLatency: time from kill(SIGUSR1) to the init until the
// child reports it on its stdout, 200 interleaved signals. Reported.
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
	ours, tini := medianf(got["nonroot-init"]), medianf(got["tini"])
	b.ReportMetric(ours, "nonroot-init-us")
	b.ReportMetric(tini, "tini-us")
	figure{name: "signal forwarding latency", ours: fmt.Sprintf("%.0f us", ours), peerName: "tini", peer: fmt.Sprintf("%.0f us", tini),
		ratio: ours / tini}.print()
}

// BenchmarkBinarySize: the static nonroot-init built by `make build`
// (stripped) beside Debian's static tini and the Go floor. Target: at
// most 3.5 MiB.
func BenchmarkBinarySize(b *testing.B) {
	size := func(p string) float64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return float64(fi.Size()) / (1 << 20)
	}
	ours := size(ourInit(b))
	b.ReportMetric(ours, "MiB")
	figure{name: "binary size (static, stripped)", ours: mib(ours), peerName: "tini-static", peer: mib(size("/usr/bin/tini-static")),
		target: "<= 3.5 MiB", met: ours <= 3.5}.print()
	figure{name: "binary size (static, stripped)", ours: mib(ours), peerName: "gofloor", peer: mib(size(goFloor(b)))}.print()
	feat := size(featFloor(b))
	figure{name: "  ceiling: featfloor (the features' packages)", ours: mib(feat), peerName: "", peer: "",
		target: "<= 3.5 MiB", met: feat <= 3.5}.print()
}
