//go:build amd64 || arm64 || ppc64le || s390x

package supervisor

import (
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The init's own handler delivers what a process sends it: a standard
// signal, a real-time one, and SIGTSTP, whose default action (stop) it
// replaces; the handler installed is sigCatch, not the runtime's.
func TestCatchDelivers(t *testing.T) {
	ch := make(chan os.Signal, 4)
	sigs := []syscall.Signal{unix.SIGUSR2, unix.SIGTSTP, syscall.Signal(50)}
	if err := catch(ch, sigs...); err != nil {
		t.Fatal(err)
	}
	defer uncatch(ch)
	for _, sig := range sigs {
		var act [4]uint64
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&act)), 8, 0, 0); e != 0 {
			t.Fatal(e)
		}
		if uintptr(act[0]) != sigCatchPC() {
			t.Errorf("signal %d: handler %#x, not sigCatch's %#x", sig, act[0], sigCatchPC())
		}
		if err := unix.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-ch:
			if got != sig {
				t.Errorf("sent signal %d, got %v", sig, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("signal %d was not delivered", sig)
		}
	}
}

// A channel that stopped catching gets nothing more; one with no room
// misses the signal instead of blocking the reader.
func TestCatchUncatchAndFull(t *testing.T) {
	stopped, full, live := make(chan os.Signal, 1), make(chan os.Signal), make(chan os.Signal, 1)
	for _, ch := range []chan os.Signal{stopped, full, live} {
		if err := catch(ch, unix.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		defer uncatch(ch)
	}
	uncatch(stopped)
	if err := unix.Kill(os.Getpid(), unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-live:
	case <-time.After(10 * time.Second):
		t.Fatal("SIGUSR1 was not delivered")
	}
	select {
	case s := <-stopped:
		t.Errorf("a channel that stopped catching got %v", s)
	default:
	}
}

// The runtime's own signals and those that cannot be caught are refused.
func TestCatchRefusesRuntimeSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{unix.SIGKILL, unix.SIGSTOP, unix.SIGURG, unix.SIGPROF, unix.SIGSEGV, 32, 33, 34, 0, 65} {
		if err := catch(make(chan os.Signal, 1), sig); err == nil {
			t.Errorf("signal %d was accepted", sig)
		}
	}
}
