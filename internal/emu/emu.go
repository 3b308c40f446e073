// Package emu tells whether this process is a foreign-architecture
// program run by qemu user emulation (qemu-ARCH-static, directly or
// through binfmt_misc), as the cross-architecture tests run it. Some
// kernel behaviour is then qemu's, not Linux's (see README,
// Architectures), and the tests that meet it say so instead of failing.
package emu

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// QEMU reports whether this process runs under qemu user emulation, and
// the path of qemu's executable. qemu answers /proc/self/exe with the
// emulated program, but not /proc/self/task/TID/exe, which the kernel
// answers with the executable it really runs: qemu-ARCH-static.
func QEMU() (string, bool) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/self/task/%d/exe", unix.Gettid()))
	if err != nil {
		return "", false
	}
	return exe, strings.HasPrefix(filepath.Base(exe), "qemu-")
}
