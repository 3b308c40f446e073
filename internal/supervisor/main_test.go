package supervisor

import (
	"fmt"
	"os"
	"testing"
)

// TestMain makes the init's signal pipe before any test starts a
// process, as main does (NotifyAll comes first). Under qemu user
// emulation (make cross) a thread being created while another one forks
// can leave the child stuck inside qemu before its exec, and the test
// waiting for it until the timeout: CI saw a hook's start hang for 20
// minutes that way, right after the first signal registration of the
// test binary had started the Go runtime's signal threads.
func TestMain(m *testing.M) {
	if err := StartCatching(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
