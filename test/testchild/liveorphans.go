package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// forkOrphan forks a child that forks a grandchild and exits at once; the
// grandchild exits at once too, and so is an orphan for the init to reap.
// It returns the child's pid in the parent, or -errno.
//
//go:norace
//go:nosplit
func forkOrphan() int {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return -int(errno)
	}
	if pid != 0 {
		return int(pid)
	}
	syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	return 0
}

// liveOrphans, as COMMAND of a PID 1, makes N orphans one by one (each
// child reaped by us before the next is made, its grandchild left to the
// init) and prints the seconds until the init has reaped them all and the
// init's CPU seconds over that time, from utime+stime of /proc/1/stat.
func liveOrphans(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("liveorphans N")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	cpu0, err := initStatCPU()
	if err != nil {
		return err
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		pid := forkOrphan()
		if pid < 0 {
			return fmt.Errorf("fork %d: errno %d", i, -pid)
		}
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if err != unix.EINTR {
				break
			}
		}
	}
	for {
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return err
		}
		left := 0
		for _, e := range entries {
			if c := e.Name()[0]; c >= '0' && c <= '9' {
				left++
			}
		}
		if left <= 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	wall := time.Since(start).Seconds()
	cpu1, err := initStatCPU()
	if err != nil {
		return err
	}
	fmt.Printf("%.6f %.6f\n", wall, cpu1-cpu0)
	return nil
}

// initStatCPU returns PID 1's utime+stime in seconds (all its threads),
// from /proc/1/stat.
func initStatCPU() (float64, error) {
	b, err := os.ReadFile("/proc/1/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	// The fields after the command name in parentheses, which may hold
	// spaces: utime and stime are fields 14 and 15 of the whole line.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/1/stat: %q", s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/1/stat: %q", s)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/1/stat: %q", s)
	}
	const userHZ = 100 // sysconf(_SC_CLK_TCK) on Linux
	return (utime + stime) / userHZ, nil
}
