// Command reapfloor is the smallest Go PID 1 that reaps: it fork-execs
// its child, waits for SIGCHLD through os/signal, reaps every zombie
// with wait4(WNOHANG) at each one, and exits with the child's status
// once the child has exited. It forwards nothing and holds nothing. Its
// CPU per orphan is the floor of the Go runtime's signal path that the
// live-reaping benchmark sets nonroot-init's against (make bench).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		os.Exit(2)
	}
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, syscall.SIGCHLD)
	pid, err := syscall.ForkExec(os.Args[1], os.Args[1:], &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		os.Exit(127)
	}
	for {
		for {
			var ws syscall.WaitStatus
			got, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || got <= 0 {
				break
			}
			if got == pid {
				if ws.Signaled() {
					os.Exit(128 + int(ws.Signal()))
				}
				os.Exit(ws.ExitStatus())
			}
		}
		<-chld
	}
}
