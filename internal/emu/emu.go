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

// Translated reports whether this process's instructions are run by a
// translator, qemu user emulation under any name (binfmt_misc may start
// it as /usr/libexec/qemu-binfmt/aarch64-binfmt-P): such a translator
// answers /proc/self/exe with the emulated program, while the kernel
// answers /proc/self/task/TID/exe with what it really runs. The two
// differ only then.
func Translated() bool {
	self, err1 := os.Readlink("/proc/self/exe")
	task, err2 := os.Readlink(fmt.Sprintf("/proc/self/task/%d/exe", unix.Gettid()))
	return err1 == nil && err2 == nil && self != task
}
