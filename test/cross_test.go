package test

import (
	"bufio"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/nonroot-init/nonroot-init/test/harness"
	"golang.org/x/sys/unix"
)

// crossArches are the foreign architectures whose init is tested as PID 1
// under qemu user emulation (README, Architectures). The test binary and
// COMMAND stay native: only the init is emulated.
var crossArches = []string{"arm64", "ppc64le", "s390x"}

// crossTimeout bounds one run of an emulated init; not a speed assertion.
const crossTimeout = 2 * time.Minute

// crossModes are the supervision modes of the cross tests: PID 1 of a new
// PID namespace, as root and as OpenShift's arbitrary UID with GID 0.
func crossModes(arch string) []struct {
	name string
	opts harness.Opts
} {
	return []struct {
		name string
		opts harness.Opts
	}{
		{arch + "/pid1-root", harness.Opts{PID1: true, Arch: arch}},
		{arch + "/pid1-uid1000680000", harness.Opts{PID1: true, UID: harness.OpenShiftUID, GID: 0, Arch: arch}},
	}
}

// TestCrossInitIsForeign proves the cross tests run what they claim: the
// init started for each arch is an ELF binary of that arch's machine, and
// it runs under qemu.
func TestCrossInitIsForeign(t *testing.T) {
	machines := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390}
	for _, arch := range crossArches {
		t.Run(arch, func(t *testing.T) {
			harness.NeedTool(t, harness.QEMU(arch))
			bin := harness.CrossInit(t, arch)
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Machine != machines[arch] {
				t.Fatalf("%s is built for %v; want %v", bin, f.Machine, machines[arch])
			}
			r := harness.Run(t, crossTimeout, harness.Opts{Arch: arch}, "version")
			if r.Code != 0 || !strings.HasPrefix(r.Stdout, "nonroot-init ") {
				t.Fatalf("%s version under %s: exit %d, stdout %q, stderr %q", arch, harness.QEMU(arch), r.Code, r.Stdout, r.Stderr)
			}
		})
	}
}

// TestCrossExitStatus: COMMAND's exit status, and 128+N when a signal
// kills it, come out of the emulated PID 1.
func TestCrossExitStatus(t *testing.T) {
	cases := []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -KILL $$", 128 + 9},
		{"kill -SEGV $$", 128 + 11},
	}
	for _, arch := range crossArches {
		for _, m := range crossModes(arch) {
			for _, c := range cases {
				t.Run(m.name+"/"+c.script, func(t *testing.T) {
					r := harness.Run(t, crossTimeout, m.opts, "sh", "-c", c.script)
					if r.Code != c.want {
						t.Fatalf("sh -c %q: exit %d; want %d; stderr: %s", c.script, r.Code, c.want, r.Stderr)
					}
				})
			}
		}
	}
}

// TestCrossSignalsForwarded: TERM and other signals sent to the emulated
// PID 1 reach COMMAND; TERM to a COMMAND that does not handle it gives
// 143. Realtime signals 34 to 36 are left out: qemu 7.2 hands host signal
// N (34 to 64) to the program it runs as N-2, and 32 to 34 are the Go
// runtime's own, so the init keeps them, where natively it forwards 35
// (TestSignalsForwarded); 40 and 64 come out as sent
// (README, Architectures).
func TestCrossSignalsForwarded(t *testing.T) {
	sigs := []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.Signal(40), syscall.Signal(64)}
	for _, arch := range crossArches {
		for _, m := range crossModes(arch) {
			t.Run(m.name, func(t *testing.T) {
				t.Logf("under %s: realtime signals 34 to 36 not sent (qemu hands them to the init as 32 to 34, which the Go runtime keeps)", harness.QEMU(arch))
				p := harness.Start(t, m.opts, harness.Child(t), "signals", "PWR")
				p.Expect(t, crossTimeout, "ready")
				for _, s := range sigs {
					p.Signal(t, s)
					if got, want := p.ReadLine(t, crossTimeout), sigName(s); got != want {
						t.Fatalf("sent %s to the %s init; child got %q; want %q; stderr: %s", want, arch, got, want, p.Stderr())
					}
				}
				p.Signal(t, syscall.SIGPWR)
				if r := p.Wait(t, crossTimeout); r.Code != 0 {
					t.Fatalf("exit %d; want 0; stderr: %s", r.Code, r.Stderr)
				}
			})
			t.Run(m.name+"/term-kills", func(t *testing.T) {
				p := harness.Start(t, m.opts, "sh", "-c", "echo ready; exec sleep 100")
				p.Expect(t, crossTimeout, "ready")
				p.Signal(t, syscall.SIGTERM)
				if r := p.Wait(t, crossTimeout); r.Code != 128+15 {
					t.Fatalf("TERM to the %s init with sleep as COMMAND: exit %d; want 143; stderr: %s", arch, r.Code, r.Stderr)
				}
			})
		}
	}
}

// TestCrossReapsOrphans: the emulated PID 1 reaps the orphans COMMAND
// leaves (they are reparented to it), and no zombie is left.
func TestCrossReapsOrphans(t *testing.T) {
	for _, arch := range crossArches {
		for _, m := range crossModes(arch) {
			t.Run(m.name, func(t *testing.T) {
				script := harness.Child(t) + " orphans 500 && " + zombieCheck
				r := harness.Run(t, 2*crossTimeout, m.opts, "sh", "-c", script)
				if r.Code != 0 || !strings.Contains(r.Stdout, "zombies=0") {
					t.Fatalf("exit %d, stdout %q; want 0 and zombies=0; stderr: %s", r.Code, r.Stdout, r.Stderr)
				}
			})
		}
	}
}

// TestCrossLeftoversEnded: a process COMMAND leaves running when it exits
// is ended by the emulated PID 1 before it exits with COMMAND's status.
func TestCrossLeftoversEnded(t *testing.T) {
	for _, arch := range crossArches {
		t.Run(arch, func(t *testing.T) {
			r := harness.Run(t, crossTimeout, harness.Opts{PID1: true, Arch: arch}, "sh", "-c", "sleep 100 & exit 5")
			if r.Code != 5 {
				t.Fatalf("exit %d; want COMMAND's 5 with the leftover sleep ended; stderr: %s", r.Code, r.Stderr)
			}
		})
	}
}

// TestCrossQueuedFaultSignals queues SIGILL, SIGTRAP, SIGBUS, SIGFPE,
// SIGSEGV, SIGSTKFLT and SIGSYS (si_code SI_QUEUE, as rt_sigqueueinfo(2)
// sends them) to the emulated PID 1: the init forwards each
// to COMMAND (queued_*.s) instead of letting the Go runtime take it for a
// fault of its own and crash (before queued_ppc64le.s and queued_s390x.s,
// the ppc64le and s390x inits died here with exit 2).
func TestCrossQueuedFaultSignals(t *testing.T) {
	harness.NeedRoot(t) // rt_sigqueueinfo to another UID's process needs CAP_KILL
	sigs := []int{4, 5, 7, 8, 11, 16, 31}
	args := []string{harness.Child(t), "sigwait"}
	for _, s := range sigs {
		args = append(args, unix.SignalName(syscall.Signal(s)))
	}
	for _, arch := range crossArches {
		t.Run(arch, func(t *testing.T) {
			cmd := harness.Command(t, harness.Opts{PID1: true, Arch: arch}, args...)
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
			initPID, err := harness.ChildPID(cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sigs {
				info := siginfo{signo: int32(s), code: -1 /* SI_QUEUE */, pid: int32(os.Getpid())}
				if _, _, e := unix.Syscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(initPID), uintptr(s), uintptr(unsafe.Pointer(&info))); e != 0 {
					t.Fatalf("rt_sigqueueinfo(%d, %d): %v", initPID, s, e)
				}
				if line, err := stdout.ReadString('\n'); line != fmt.Sprintf("got %d\n", s) {
					harness.KillTree(cmd.Process.Pid)
					cmd.Wait()
					t.Fatalf("%s: after queueing signal %d to the init, COMMAND printed %q (%v); want \"got %d\"\ninit's stderr: %s", arch, s, line, err, s, stderr.String())
				}
			}
			if err := syscall.Kill(initPID, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, stdout)
			if r := harness.Wait(t, crossTimeout, cmd); r.Code != 7 {
				t.Fatalf("%s: exit %d; want COMMAND's 7\nstderr: %s", arch, r.Code, stderr.String())
			}
		})
	}
}

// TestCrossRunAsFailsClosed: qemu user emulation runs a thread of its own
// beside the program's, and a credential change of the emulated init
// reaches only the program's threads. Step 1 verifies every thread of
// /proc/self/task, finds qemu's still root, and refuses to start COMMAND
// (78): under qemu RUN_AS fails closed, it never runs COMMAND with a root
// thread left in the init. A change either way shows here.
func TestCrossRunAsFailsClosed(t *testing.T) {
	for _, arch := range crossArches {
		t.Run(arch, func(t *testing.T) {
			opts := harness.Opts{PID1: true, Arch: arch, Env: []string{"NONROOT_RUN_AS=1000680000:0"}}
			r := harness.Run(t, crossTimeout, opts, "sh", "-c", "echo COMMAND ran; exit 4")
			t.Logf("under %s, RUN_AS as root: exit %d", harness.QEMU(arch), r.Code)
			if r.Code != 78 || strings.Contains(r.Stdout, "COMMAND ran") || !strings.Contains(r.Stderr, "not dropped on every thread") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 78, COMMAND not started, and the thread qemu keeps named", r.Code, r.Stdout, r.Stderr)
			}
		})
	}
}
