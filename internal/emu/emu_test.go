package emu

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestQEMU: natively the task's executable is the test binary itself;
// under qemu it is qemu-ARCH-static. The test says which it found.
func TestQEMU(t *testing.T) {
	exe, under := QEMU()
	if Translated() != under {
		t.Errorf("Translated() = %v; QEMU() found %q, %v", Translated(), exe, under)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if under {
		t.Logf("%s test binary %s runs under %s", runtime.GOARCH, self, exe)
		if !strings.Contains(exe, "qemu-") {
			t.Errorf("QEMU() = %q, true; want a qemu- executable", exe)
		}
		return
	}
	t.Logf("%s test binary %s runs natively", runtime.GOARCH, self)
	if exe != self {
		t.Errorf("QEMU() = %q, false; want the test binary %q", exe, self)
	}
}
