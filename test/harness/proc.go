package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is an init started in the background, with its stdout readable
// line by line.
type Proc struct {
	Cmd    *exec.Cmd
	PID1   bool
	lines  chan string
	stderr *SyncBuffer
	done   chan struct{}
	err    error
}

// SyncBuffer is an output buffer safe to read while a process writes it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *SyncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *SyncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start starts the init under opts in the background. The process is
// killed at the end of the test if it is still running.
func Start(t testing.TB, opts Opts, args ...string) *Proc {
	t.Helper()
	return StartCmd(t, Command(t, opts, args...), opts.PID1)
}

// StartCmd is Start for a command built otherwise (a root prelude in
// namespaces of its own); pid1 says the init is the child of cmd
// (`unshare --fork`).
func StartCmd(t testing.TB, cmd *exec.Cmd, pid1 bool) *Proc {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{Cmd: cmd, PID1: pid1, lines: make(chan string, 4096), stderr: &SyncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out)
		close(p.lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			KillTree(cmd.Process.Pid)
			<-p.done
		}
	})
	return p
}

// Stderr returns what the init wrote on stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// ExpectStderr waits until stderr contains want, failing the test after
// timeout or when the init exits first.
func (p *Proc) ExpectStderr(t testing.TB, timeout time.Duration, want string) {
	t.Helper()
	for end := time.Now().Add(timeout); !strings.Contains(p.Stderr(), want); time.Sleep(time.Millisecond) {
		select {
		case <-p.done:
			t.Fatalf("the init exited (%v) before it logged %q; stderr: %s", p.err, want, p.Stderr())
		default:
		}
		if time.Now().After(end) {
			t.Fatalf("the init did not log %q within %v; stderr: %s", want, timeout, p.Stderr())
		}
	}
}

// ReadLine returns the next line of stdout, failing the test after timeout.
func (p *Proc) ReadLine(t testing.TB, timeout time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			t.Fatalf("stdout closed before the expected line; stderr: %s", p.Stderr())
		}
		return l
	case <-time.After(timeout):
		t.Fatalf("no line on stdout within %v; stderr: %s", timeout, p.Stderr())
	}
	return ""
}

// Expect reads lines until one equals want, failing after timeout.
func (p *Proc) Expect(t testing.TB, timeout time.Duration, want string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		l := p.ReadLine(t, time.Until(deadline))
		if l == want {
			return
		}
	}
}

// InitPID returns the init's pid as seen from the test: the process
// itself, or unshare's child when the init is PID 1 of a namespace.
func (p *Proc) InitPID(t testing.TB) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pid, err := p.initPID()
		if err == nil {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("find init pid: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *Proc) initPID() (int, error) {
	pid := p.Cmd.Process.Pid
	if !p.PID1 {
		return pid, nil
	}
	return ChildPID(pid)
}

// ChildPID returns the first child of pid, such as the PID 1 that
// `unshare --fork` started, as seen from the test's namespace.
func ChildPID(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, fmt.Errorf("process %d has no child yet", pid)
	}
	return strconv.Atoi(f[0])
}

// Signal sends sig to the init.
func (p *Proc) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(p.InitPID(t), sig); err != nil {
		t.Fatalf("kill %v: %v", sig, err)
	}
}

// Wait waits for the init to exit and returns its status, failing the
// test after timeout.
func (p *Proc) Wait(t testing.TB, timeout time.Duration) Result {
	t.Helper()
	var rest []string
	timer := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if ok {
				rest = append(rest, l)
				continue
			}
			<-p.done
			code := 0
			if ee, ok := p.err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if p.err != nil {
				t.Fatalf("wait: %v", p.err)
			}
			out := strings.Join(rest, "\n")
			if len(rest) > 0 {
				out += "\n"
			}
			return Result{Code: code, Stdout: out, Stderr: p.Stderr()}
		case <-timer:
			t.Fatalf("init did not exit within %v; stderr: %s", timeout, p.Stderr())
		}
	}
}

// State returns the state letter of pid from /proc/PID/stat (R, S, T, Z...).
func State(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+3 > len(s) {
		return "", fmt.Errorf("bad stat %q", s)
	}
	return s[i+2 : i+3], nil
}
