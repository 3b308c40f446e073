package supervisor

import (
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// holdReserved keeps 32 and 34 from ending this process, and a child it
// starts still has them at their default action, even when they were
// ignored before.
func TestHoldReserved(t *testing.T) {
	ign := [4]uint64{1} // SIG_IGN
	for _, sig := range []uintptr{32, 34} {
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&ign)), 0, 8, 0, 0); e != 0 {
			t.Fatalf("rt_sigaction(%d, SIG_IGN): %v", sig, e)
		}
	}
	if err := holdReserved(); err != nil {
		t.Fatalf("holdReserved: %v", err)
	}
	for _, sig := range []unix.Signal{32, 34, 32, 34} {
		// Were the action the default, this would end the test binary.
		if err := unix.Kill(unix.Getpid(), sig); err != nil {
			t.Fatalf("kill(self, %d): %v", sig, err)
		}
	}
	out, err := exec.Command("/bin/sh", "-c", "grep SigIgn /proc/self/status").Output()
	if err != nil {
		t.Skipf("cannot run /bin/sh: %v", err)
	}
	if got := strings.Join(strings.Fields(string(out)), " "); got != "SigIgn: 0000000000000000" {
		t.Errorf("child of a process that ran holdReserved: %q; want nothing ignored", got)
	}
}
