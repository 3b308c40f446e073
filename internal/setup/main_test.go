package setup

import (
	"os"
	"os/signal"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMain registers SIGCHLD with the Go runtime before any test starts
// a process, as the init does (main registers every signal first). The
// first signal.Notify of a process starts the runtime's signal threads;
// under qemu user emulation (make cross), a thread being created while
// another one forks can leave the child stuck inside qemu before its
// exec, and the test waiting for it until the timeout: CI saw a hook's
// start hang for 20 minutes that way, the first Notify being RunHook's.
func TestMain(m *testing.M) {
	signal.Notify(make(chan os.Signal, 1), unix.SIGCHLD)
	os.Exit(m.Run())
}
