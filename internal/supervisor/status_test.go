package supervisor

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		ws   unix.WaitStatus
		want int
	}{
		{"exit 0", 0, 0},
		{"exit 3", 3 << 8, 3},
		{"exit 255", 255 << 8, 255},
		{"SIGTERM", unix.WaitStatus(unix.SIGTERM), 143},
		{"SIGKILL", unix.WaitStatus(unix.SIGKILL), 137},
		{"SIGINT", unix.WaitStatus(unix.SIGINT), 130},
		{"SIGSEGV with core", unix.WaitStatus(unix.SIGSEGV) | 0x80, 139},
		{"SIGRTMAX", 64, 192},
	} {
		if got := Status(tc.ws); got != tc.want {
			t.Errorf("%s: Status(%#x) = %d, want %d", tc.name, uint32(tc.ws), got, tc.want)
		}
	}
}

func TestBlockedAtStart(t *testing.T) {
	// The mask is the thread's: the test keeps to one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &unix.Sigset_t{}, &old); err != nil {
		t.Fatal(err)
	}
	defer unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	if got, err := BlockedAtStart(); got || err != nil {
		t.Errorf("nothing blocked: BlockedAtStart = %v, %v; want false", got, err)
	}
	var usr2 unix.Sigset_t
	usr2.Val[0] = 1 << (uint(unix.SIGUSR2) - 1)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &usr2, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := BlockedAtStart(); !got || err != nil {
		t.Errorf("SIGUSR2 blocked: BlockedAtStart = %v, %v; want true", got, err)
	}
}
