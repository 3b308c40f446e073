// Command testchild is the COMMAND the integration tests and benchmarks
// run under nonroot-init. It is built with the init by test/harness.
//
//	testchild signals EXIT_SIG  print "ready", then each signal's name; exit 0 after EXIT_SIG
//	testchild sigstate          print SigBlk, SigIgn and the working directory
//	testchild args              print the arguments as JSON
//	testchild env               print the environment as JSON
//	testchild cat               copy stdin to stdout
//	testchild orphans N         leave N orphans behind, which exit at once, and exit
//	testchild blocked PROG ARG  exec PROG with SIGUSR1, SIGTERM and 35 blocked, and
//	                            SIGUSR2, 32 and 34 ignored
//	testchild zombies N         make N children that exit at once, leave them unreaped, exit
//	testchild reapbench N       as COMMAND of a PID 1: hand N zombies to the init, print the
//	                            seconds until it has reaped them all and its CPU seconds
//	testchild liveorphans N     as COMMAND of a PID 1: make N orphans one by one, print the
//	                            seconds until the init has reaped them all and its CPU seconds
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testchild MODE [ARG...]")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "testchild:", err)
		os.Exit(1)
	}
}

func run(mode string, args []string) error {
	switch mode {
	case "signals":
		return signals(args)
	case "sigstate":
		return sigstate()
	case "args":
		return json.NewEncoder(os.Stdout).Encode(args)
	case "env":
		return json.NewEncoder(os.Stdout).Encode(os.Environ())
	case "cat":
		_, err := io.Copy(os.Stdout, os.Stdin)
		return err
	case "reapbench":
		return reapbench(args)
	case "liveorphans":
		return liveOrphans(args)
	case "blocked":
		return blocked(args)
	case "zombies", "orphans":
		if len(args) != 1 {
			return fmt.Errorf("%s N", mode)
		}
		n, err := strconv.Atoi(args[0])
		if err != nil {
			return err
		}
		if mode == "zombies" {
			return zombies(n)
		}
		return orphans(n)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

func signals(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("signals EXIT_SIG")
	}
	exitSig := unix.SignalNum("SIG" + strings.ToUpper(args[0]))
	if exitSig == 0 {
		return fmt.Errorf("unknown signal %q", args[0])
	}
	ch := make(chan os.Signal, 256)
	var all []os.Signal
	for s := syscall.Signal(1); s <= 64; s++ {
		// SIGURG is left out: the Go runtime sends it to itself.
		if s != unix.SIGKILL && s != unix.SIGSTOP && s != unix.SIGURG {
			all = append(all, s)
		}
	}
	signal.Notify(ch, all...)
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "ready")
	w.Flush()
	for s := range ch {
		sig := s.(syscall.Signal)
		name := unix.SignalName(sig)
		if name == "" {
			name = "SIG" + strconv.Itoa(int(sig))
		}
		fmt.Fprintln(w, name)
		w.Flush()
		if sig == exitSig {
			return nil
		}
	}
	return nil
}

// reapbench runs `testchild zombies N` as a child and waits for it: its N
// zombies then become orphans of PID 1 all at once. It prints two
// figures: the seconds from then until /proc shows only PID 1 and itself
// (until the init has reaped them all), and the CPU seconds PID 1 spent
// meanwhile (/proc/1/task/*/schedstat). Handing over zombies rather than
// running processes keeps the timing of 20,000 exits out of the figure.
func reapbench(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("reapbench N")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cpu0, err := initCPU()
	if err != nil {
		return err
	}
	mid, err := os.StartProcess(self, []string{self, "zombies", args[0]}, &os.ProcAttr{Files: []*os.File{nil, os.Stdout, os.Stderr}})
	if err != nil {
		return err
	}
	if _, err := mid.Wait(); err != nil {
		return err
	}
	start := time.Now()
	for {
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return err
		}
		n := 0
		for _, e := range entries {
			if c := e.Name()[0]; c >= '0' && c <= '9' {
				n++
			}
		}
		if n <= 2 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	wall := time.Since(start).Seconds()
	cpu1, err := initCPU()
	if err != nil {
		return err
	}
	fmt.Printf("%.6f %.6f\n", wall, float64(cpu1-cpu0)/1e9)
	return nil
}

// initCPU returns the nanoseconds PID 1 has spent on a CPU, all its
// threads included (/proc/1/schedstat covers only the main thread, so the
// tasks are summed).
func initCPU() (int64, error) {
	tasks, err := os.ReadDir("/proc/1/task")
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/1/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

// blocked execs args with signals blocked, as a careless parent might.
func blocked(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("blocked PROG [ARG...]")
	}
	runtime.LockOSThread()
	var set unix.Sigset_t
	for _, s := range []syscall.Signal{unix.SIGUSR1, unix.SIGTERM, 35} {
		set.Val[(s-1)/64] |= 1 << ((uint(s) - 1) % 64)
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, nil); err != nil {
		return err
	}
	ign := [4]uint64{1} // SIG_IGN
	for _, s := range []uintptr{uintptr(unix.SIGUSR2), 32, 34} {
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, s, uintptr(unsafe.Pointer(&ign)), 0, 8, 0, 0); e != 0 {
			return e
		}
	}
	return syscall.Exec(args[0], args, os.Environ())
}

func sigstate() error {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "SigBlk:") || strings.HasPrefix(line, "SigIgn:") {
			fmt.Println(strings.Join(strings.Fields(line), " "))
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	fmt.Println("cwd:", wd)
	return nil
}

// zombies forks n children that exit at once, waits until they have
// (a fixed pause: they only make one system call), and exits without
// reaping them, so the init inherits n zombies together.
func zombies(n int) error {
	for i := 0; i < n; i++ {
		if pid := forkExit(); pid < 0 {
			return fmt.Errorf("fork %d: errno %d", i, -pid)
		}
	}
	time.Sleep(500 * time.Millisecond)
	return nil
}

// orphans forks n children that block reading a pipe, then exits: the
// pipe's write end closes with it, every child reads EOF and exits, and
// all of them are orphans for the init to reap. The children are made by
// a raw fork and only make raw system calls, so nothing of the Go
// runtime runs in them.
func orphans(n int) error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if pid := forkBlocked(p[0], p[1]); pid < 0 {
			return fmt.Errorf("fork %d: errno %d", i, -pid)
		}
	}
	return nil
}
