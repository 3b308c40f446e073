//go:build amd64 || arm64 || ppc64le || s390x

package supervisor

import (
	"os"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// With holdQueued's handler in front of the runtime's, a SIGSEGV queued
// by a process (SI_QUEUE) is caught like any other signal, while a real
// fault is still the runtime's: a nil dereference panics as ever.
func TestTrust3HoldQueued(t *testing.T) {
	if err := StartCatching(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan os.Signal, 1)
	defer uncatch(ch)
	if err := holdQueued(ch); err != nil {
		t.Fatal(err)
	}
	var info [32]int32                         // siginfo_t, 128 bytes
	info[0], info[2] = int32(unix.SIGSEGV), -1 // signo, code SI_QUEUE
	if _, _, e := unix.Syscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(unix.Getpid()), uintptr(unix.SIGSEGV), uintptr(unsafe.Pointer(&info))); e != 0 {
		t.Fatalf("rt_sigqueueinfo: %v", e)
	}
	if s := <-ch; s != syscall.SIGSEGV {
		t.Errorf("got %v; want SIGSEGV", s)
	}
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("a nil dereference did not panic")
			}
		}()
		var p *int
		_ = *p
	}()
}
