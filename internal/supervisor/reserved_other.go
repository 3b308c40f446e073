//go:build !(amd64 || arm64 || ppc64le || s390x)

package supervisor

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// holdReserved gives signals 32 and 34 their default action, so that
// COMMAND does not inherit an ignored one (see reserved.go; on this
// architecture there is no do-nothing handler, and these signals end a
// subreaper init).
func holdReserved() error { return resetReserved() }

// resetReserved gives signals 32 and 34 their default action. The Go
// runtime installs no handler for them (they are reserved for C
// libraries), so an SIG_IGN the init inherited (GNU make, for one, ignores
// 32 and 33 in its children) would pass on to COMMAND, whose dispositions
// must be the defaults. 33 needs nothing: the runtime handles it, and
// handled signals are reset in the child.
func resetReserved() error {
	var dfl [4]uint64 // SIG_DFL, no flags, empty mask, whatever the layout
	for _, sig := range []uintptr{32, 34} {
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0); e != 0 {
			return &os.SyscallError{Syscall: fmt.Sprintf("rt_sigaction(%d, SIG_DFL)", sig), Err: e}
		}
	}
	return nil
}
