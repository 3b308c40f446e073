package supervisor

import (
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// A listed descendant is signalled only while it is still the process
// that was listed: one whose pid now belongs to a process with another
// start time (the listed one died, the pid was reused) is left alone.
func TestTrust3SignalListedVerifies(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	l := leftovers{self: unix.Getpid(), procDir: "/proc", own: true}
	now, err := readProc("/proc", pid)
	if err != nil {
		t.Fatal(err)
	}
	stale := now
	stale.start++ // the process listed was another, started at another time
	l.signalListed([]proc{stale}, unix.SIGKILL)
	l.signalListed([]proc{now}, unix.SIGTERM)
	err = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != unix.SIGTERM {
		t.Errorf("sleep ended with %v; want it killed by the SIGTERM sent with its true start time, not by the SIGKILL sent with a stale one", err)
	}
}

// readProc takes the start time from procfs.ParseStat, and a stat line
// without one is an error.
func TestTrust3ReadProcStartTime(t *testing.T) {
	real := "25320 (cat) R 25316 25320 25316 34817 25320 4194304 94 0 0 0 0 0 0 0 20 0 1 0 1234567 5799936 180 18446744073709551615"
	for _, tc := range []struct {
		line string
		want uint64
		ok   bool
	}{
		{real, 1234567, true},
		{"7 (a) b) c 1 2 3) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0", 42, true}, // fields after the last ')'
		{"42 (sh) Z 1 42 42 0 -1 4194560", 0, false},                                 // too short
		{"42 (sh) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x 0", 0, false},            // not a number
		{"garbage", 0, false},
	} {
		dir := fakeProc(t, nil, map[string]string{"7": tc.line})
		got, err := readProc(dir, 7)
		if got.start != tc.want || (err == nil) != tc.ok {
			t.Errorf("readProc(%q) = %d, %v; want %d, ok %v", tc.line, got.start, err, tc.want, tc.ok)
		}
	}
}
