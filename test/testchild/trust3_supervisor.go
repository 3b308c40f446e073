package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// Modes of the third supervisor trust tests, dispatched before main so
// that main.go stays as it is:
//
//	testchild shutwr-stderr  shut down the write side of stderr (a socket), print
//	                         "ready", then print "got SIGUSR2" for each SIGUSR2; exit
//	                         13 on SIGPIPE, 7 on SIGTERM
//	testchild sigwait SIG... print "ready", then each listed signal's number as it
//	                         arrives; exit 7 on SIGTERM; die with its parent
func init() {
	if len(os.Args) < 2 {
		return
	}
	var err error
	switch os.Args[1] {
	case "shutwr-stderr":
		err = shutwrStderr()
	case "sigwait":
		err = sigwait(os.Args[2:])
	default:
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testchild:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func shutwrStderr() error {
	if err := unix.Shutdown(2, unix.SHUT_WR); err != nil {
		return fmt.Errorf("shutdown(2, SHUT_WR): %w", err)
	}
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, syscall.SIGUSR2, syscall.SIGPIPE, syscall.SIGTERM)
	fmt.Println("ready")
	for s := range ch {
		switch s {
		case syscall.SIGPIPE:
			fmt.Println("got SIGPIPE")
			os.Exit(13)
		case syscall.SIGTERM:
			os.Exit(7)
		default:
			fmt.Println("got", unix.SignalName(s.(syscall.Signal)))
		}
	}
	return nil
}

func sigwait(names []string) error {
	// Dies with the init, so that a crashed init does not leave it behind.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_PDEATHSIG): %w", err)
	}
	ch := make(chan os.Signal, 16)
	for _, n := range names {
		s := unix.SignalNum(n)
		if s == 0 {
			return fmt.Errorf("unknown signal %q", n)
		}
		signal.Notify(ch, s)
	}
	signal.Notify(ch, syscall.SIGTERM)
	fmt.Println("ready")
	for s := range ch {
		if s == syscall.SIGTERM {
			os.Exit(7)
		}
		fmt.Println("got", int(s.(syscall.Signal)))
	}
	return nil
}
