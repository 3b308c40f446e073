package procfs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Stat // nil: an error
	}{
		{"real", "25320 (cat) R 25316 25316 25138 0 -1 4194304 103 0 0 0 0 0 0 0 20 0 1 0 334375 3133440 388 18446744073709551615 93967431077888 0 17 0 0 0 0 0 0\n",
			&Stat{PID: 25320, Comm: "cat", State: 'R', PPID: 25316}},
		{"zombie", "42 (sh) Z 1 42 42 0 -1 4194560", &Stat{42, "sh", 'Z', 1}},
		{"pid 1 of the host", "1 (systemd) S 0 1 1 0 -1 4194560", &Stat{1, "systemd", 'S', 0}},
		{"spaces in name", "77 (my app worker) R 42 77 77 0", &Stat{77, "my app worker", 'R', 42}},
		{"colon and space", "7 (nginx: worker) S 6 6 6 0", &Stat{7, "nginx: worker", 'S', 6}},
		{"comm ends at the last paren", "1 (a) b) S 0 1 1", &Stat{1, "a) b", 'S', 0}},
		{"paren in name", "77 (a)b) S 42 77", &Stat{77, "a)b", 'S', 42}},
		{"fake fields in name", "77 (x) 1 2 (y) S 42 77 77", &Stat{77, "x) 1 2 (y", 'S', 42}},
		{"name imitates state and ppid", "9 (x) Z 1 (y) R 5 9 9 0", &Stat{9, "x) Z 1 (y", 'R', 5}},
		{"name is ) S 999 (", "77 () S 999 () S 42 77", &Stat{77, ") S 999 (", 'S', 42}},
		{"only paren name", "77 ()) S 42", &Stat{77, ")", 'S', 42}},
		{"parens and fields", "9 ()) Z 1) S 3 9", &Stat{9, ")) Z 1", 'S', 3}},
		{"empty name", "77 () S 42", &Stat{77, "", 'S', 42}},
		{"newline in name", "77 (a\nb) S 42 1", &Stat{77, "a\nb", 'S', 42}},
		{"exactly state and ppid", "77 (x) S 42", &Stat{77, "x", 'S', 42}},
		{"largest pid", "4194304 (x) S 2147483647", &Stat{4194304, "x", 'S', 2147483647}},
		{"empty", "", nil},
		{"no paren", "77 x S 42", nil},
		{"no closing paren", "77 (x S 42", nil},
		{"closing before opening", "77 ) x ( S 42", nil},
		{"no pid", "(x) S 42", nil},
		{"pid not a number", "x (x) S 42", nil},
		{"negative pid", "-7 (x) S 42", nil},
		{"truncated after name", "77 (x)", nil},
		{"truncated after state", "77 (x) S", nil},
		{"truncated after state and blank", "77 (x) S ", nil},
		{"state of two letters", "9 (x) ZZ 1", nil},
		{"non-numeric ppid", "77 (x) S abc 77", nil},
		{"negative ppid", "77 (x) S -1 77", nil},
		{"ppid overflows", "77 (x) S 99999999999999999999999 77", nil},
		{"ppid above 31 bits", "77 (x) S 2147483648 77", nil},
		{"fake ppid in name, real one missing", "77 (x) S 42 (y)", nil},
	}
	for _, tt := range tests {
		got, err := ParseStat(tt.in)
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s: ParseStat(%q) = %+v; want an error", tt.name, tt.in, got)
			}
			continue
		}
		if err != nil || got != *tt.want {
			t.Errorf("%s: ParseStat(%q) = %+v, %v; want %+v", tt.name, tt.in, got, err, *tt.want)
		}
	}
}

func TestProcesses(t *testing.T) {
	dir := t.TempDir()
	for name, stat := range map[string]string{
		"1":      "1 (init) S 0 1 1",
		"42":     "42 (a) b) Z 1 42 42",
		"43":     "garbage",
		"self":   "7 (x) S 1",
		"44abc":  "44 (x) S 1",
		"45":     "",
		"net/46": "46 (x) S 1",
	} {
		p := filepath.Join(dir, name, "stat")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A process that exited while we read: its directory, no stat.
	if err := os.Mkdir(filepath.Join(dir, "47"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Processes(dir)
	if err != nil || len(got) != 2 || got[0] != (Stat{1, "init", 'S', 0}) || got[1] != (Stat{42, "a) b", 'Z', 1}) {
		t.Errorf("Processes = %+v, %v; want init and the zombie", got, err)
	}
	if _, err := Processes(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("Processes(missing) = nil error")
	}
}

// A real process whose command name imitates the fields of stat is read
// with its real state and parent.
func TestProcessesHostileComm(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	sleep, err := filepath.EvalSymlinks("/bin/sleep")
	if err != nil {
		t.Skipf("no /bin/sleep: %v", err)
	}
	// The kernel names the process after the file it executes, cut to
	// 15 bytes: "x) Z 1 (y) R 5".
	name := filepath.Join(t.TempDir(), "x) Z 1 (y) R 5 9")
	if err := os.Symlink(sleep, name); err != nil {
		t.Fatal(err)
	}
	p, err := os.StartProcess(name, []string{"sleep", "100"}, &os.ProcAttr{Files: []*os.File{nil, nil, nil}})
	if err != nil {
		t.Skipf("cannot start %s: %v", name, err)
	}
	defer p.Wait()
	defer p.Kill()
	st, err := ReadStat("/proc/" + strconv.Itoa(p.Pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != p.Pid || st.PPID != os.Getpid() || !strings.HasPrefix(st.Comm, "x) Z 1 (y)") {
		t.Errorf("ReadStat(pid %d) = %+v; want pid %d, ppid %d, comm starting with \"x) Z 1 (y)\"", p.Pid, st, p.Pid, os.Getpid())
	}
}
