package doctor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

func TestDisposition(t *testing.T) {
	term := sigBit(syscall.SIGTERM)
	for _, tc := range []struct {
		cgt, ign, blk uint64
		want          string
	}{
		{0, 0, 0, "default"},
		{term, 0, 0, "caught"},
		{0, term, 0, "ignored"},
		{term, 0, term, "blocked"},
		{^term, ^term, ^term, "default"},
	} {
		if got := disposition(syscall.SIGTERM, tc.cgt, tc.ign, tc.blk); got != tc.want {
			t.Errorf("disposition(SIGTERM, %x, %x, %x) = %q; want %q", tc.cgt, tc.ign, tc.blk, got, tc.want)
		}
	}
}

func TestSignalList(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		want string
	}{
		{"0000000000000000", "none"},
		{"0000000000001000", "SIGPIPE"},
		{"0000000000004001", "SIGHUP,SIGTERM"},
		{"0000000200000000", "SIG34"},
	} {
		mask, err := strconv.ParseUint(tc.hex, 16, 64)
		if got := signalList(mask); err != nil || got != tc.want {
			t.Errorf("signalList(%q) = %q, %v; want %q", tc.hex, got, err, tc.want)
		}
	}
}

func TestCgroupPaths(t *testing.T) {
	for _, tc := range []struct {
		text, v2, v1 string
	}{
		{"0::/kubepods/pod1/abc\n", "/kubepods/pod1/abc", ""},
		{"5:devices:/x\n4:memory:/process_api/2b\n0::/\n", "/", "/process_api/2b"},
		{"3:cpu,memory:/m\n", "", "/m"},
		{"2:memoryx:/no\nmalformed\n", "", ""},
	} {
		v2, v1 := cgroupPaths(tc.text)
		if v2 != tc.v2 || v1 != tc.v1 {
			t.Errorf("cgroupPaths(%q) = %q, %q; want %q, %q", tc.text, v2, v1, tc.v2, tc.v1)
		}
	}
}

func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"max\n", "unlimited"},
		{"268435456\n", "268435456 (256.0 MiB)"},
		{"1000\n", "1000 (0.0 MiB)"},
		{"9223372036854771712\n", "unlimited"},
		{"junk", `unknown: "junk"`},
	} {
		if got := memoryLimit(tc.in); got != tc.want {
			t.Errorf("memoryLimit(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// fakeProc lays out a /proc with PID 1, self and a few children of PID 1.
func fakeProc(t *testing.T, pid1Status string, children map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("1/comm", "sh\n")
	write("1/status", pid1Status)
	write("1/stat", "1 (sh) S 0 1 1 0")
	write("self/status", "Name:\tnonroot-init\nNoNewPrivs:\t1\nSeccomp:\t2\n")
	write("self/cgroup", "0::/\n")
	for pid, stat := range children {
		write(pid+"/stat", stat)
	}
	return dir
}

func problems(s Section) string {
	var out []string
	for _, p := range s.Problems {
		out = append(out, p.What)
	}
	return strings.Join(out, "\n")
}

func facts(s Section) map[string]string {
	m := map[string]string{}
	for _, f := range s.Facts {
		m[f.Name] = f.Value
	}
	return m
}

func TestProcessSection(t *testing.T) {
	const (
		catchesTerm = "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000014000\n"
		defaultTerm = "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n"
		ignoresTerm = "SigBlk:\t0000000000000000\nSigIgn:\t0000000000004000\nSigCgt:\t0000000000000000\n"
	)
	zombie := map[string]string{"42": "42 (worker) Z 1 42 42 0"}
	for _, tc := range []struct {
		name      string
		status    string
		children  map[string]string
		wantTerm  string
		wantProbs []string
	}{
		{"init handles TERM and CHLD", catchesTerm, zombie, "caught", nil},
		{"shell at default", defaultTerm, nil, "default", []string{"does not handle SIGTERM (default)"}},
		{"ignored TERM and zombies", ignoresTerm, zombie, "ignored", []string{"does not handle SIGTERM (ignored)", "1 zombie children"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proc := fakeProc(t, tc.status, tc.children)
			cg := t.TempDir()
			if err := os.WriteFile(filepath.Join(cg, "cgroup.controllers"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(cg, "memory.max"), []byte("536870912\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			h := host.Host{ProcDir: proc, PID: 7, RootDir: t.TempDir(), CgroupDir: cg}
			s := processTestSection(&config.Config{Subreaper: config.SubreaperAuto}, h)
			f := facts(s)
			for k, want := range map[string]string{
				"pid1": "sh", "pid1_sigterm": tc.wantTerm, "seccomp": "filter",
				"read_only_root": "false", "cgroup": "v2", "memory_limit": "536870912 (512.0 MiB)",
			} {
				if f[k] != want {
					t.Errorf("fact %s = %q; want %q (facts %v)", k, f[k], want, f)
				}
			}
			got := problems(s)
			if len(s.Problems) != len(tc.wantProbs) {
				t.Errorf("problems = %q; want %d containing %q", got, len(tc.wantProbs), tc.wantProbs)
			}
			for _, w := range tc.wantProbs {
				if !strings.Contains(got, w) {
					t.Errorf("problems = %q; want one containing %q", got, w)
				}
			}
			for _, p := range s.Problems {
				if p.Fix == "" {
					t.Errorf("problem %q has no fix", p.What)
				}
			}
		})
	}
}

func TestProcessSectionAsPID1(t *testing.T) {
	proc := fakeProc(t, "", nil)
	s := processTestSection(&config.Config{}, host.Host{ProcDir: proc, PID: 1, RootDir: t.TempDir(), CgroupDir: t.TempDir()})
	f := facts(s)
	if _, ok := f["pid1"]; ok || len(s.Notes) == 0 {
		t.Errorf("as PID 1: facts %v, notes %q; want no pid1 fact and a note", f, s.Notes)
	}
	if f["cgroup"] != "v1" || !strings.HasPrefix(f["memory_limit"], "unknown") {
		t.Errorf("no memory controller: cgroup %q, memory_limit %q; want v1 and unknown", f["cgroup"], f["memory_limit"])
	}
}

// processTestSection is processSection with this process's status and
// step 1's plan, as Run gathers them.
func processTestSection(cfg *config.Config, h host.Host) Section {
	st, err := procfs.ReadStatus(filepath.Join(h.ProcDir, "self", "status"), procfs.Credentials)
	s, _ := processSection(cfg, h, st, err, planSwitch(cfg, h, host.ReadCreds(), st, err))
	return s
}
