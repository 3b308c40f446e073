package supervisor

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/nonroot-init/nonroot-init/internal/emu"
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
	got, err := sigIgn(string(out))
	if err != nil {
		t.Fatal(err)
	}
	// Natively nothing may stay ignored. Under qemu user emulation the
	// program's signal 32 is host signal 34 and so on: host signals 32 and
	// 33, which qemu leaves alone, stay as qemu found them (GNU make
	// ignores them in its children, so under make cross they arrive
	// ignored), out of the emulated program's reach. Only those may stay.
	var want uint64
	if qemu, under := emu.QEMU(); under {
		b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/status", unix.Gettid()))
		if err != nil {
			t.Fatal(err)
		}
		own, err := sigIgn(string(b))
		if err != nil {
			t.Fatal(err)
		}
		want = own & (1<<31 | 1<<32) // host signals 32 and 33
		t.Logf("under %s: host signals 32 and 33 ignored when qemu started: %#x; the emulated program cannot reset them, so its children may inherit them; everything else is checked", qemu, want)
	}
	if got != want {
		t.Errorf("child of a process that ran holdReserved: SigIgn %016x; want %016x (nothing ignored but what qemu cannot reach)", got, want)
	}
}

// sigIgn returns the SigIgn mask of a /proc/PID/status text.
func sigIgn(status string) (uint64, error) {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("no SigIgn line in %q", status)
}
