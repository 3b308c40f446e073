package main

import (
	"syscall"
	"unsafe"
)

// forkBlocked forks a child that closes wfd, waits for EOF on rfd and
// exits. It returns the child's pid in the parent, or -errno.
//
//go:norace
//go:nosplit
func forkBlocked(rfd, wfd int) int {
	var buf [1]byte
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return -int(errno)
	}
	if pid != 0 {
		return int(pid)
	}
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(wfd), 0, 0)
	syscall.RawSyscall(syscall.SYS_READ, uintptr(rfd), uintptr(unsafe.Pointer(&buf[0])), 1)
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	return 0
}

// forkExit forks a child that exits at once. It returns the child's pid
// in the parent, or -errno.
//
//go:norace
//go:nosplit
func forkExit() int {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return -int(errno)
	}
	if pid != 0 {
		return int(pid)
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	return 0
}
