package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

func TestParseStatPPID(t *testing.T) {
	for _, tc := range []struct {
		name string
		stat string
		want int // -1: an error
	}{
		{"real", "1234 (nginx) S 1 1234 1234 0 -1 4194560 123 0 0 0 1 2 0 0 20 0 1 0 100 1000 10\n", 1},
		{"pid 1 of the host", "1 (systemd) S 0 1 1 0 -1 4194560", 0},
		{"spaces in name", "77 (my app worker) R 42 77 77 0", 42},
		{"paren in name", "77 (a)b) S 42 77", 42},
		{"fake fields in name", "77 (x) 1 2 (y) S 42 77 77", 42},
		{"name is ) S 999 (", "77 () S 999 () S 42 77", 42},
		{"only paren name", "77 ()) S 42", 42},
		{"newline in name", "77 (a\nb) S 42 1", 42},
		{"exactly state and ppid", "77 (x) S 42", 42},
		{"empty", "", -1},
		{"no paren", "77 x S 42", -1},
		{"truncated after name", "77 (x)", -1},
		{"truncated after state", "77 (x) S", -1},
		{"truncated after state and blank", "77 (x) S ", -1},
		{"non-numeric ppid", "77 (x) S abc 77", -1},
		{"negative ppid", "77 (x) S -1 77", -1},
		{"ppid overflows", "77 (x) S 99999999999999999999999 77", -1},
		{"fake ppid in name, real one missing", "77 (x) S 42 (y)", -1},
	} {
		got, err := parseStatPPID(tc.stat)
		if tc.want < 0 {
			if err == nil {
				t.Errorf("%s: parseStatPPID(%q) = %d, want an error", tc.name, tc.stat, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: parseStatPPID(%q) = %d, %v; want %d", tc.name, tc.stat, got, err, tc.want)
		}
	}
}

// fakeProc builds procDir/PID/stat for each pid -> ppid, plus the extra
// entries given as raw stat contents.
func fakeProc(t *testing.T, tree map[int]int, raw map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, stat string) {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for pid, ppid := range tree {
		write(fmt.Sprint(pid), fmt.Sprintf("%d (proc %d) S %d %d %d 0 -1", pid, pid, ppid, pid, pid))
	}
	for name, stat := range raw {
		write(name, stat)
	}
	return dir
}

func TestDescendants(t *testing.T) {
	// 100 is the init; 1 and 0 are unrelated.
	chain := map[int]int{1: 0, 100: 1, 50: 1, 51: 50}
	prev := 100
	var deep []int
	for pid := 1000; pid < 1200; pid++ {
		chain[pid] = prev
		deep = append(deep, pid)
		prev = pid
	}
	for _, tc := range []struct {
		name string
		tree map[int]int
		raw  map[string]string
		root int
		want []int
	}{
		{"no children", map[int]int{1: 0, 100: 1, 200: 1}, nil, 100, nil},
		{"children and grandchildren", map[int]int{1: 0, 100: 1, 101: 100, 102: 100, 103: 101, 104: 103, 300: 1, 301: 300}, nil,
			100, []int{101, 102, 103, 104}},
		{"deep chain", chain, nil, 100, deep},
		{"non-numeric dirs and hostile names are skipped",
			map[int]int{1: 0, 100: 1, 101: 100},
			map[string]string{
				"self":        "100 (x) S 100 1",
				"net":         "",
				"102":         "102 (x) S 100 (y)) S 1 1",
				"103":         "garbage",
				"104":         "",
				"105abc":      "105 (x) S 100 1",
				"106":         "106 (evil ) S 100 () S 1 1",
				"thread-self": "100 (x) S 100",
			},
			100, []int{101}},
		{"root not in the tree", map[int]int{1: 0, 2: 1}, nil, 12345, nil},
	} {
		procDir := fakeProc(t, tc.tree, tc.raw)
		got := descendants(procDir, tc.root)
		sort.Ints(got)
		want := append([]int(nil), tc.want...)
		sort.Ints(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: descendants(%d) = %v, want %v", tc.name, tc.root, got, want)
		}
	}
}

func TestDescendantsVanished(t *testing.T) {
	// A pid directory without a stat file (the process exited while we
	// read) is skipped.
	procDir := fakeProc(t, map[int]int{100: 1, 101: 100}, nil)
	if err := os.Mkdir(filepath.Join(procDir, "102"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := descendants(procDir, 100); !reflect.DeepEqual(got, []int{101}) {
		t.Errorf("descendants(100) = %v, want [101]", got)
	}
	if got := descendants(filepath.Join(procDir, "missing"), 100); got != nil {
		t.Errorf("descendants of a missing procDir = %v, want nil", got)
	}
}

// descendants of our own pid in the real /proc includes a child we start.
func TestDescendantsRealProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	p, err := os.StartProcess("/bin/sh", []string{"sh", "-c", "exit 0"}, &os.ProcAttr{Files: []*os.File{nil, nil, nil}})
	if err != nil {
		t.Skipf("cannot start /bin/sh: %v", err)
	}
	defer p.Wait()
	defer p.Kill()
	got := descendants("/proc", os.Getpid())
	found := false
	for _, pid := range got {
		found = found || pid == p.Pid
	}
	if !found {
		t.Errorf("descendants(/proc, %d) = %v, want it to include child %d", os.Getpid(), got, p.Pid)
	}
}
