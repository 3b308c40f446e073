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
			&Stat{PID: 25320, Comm: "cat", State: 'R', PPID: 25316, StartTime: 334375, HasStartTime: true}},
		{"real, start time", "25320 (cat) R 25316 25320 25316 34817 25320 4194304 94 0 0 0 0 0 0 0 20 0 1 0 1234567 5799936 180 18446744073709551615",
			&Stat{PID: 25320, Comm: "cat", State: 'R', PPID: 25316, StartTime: 1234567, HasStartTime: true}},
		{"start time counted after the last paren", "7 (a) b) c 1 2 3) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0",
			&Stat{PID: 7, Comm: "a) b) c 1 2 3", State: 'S', PPID: 1, StartTime: 42, HasStartTime: true}},
		{"fake start time in name", "7 (1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 99) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0",
			&Stat{PID: 7, Comm: "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 99", State: 'S', PPID: 1, StartTime: 42, HasStartTime: true}},
		{"start time not a number", "42 (sh) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x 0", &Stat{PID: 42, Comm: "sh", State: 'S', PPID: 1}},
		{"ends just before start time", "42 (sh) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", &Stat{PID: 42, Comm: "sh", State: 'S', PPID: 1}},
		{"start time of 64 bits", "42 (sh) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 18446744073709551615", &Stat{PID: 42, Comm: "sh", State: 'S', PPID: 1, StartTime: 18446744073709551615, HasStartTime: true}},
		{"zombie", "42 (sh) Z 1 42 42 0 -1 4194560", &Stat{PID: 42, Comm: "sh", State: 'Z', PPID: 1}},
		{"pid 1 of the host", "1 (systemd) S 0 1 1 0 -1 4194560", &Stat{PID: 1, Comm: "systemd", State: 'S', PPID: 0}},
		{"spaces in name", "77 (my app worker) R 42 77 77 0", &Stat{PID: 77, Comm: "my app worker", State: 'R', PPID: 42}},
		{"colon and space", "7 (nginx: worker) S 6 6 6 0", &Stat{PID: 7, Comm: "nginx: worker", State: 'S', PPID: 6}},
		{"comm ends at the last paren", "1 (a) b) S 0 1 1", &Stat{PID: 1, Comm: "a) b", State: 'S', PPID: 0}},
		{"paren in name", "77 (a)b) S 42 77", &Stat{PID: 77, Comm: "a)b", State: 'S', PPID: 42}},
		{"fake fields in name", "77 (x) 1 2 (y) S 42 77 77", &Stat{PID: 77, Comm: "x) 1 2 (y", State: 'S', PPID: 42}},
		{"name imitates state and ppid", "9 (x) Z 1 (y) R 5 9 9 0", &Stat{PID: 9, Comm: "x) Z 1 (y", State: 'R', PPID: 5}},
		{"name is ) S 999 (", "77 () S 999 () S 42 77", &Stat{PID: 77, Comm: ") S 999 (", State: 'S', PPID: 42}},
		{"only paren name", "77 ()) S 42", &Stat{PID: 77, Comm: ")", State: 'S', PPID: 42}},
		{"parens and fields", "9 ()) Z 1) S 3 9", &Stat{PID: 9, Comm: ")) Z 1", State: 'S', PPID: 3}},
		{"empty name", "77 () S 42", &Stat{PID: 77, Comm: "", State: 'S', PPID: 42}},
		{"newline in name", "77 (a\nb) S 42 1", &Stat{PID: 77, Comm: "a\nb", State: 'S', PPID: 42}},
		{"exactly state and ppid", "77 (x) S 42", &Stat{PID: 77, Comm: "x", State: 'S', PPID: 42}},
		{"largest pid", "4194304 (x) S 2147483647", &Stat{PID: 4194304, Comm: "x", State: 'S', PPID: 2147483647}},
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
	if err != nil || len(got) != 2 || got[0] != (Stat{PID: 1, Comm: "init", State: 'S', PPID: 0}) || got[1] != (Stat{PID: 42, Comm: "a) b", State: 'Z', PPID: 1}) {
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
