package test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// subreaperModes run the init directly (no PID namespace), so that the
// test can signal it: as root and as the arbitrary UID with GID 0.
var subreaperModes = []struct {
	name string
	opts harness.Opts
}{
	{"subreaper-root", harness.Opts{}},
	{"subreaper-uid1000680000", harness.Opts{UID: harness.OpenShiftUID, GID: 0}},
}

// waitLine reads lines from r until one equals want, failing the test
// when r ends first.
func waitLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if strings.TrimSuffix(line, "\n") == want {
			return
		}
		if err != nil {
			t.Fatalf("stdout ended (%v) before %q", err, want)
		}
	}
}

// TestTrust3SupervisorSocketStderrShutdown: the init's stderr is a socket
// whose write side COMMAND shuts down (poll then shows neither POLLERR
// nor POLLHUP). A log line of the init must not raise a SIGPIPE that is
// then forwarded to COMMAND.
func TestTrust3SupervisorSocketStderrShutdown(t *testing.T) {
	for _, m := range subreaperModes {
		t.Run(m.name, func(t *testing.T) {
			sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			mine := os.NewFile(uintptr(sp[0]), "stderr-reader")
			theirs := os.NewFile(uintptr(sp[1]), "stderr")
			defer mine.Close()
			go io.Copy(io.Discard, mine)

			cmd := harness.Command(t, m.opts, "--log-level=debug", "--rewrite-signals=USR1:USR2", harness.Child(t), "shutwr-stderr")
			cmd.Stderr = theirs
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			theirs.Close()
			defer harness.KillTree(cmd.Process.Pid)
			stdout := bufio.NewReader(out)
			waitLine(t, stdout, "ready")
			// The init logs the rewrite (debug) to the shut-down socket.
			if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
				t.Fatal(err)
			}
			waitLine(t, stdout, "got SIGUSR2")
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(stdout)
			r := harness.Wait(t, timeout, cmd)
			if r.Code != 7 {
				t.Fatalf("exit %d, COMMAND's output after SIGUSR2 %q; want 7 (COMMAND ended by the SIGTERM, not by a SIGPIPE of the init's logging)", r.Code, rest)
			}
		})
	}
}

// openPty returns the master and the slave of a new pseudo-terminal.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("open the pty slave: %v", err)
	}
	return m, s
}

// TestTrust3SupervisorStalledStderr: the init's log writes must never
// hold up supervision. Its stderr is a pipe nobody reads, a terminal
// whose output is stopped (TCOOFF), or a terminal with TOSTOP whose
// foreground group is COMMAND's (the init's writes raise SIGTTOU); in
// each the init must deliver COMMAND's status. A log line longer than
// any pipe or terminal buffer (the debug line with COMMAND's arguments)
// makes sure a blocking write would block.
func TestTrust3SupervisorStalledStderr(t *testing.T) {
	// One argument may have 128 KiB (MAX_ARG_STRLEN); four make a line
	// longer than a pipe's 64 KiB.
	big := strings.Repeat("x", 100000)
	for _, m := range subreaperModes {
		for _, kind := range []string{"pipe", "pty-tcooff", "pty-tostop"} {
			t.Run(m.name+"/"+kind, func(t *testing.T) {
				args := []string{"--log-level=debug", "sh", "-c", "exit 3", "sh", big, big, big, big}
				if kind == "pty-tostop" {
					args = []string{"--log-level=debug", "sh", "-c", "exit 3"}
				}
				cmd := harness.Command(t, m.opts, args...)
				var keep, stderr *os.File
				var output chan string
				switch kind {
				case "pipe":
					r, w, err := os.Pipe()
					if err != nil {
						t.Fatal(err)
					}
					keep, stderr = r, w // never read
				default:
					master, slave := openPty(t)
					keep, stderr = master, slave
					if kind == "pty-tcooff" {
						if err := unix.IoctlSetInt(int(slave.Fd()), unix.TCXONC, unix.TCOOFF); err != nil {
							t.Fatalf("tcflow(TCOOFF): %v", err)
						}
					} else {
						tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
						if err != nil {
							t.Fatal(err)
						}
						tio.Lflag |= unix.TOSTOP
						if err := unix.IoctlSetTermios(int(slave.Fd()), unix.TCSETS, tio); err != nil {
							t.Fatal(err)
						}
						// The init is a job of a shell with job control
						// that leads a session on the terminal (so the
						// init's group is not orphaned, and a write of
						// its raises SIGTTOU rather than EIO); the shell
						// gives the job the foreground, the init hands
						// it to COMMAND's group.
						cmd = exec.Command("sh", append([]string{"-c", `set -m; "$@"; echo "init-exit=$?"`, "sh"}, cmd.Args...)...)
						cmd.Env = harness.Command(t, m.opts).Env
						cmd.Stdin, cmd.Stdout = slave, slave
						cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
						output = make(chan string, 1)
						go func() {
							b, _ := io.ReadAll(master)
							output <- string(b)
						}()
					}
				}
				defer keep.Close()
				cmd.Stderr = stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				stderr.Close()
				r := harness.Wait(t, timeout, cmd)
				if output == nil {
					if r.Code != 3 {
						t.Fatalf("exit %d; want COMMAND's 3", r.Code)
					}
					return
				}
				// With TOSTOP the init's lines are still written (the
				// kernel allows a write that raises no SIGTTOU).
				out := <-output
				if !strings.Contains(out, "init-exit=3") || !strings.Contains(out, "started command") {
					t.Errorf("shell exit %d, terminal output %q; want init-exit=3 and the init's debug line \"started command\"", r.Code, out)
				}
			})
		}
	}
}

// TestTrust3SupervisorGroupPIDReuse: under `unshare --pid` without
// --mount-proc (a foreign /proc) the init, a subreaper, can only signal
// COMMAND's process group once COMMAND has exited. A process outside the
// tree that then got COMMAND's old pid and made itself a group leader
// (setsid) would be killed with that group; COMMAND's zombie is kept
// until the leftovers are handled, so its pid cannot be taken. The log
// does not claim a leftover it never listed "survived SIGKILL".
func TestTrust3SupervisorGroupPIDReuse(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "setsid", "setpriv")
	for _, m := range []struct{ name, prefix string }{
		{"root", ""},
		{"uid1000680000", fmt.Sprintf("setpriv --reuid %d --regid 0 --clear-groups -- ", harness.OpenShiftUID)},
	} {
		t.Run(m.name, func(t *testing.T) {
			dir := harness.SharedDir(t)
			// PID 1 of the new namespace: the init runs as its child, and
			// the victim is made with COMMAND's pid once COMMAND is gone
			// (ns_last_pid is per PID namespace).
			script := fmt.Sprintf(`cd %s
%s%s --grace-period=2s sh -c 'echo $$ > cpid; setsid sh -c "trap \"\" TERM; sleep 30" & sleep 0.3; exit 4' 2> init.err &
INIT=$!
while [ ! -s cpid ]; do sleep 0.05; done
C=$(cat cpid)
sleep 1
echo $((C-1)) > /proc/sys/kernel/ns_last_pid
setsid sleep 4 &
V=$!
wait $V; echo "victim-exit=$?"
wait $INIT; echo "init-exit=$?"
echo "command-pid=$C victim-pid=$V"
`, dir, m.prefix, harness.Init(t))
			cmd := exec.Command("unshare", "--pid", "--fork", "sh", "-c", script)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + harness.SharedDir(t)}
			r := harness.Wait(t, time.Minute, cmd)
			initErr, _ := os.ReadFile(dir + "/init.err")
			if !strings.Contains(r.Stdout, "victim-exit=0\n") || !strings.Contains(r.Stdout, "init-exit=4\n") {
				t.Fatalf("stdout %q; want victim-exit=0 (not killed with COMMAND's group) and init-exit=4\ninit's log: %s", r.Stdout, initErr)
			}
			if strings.Contains(string(initErr), "survived SIGKILL") || !strings.Contains(string(initErr), "cannot name") {
				t.Errorf("init's log %q; want it to say the leftovers cannot be named, not that they survived SIGKILL", initErr)
			}
		})
	}
}

// siginfo is the kernel's siginfo_t (128 bytes) as rt_sigqueueinfo(2)
// takes it: signo, errno, code, then (on 64-bit, after padding) the
// sender's pid and uid.
type siginfo struct {
	signo, errno, code int32
	_                  int32
	pid, uid           int32
	_                  [104]byte
}

// TestTrust3SupervisorQueuedFaultSignals: a signal the Go runtime takes
// for a fault of its own (SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV,
// SIGSTKFLT, SIGSYS) queued to the init with rt_sigqueueinfo (si_code
// SI_QUEUE) must not crash it: it is forwarded to COMMAND like a signal
// sent with kill, and the init exits with COMMAND's status.
func TestTrust3SupervisorQueuedFaultSignals(t *testing.T) {
	harness.NeedRoot(t) // rt_sigqueueinfo to the arbitrary UID's init needs CAP_KILL
	sigs := []int{4, 5, 7, 8, 11, 16, 31}
	args := []string{harness.Child(t), "sigwait"}
	for _, s := range sigs {
		args = append(args, unix.SignalName(syscall.Signal(s)))
	}
	all := append(append([]struct {
		name string
		opts harness.Opts
	}{}, subreaperModes...), modes...)
	for _, m := range all {
		t.Run(m.name, func(t *testing.T) {
			cmd := harness.Command(t, m.opts, args...)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer harness.KillTree(cmd.Process.Pid)
			stdout := bufio.NewReader(out)
			waitLine(t, stdout, "ready")
			initPID := cmd.Process.Pid
			if m.opts.PID1 {
				if initPID, err = harness.ChildPID(cmd.Process.Pid); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range sigs {
				info := siginfo{signo: int32(s), code: -1 /* SI_QUEUE */, pid: int32(os.Getpid())}
				if _, _, e := unix.Syscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(initPID), uintptr(s), uintptr(unsafe.Pointer(&info))); e != 0 {
					t.Fatalf("rt_sigqueueinfo(%d, %d): %v", initPID, s, e)
				}
				line, err := stdout.ReadString('\n') // COMMAND dies with the init
				if line != fmt.Sprintf("got %d\n", s) {
					harness.KillTree(cmd.Process.Pid)
					cmd.Wait()
					t.Fatalf("after queueing signal %d to the init, COMMAND printed %q (%v); want \"got %d\"\ninit's stderr: %s", s, line, err, s, stderr.String())
				}
			}
			if err := syscall.Kill(initPID, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, stdout)
			if r := harness.Wait(t, timeout, cmd); r.Code != 7 {
				t.Fatalf("exit %d; want COMMAND's 7\nstderr: %s", r.Code, stderr.String())
			}
		})
	}
}
