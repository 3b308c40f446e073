//go:build amd64 || arm64 || ppc64le || s390x

package supervisor

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/nonroot-init/nonroot-init/internal/emu"
	"golang.org/x/sys/unix"
)

// The init's own handler delivers what a process sends it: a standard
// signal, a real-time one, and SIGTSTP, whose default action (stop) it
// replaces; the handler installed is sigCatch, not the runtime's.
func TestCatchDelivers(t *testing.T) {
	ch := make(chan os.Signal, 4)
	sigs := []syscall.Signal{unix.SIGUSR2, unix.SIGTSTP, syscall.Signal(50)}
	if err := catch(ch, sigs...); err != nil {
		t.Fatal(err)
	}
	defer uncatch(ch)
	for _, sig := range sigs {
		var act [4]uint64
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&act)), 8, 0, 0); e != 0 {
			t.Fatal(e)
		}
		if uintptr(act[0]) != sigCatchPC() {
			t.Errorf("signal %d: handler %#x, not sigCatch's %#x", sig, act[0], sigCatchPC())
		}
		if err := unix.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-ch:
			if got != sig {
				t.Errorf("sent signal %d, got %v", sig, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("signal %d was not delivered", sig)
		}
	}
}

// A channel that stopped catching gets nothing more; one with no room
// misses the signal instead of blocking the reader.
func TestCatchUncatchAndFull(t *testing.T) {
	stopped, full, live := make(chan os.Signal, 1), make(chan os.Signal), make(chan os.Signal, 1)
	for _, ch := range []chan os.Signal{stopped, full, live} {
		if err := catch(ch, unix.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		defer uncatch(ch)
	}
	uncatch(stopped)
	if err := unix.Kill(os.Getpid(), unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-live:
	case <-time.After(10 * time.Second):
		t.Fatal("SIGUSR1 was not delivered")
	}
	select {
	case s := <-stopped:
		t.Errorf("a channel that stopped catching got %v", s)
	default:
	}
}

// The runtime's own signals and those that cannot be caught are refused.
func TestCatchRefusesRuntimeSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{unix.SIGKILL, unix.SIGSTOP, unix.SIGURG, unix.SIGPROF, unix.SIGSEGV, 32, 33, 34, 0, 65} {
		if err := catch(make(chan os.Signal, 1), sig); err == nil {
			t.Errorf("signal %d was accepted", sig)
		}
	}
}

// A write through os.Stdout to a pipe nobody reads fails with EPIPE and
// leaves the init alive once SIGPIPE is caught; the runtime killed the
// process for it when nobody had asked for SIGPIPE through os/signal.
// fd 1 is the test's own, so the write runs in a child test process.
func TestCatchSIGPIPEWriteToBrokenStdout(t *testing.T) {
	if os.Getenv("CATCH_TEST_BROKEN_STDOUT") == "1" {
		if err := catch(make(chan os.Signal, 16), unix.SIGPIPE); err != nil {
			t.Fatal(err)
		}
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		unix.Close(p[0])
		saved, err := unix.Dup(1)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Dup2(p[1], 1); err != nil {
			t.Fatal(err)
		}
		_, werr := os.Stdout.Write([]byte("x\n"))
		_ = unix.Dup2(saved, 1)
		if !errors.Is(werr, unix.EPIPE) {
			t.Fatalf("write to a broken stdout: %v; want EPIPE", werr)
		}
		return
	}
	if out, err := childTest("TestCatchSIGPIPEWriteToBrokenStdout", "CATCH_TEST_BROKEN_STDOUT=1"); err != nil {
		t.Fatalf("child test: %v (killed by SIGPIPE?)\n%s", err, out)
	}
}

// A signal the catch pipe's reader hands to the channel while Run waits
// on the direct pipe (one that came as the handler was switched) wakes
// the loop through the 0 the reader writes there, and is forwarded: the
// shell exits 7 on SIGUSR1, 9 when its wait runs out.
func TestDirectWakesForChannelSignal(t *testing.T) {
	other := make(chan os.Signal, 16)
	if err := catch(other, unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	defer uncatch(other)
	opts := Options{
		Path: "/bin/sh", Argv: []string{"sh", "-c", "trap 'exit 7' USR1; " + waitLoop},
		ProcDir: "/proc", GracePeriod: time.Second, Umask: -1,
		Log: slog.New(slog.DiscardHandler),
	}
	done := make(chan unix.WaitStatus, 1)
	go func() {
		ws, err := Run(opts, other)
		if err != nil {
			t.Error(err)
		}
		done <- ws
	}()
	for !directBusy.Load() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the loop is in poll, the shell has its trap
	catching.deliver(unix.SIGUSR1)     // as the reader does, not through the pipe
	select {
	case ws := <-done:
		if Status(ws) != 7 {
			t.Errorf("COMMAND exited %d; want 7 (SIGUSR1 forwarded)", Status(ws))
		}
	case <-time.After(wait):
		t.Fatal("Run did not return")
	}
}

// The pipe guard counts the signals still queued behind a SIGPIPE of
// the init's own (stderr a broken pipe): in waitDirect, SIGCHLDs and
// wake bytes read with it are not signals it will see, and counted, they
// made it take the next SIGPIPE sent from outside for a stale one of its
// own. The bytes go into the direct pipe as the handler would write them;
// fd 2 is the test's own, so this runs in a child test process.
func TestDirectGuardCountsOnlySignals(t *testing.T) {
	if out := os.Getenv("CATCH_TEST_GUARD_OUT"); out != "" {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		unix.Close(p[0])
		if err := unix.Dup2(p[1], 2); err != nil {
			t.Fatal(err)
		}
		other := make(chan os.Signal, 16)
		if err := catch(other, unix.SIGPIPE, unix.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		ready := out + ".ready"
		script := "trap 'echo PIPE >> " + out + "' PIPE; trap 'echo USR1 >> " + out + "; exit 0' USR1; touch " + ready + "; " + waitLoop
		opts := Options{Path: "/bin/sh", Argv: []string{"sh", "-c", script}, ProcDir: "/proc",
			GracePeriod: time.Second, Umask: -1, Log: slog.New(slog.DiscardHandler)}
		done := make(chan unix.WaitStatus, 1)
		go func() {
			ws, _ := Run(opts, other)
			done <- ws
		}()
		for _, err := os.Stat(ready); err != nil || !directBusy.Load(); _, err = os.Stat(ready) {
			time.Sleep(10 * time.Millisecond)
		}
		send := func(sigs ...syscall.Signal) {
			b := make([]byte, len(sigs))
			for i, s := range sigs {
				b[i] = byte(s)
			}
			if _, err := unix.Write(directPipe.w, b); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // the loop reads each batch on its own
		}
		send(unix.SIGPIPE, unix.SIGCHLD, 0, unix.SIGCHLD) // the init's own: fd 2 is broken
		send(unix.SIGPIPE)                                // sent from outside: forwarded
		send(unix.SIGUSR1)
		if ws := <-done; Status(ws) != 0 {
			t.Fatalf("COMMAND exited %d", Status(ws))
		}
		return
	}
	out := filepath.Join(t.TempDir(), "got")
	if b, err := childTest("TestDirectGuardCountsOnlySignals", "CATCH_TEST_GUARD_OUT="+out); err != nil {
		t.Fatalf("child test: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "PIPE\nUSR1\n" {
		t.Errorf("COMMAND got %q; want the SIGPIPE sent from outside, then SIGUSR1", got)
	}
}

// childTest runs the test name again in a child process of the test
// binary, with env added, and returns its output: for a test that must
// change the process's own fd 1 or 2. A foreign test binary runs only
// through qemu (binfmt_misc is not registered on CI).
func childTest(name, env string) ([]byte, error) {
	args := []string{os.Args[0], "-test.run=^" + name + "$", "-test.count=1"}
	if qemu, under := emu.QEMU(); under {
		args = append([]string{qemu}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env)
	return cmd.CombinedOutput()
}

// A signal whose byte finds the pipe full (a flood of signals the
// reader has not caught up with) is not lost: the handler marks it in
// sigLost, and the reader hands it on after its next read. The direct
// pipe, which nobody reads while no Run waits on it, is filled here as a
// flood would; the SIGUSR1 raised then must reach the channel when the
// pipe is handed back. Before, its byte was dropped and it never came.
func TestCatchFullPipeKeepsSignal(t *testing.T) {
	ch := make(chan os.Signal, 4)
	if err := catch(ch, unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	defer uncatch(ch)
	d, ok := acquireDirect()
	if !ok {
		t.Fatal("acquireDirect failed")
	}
	zeros := make([]byte, 4096)
	for {
		if _, err := unix.Write(d.w, zeros); err != nil {
			break // EAGAIN: full
		}
	}
	if err := unix.Kill(unix.Getpid(), unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the handler has run
	d.release()
	select {
	case s := <-ch:
		if s != unix.SIGUSR1 {
			t.Fatalf("got %v; want SIGUSR1", s)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("SIGUSR1, raised while the pipe was full, never reached the channel")
	}
}

// A signal that finds its channel full (a flood the loop has not caught
// up with, with NONROOT_RELOAD_SIGNAL or during setup) is handed to it
// again once the channel has room, instead of being dropped as
// os/signal drops it: a SIGTERM there must reach COMMAND. SIGCHLD is
// still dropped (one waiting stands for any number).
func TestCatchFullChannelRedelivers(t *testing.T) {
	ch := make(chan os.Signal, 1)
	if err := catch(ch, unix.SIGUSR1, unix.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	defer uncatch(ch)
	ch <- unix.SIGUSR2 // full
	if err := unix.Kill(unix.Getpid(), unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the reader found ch full
	if s := <-ch; s != unix.SIGUSR2 {
		t.Fatalf("first %v; want the SIGUSR2 put there", s)
	}
	select {
	case s := <-ch:
		if s != unix.SIGUSR1 {
			t.Fatalf("got %v; want SIGUSR1", s)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("SIGUSR1, which found the channel full, never came")
	}
}
