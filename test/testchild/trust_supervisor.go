package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// Modes of the supervisor trust tests, dispatched before main so that
// main.go stays as it is:
//
//	testchild rootsleep PIDFILE  as a setuid-root copy: become root for good
//	                             (real and saved UID too, so that the UID that
//	                             started it can no longer signal it), write the
//	                             pid to PIDFILE and sleep two minutes
func init() {
	if len(os.Args) < 3 || os.Args[1] != "rootsleep" {
		return
	}
	if err := rootsleep(os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "testchild:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func rootsleep(pidFile string) error {
	if err := syscall.Setresuid(0, 0, 0); err != nil {
		return fmt.Errorf("setresuid(0, 0, 0) (is this copy setuid root?): %w", err)
	}
	tmp := pidFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, pidFile); err != nil {
		return err
	}
	time.Sleep(2 * time.Minute)
	return nil
}
