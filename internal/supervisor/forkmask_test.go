package supervisor

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A child starts with no signal blocked even when the thread that forks
// it blocks some: Run's thread blocks the signals it forwards while it
// supervises (shieldMain) and forks RELOAD_CHECK from there. Before, the
// check inherited the mask (a hostile review saw a Python check's own
// alarm never fire, and its leftovers ignore SIGTERM).
func TestForkExecClearsThreadMask(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sigblk")
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var set, prev unix.Sigset_t
	set.Val[0] = 1<<(unix.SIGUSR1-1) | 1<<(unix.SIGTERM-1)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &prev); err != nil {
		t.Fatal(err)
	}
	defer unix.PthreadSigmask(unix.SIG_SETMASK, &prev, nil)
	// grep itself, not a shell: dash clears its mask at start.
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	grep, err := LookPath("grep", os.Getenv("PATH"))
	if err != nil {
		t.Skip("needs grep")
	}
	pid, err := forkExec(grep, []string{"grep", "SigBlk", "/proc/self/status"}, nil, []*os.File{nil, f, os.Stderr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); !strings.HasSuffix(got, "0000000000000000") {
		t.Errorf("child's %q; want nothing blocked", got)
	}
	// The forking thread keeps its own mask.
	var now unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, nil, &now); err != nil {
		t.Fatal(err)
	}
	if now.Val[0]&set.Val[0] != set.Val[0] {
		t.Errorf("the thread's mask is %#x after forkExec; want USR1 and TERM still blocked", now.Val[0])
	}
}
