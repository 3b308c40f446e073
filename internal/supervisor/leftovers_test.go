package supervisor

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeSelf adds procDir/self/status with the NSpid line and
// procDir/self/task/TID for each tid.
func fakeSelf(t *testing.T, procDir, nspid string, tids ...string) {
	t.Helper()
	for _, tid := range tids {
		if err := os.MkdirAll(filepath.Join(procDir, "self", "task", tid), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(procDir, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(procDir, "self", "status"), []byte("Name:\tinit\nNSpid:\t"+nspid+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOwnProc(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nspid string // "" for no self/status at all
		pid   int
		want  bool
	}{
		{"own namespace", "100", 100, true},
		{"host's /proc seen from a PID namespace", "4242\t100", 100, false},
		{"another process's namespace", "100\t7", 100, false},
		{"same number by chance, other namespace", "100\t100", 100, false},
		{"other pid", "101", 100, false},
		{"no self", "", 100, false},
	} {
		dir := t.TempDir()
		if tc.nspid != "" {
			fakeSelf(t, dir, tc.nspid)
		}
		if got := ownProc(dir, tc.pid); got != tc.want {
			t.Errorf("%s: ownProc with NSpid %q for pid %d = %v; want %v", tc.name, tc.nspid, tc.pid, got, tc.want)
		}
	}
	if _, err := os.Stat("/proc/self/status"); err == nil {
		// The test runs with a /proc of its own PID namespace.
		if !ownProc("/proc", os.Getpid()) {
			t.Errorf("ownProc(/proc, %d) = false in the test's own namespace", os.Getpid())
		}
	}
}

// The leftovers never include the init itself or one of its threads,
// even when the process tree says a process with such a number is a
// descendant.
func TestLeftoverList(t *testing.T) {
	// 100 is the init (threads 100, 101, 102); 200 and 300 are below it;
	// a bogus entry claims that 101 is a child of 200.
	tree := map[int]int{1: 0, 100: 1, 200: 100, 300: 200, 101: 200, 50: 1}
	for _, tc := range []struct {
		name string
		pid1 bool
		want []int
	}{
		{"subreaper: descendants only", false, []int{200, 300}},
		{"PID 1: every other process", true, []int{1, 50, 200, 300}},
	} {
		dir := fakeProc(t, tree, nil)
		fakeSelf(t, dir, "100", "100", "101", "102")
		l := newLeftovers(100, dir, tc.pid1)
		got := l.list()
		if !sameSet(got, tc.want) {
			t.Errorf("%s: list() = %v; want %v", tc.name, got, tc.want)
		}
	}
	// A foreign /proc proves nothing: no list.
	dir := fakeProc(t, tree, nil)
	fakeSelf(t, dir, "4242\t100", "4242")
	if got := newLeftovers(100, dir, false).list(); got != nil {
		t.Errorf("list() through a foreign /proc = %v; want nil", got)
	}
}

func sameSet(a, b []int) bool {
	m := map[int]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}
