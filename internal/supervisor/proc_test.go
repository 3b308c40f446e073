package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

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
