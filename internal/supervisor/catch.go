//go:build amd64 || arm64 || ppc64le || s390x

package supervisor

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sigCatch is the init's signal handler (catch_*.s): in the init's own
// process it writes the signal's number, one byte from sigBytes, to the
// catch pipe and returns; in a child between fork and exec (getpid is
// not catchPID; a vfork child shares our memory) it writes nothing. It
// touches no Go state but the three variables below, which are set
// before the first handler is installed and never change.
func sigCatch()

// sigCatchPC returns the address of sigCatch's machine code.
func sigCatchPC() uintptr

var (
	catchFD  int32    // write end of the catch pipe, non-blocking
	catchPID int32    // the init's pid
	sigBytes [65]byte // sigBytes[n] == n: what the handler writes for signal n
	// sigLost[n] is set to 1 by the handler when signal n's byte found
	// the pipe full (a flood the reader has not caught up with): the
	// reader takes it after its next read (takeLost), so that a SIGTERM
	// behind a flood is forwarded late, never lost. After the mark the
	// handler writes a wake byte (0): if it goes, a read comes after the
	// mark (and the pipe orders the two); if not, the pipe is still full
	// and a read is still to come.
	sigLost   [65]uint32
	catching  catcher   // the subscriptions; see catcher
	catchOnce sync.Once // makes the pipe and starts its reader, once
	catchErr  error     // why the pipe could not be made, if it could not
)

// catcher delivers caught signals to channels as os/signal does, but a
// signal that finds a channel full is handed to it again once it has
// room (os/signal drops it; see full), and without the Go
// runtime's signal path. Registering a signal with signal.Notify is a
// round trip with a thread of the runtime's, started by the first
// Notify: for the 60 signals the init forwards that was most of its
// start-up time, and that thread's creation racing with a fork left the
// child stuck under qemu user emulation. Here a signal costs one
// rt_sigaction when it is first caught, and its delivery is a write to a
// pipe that one goroutine reads.
//
// Signal dispositions belong to the process, not to a value: the
// catcher is the package's one piece of process-wide state, as
// os/signal's is.
type catcher struct {
	mu        sync.Mutex
	installed [65]bool
	subs      [65][]chan<- os.Signal
	// wake, while Run waits on the direct pipe (see direct), is its
	// write end: a signal handed to a channel then also writes a 0 there,
	// so that Run looks at its channels.
	wake int
	// full holds, for each channel, the signals (bit N-1 for signal N)
	// that found it full: retry hands them to it once it has room, so
	// that a SIGTERM behind a flood is late, never lost. One SIGCHLD
	// waiting stands for any number: it is not kept.
	full map[chan<- os.Signal]uint64
}

// catch delivers sigs to ch from now on, installing sigCatch for those
// that do not have it yet. Signals the Go runtime needs (SIGURG, SIGPROF,
// the fault signals, 32 to 34) and SIGKILL and SIGSTOP are refused.
func catch(ch chan<- os.Signal, sigs ...syscall.Signal) error {
	if err := StartCatching(); err != nil {
		return err
	}
	c := &catching
	c.mu.Lock()
	defer c.mu.Unlock()
	var install []syscall.Signal
	for _, sig := range sigs {
		if !catchable(sig) {
			return fmt.Errorf("signal %d (%s) is not one the init catches", int(sig), unix.SignalName(sig))
		}
		if c.installed[sig] {
			continue
		}
		install = append(install, sig)
		if sig == unix.SIGPIPE {
			// The runtime raises SIGPIPE itself after a write to fd 1 or
			// 2 fails with EPIPE, and kills the process unless os/signal
			// wants the signal or ignores it. Ignored, the runtime lets
			// the write fail; the handler installed next replaces SIG_IGN
			// in the kernel, so a SIGPIPE sent to the init is still
			// caught, and COMMAND starts with the default action (exec
			// resets a handled signal). NotifyAll does this before the
			// init starts any process, and rt_sigaction with a valid
			// signal and action cannot fail, so no child inherits the
			// SIG_IGN.
			signal.Ignore(unix.SIGPIPE)
		}
	}
	if err := setHandler(sigCatchPC(), install...); err != nil {
		return err
	}
	for _, sig := range sigs {
		c.installed[sig] = true
		c.subs[sig] = append(c.subs[sig], ch)
	}
	return nil
}

// subscribe delivers sig to ch, whose handler is installed by someone
// else (holdQueued, for the fault signals a process sends).
func subscribe(ch chan<- os.Signal, sig syscall.Signal) {
	c := &catching
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs[sig] = append(c.subs[sig], ch)
}

// uncatch stops delivering signals to ch. The handlers stay: a signal
// nobody subscribes to is dropped.
func uncatch(ch chan<- os.Signal) {
	c := &catching
	c.mu.Lock()
	defer c.mu.Unlock()
	for sig := range c.subs {
		subs := c.subs[sig][:0]
		for _, s := range c.subs[sig] {
			if s != ch {
				subs = append(subs, s)
			}
		}
		c.subs[sig] = subs
	}
	delete(c.full, ch)
}

// deliver sends sig to every channel that asked for it, without waiting.
func (c *catcher) deliver(sig syscall.Signal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.subs[sig] {
		select {
		case ch <- sig:
		default:
			if sig != unix.SIGCHLD && sig >= 1 && sig <= 64 {
				if c.full == nil {
					c.full = map[chan<- os.Signal]uint64{}
				}
				c.full[ch] |= 1 << (uint(sig) - 1)
			}
		}
	}
	if c.wake > 0 && len(c.subs[sig]) > 0 {
		_, _ = unix.Write(c.wake, []byte{0})
	}
}

// catchable reports whether sig may get sigCatch: not a signal the Go
// runtime needs or one that cannot be caught.
func catchable(sig syscall.Signal) bool {
	switch {
	case sig < 1 || sig > 64, sig == unix.SIGKILL, sig == unix.SIGSTOP, sig == unix.SIGURG, sig == unix.SIGPROF:
		return false
	case sig >= 32 && sig <= 34:
		return false
	}
	for _, f := range faultSignals {
		if uintptr(sig) == f {
			return false
		}
	}
	return true
}

// StartCatching makes the catch pipe and starts the goroutine that reads
// it, once per process; the first catch does it otherwise. A program
// that starts processes before NotifyAll (a test of RunHook) calls it
// first, so that the reader's thread is not being made as the first
// process forks: under qemu user emulation, a thread created while
// another forks can leave the child stuck inside qemu before its exec.
func StartCatching() error {
	catchOnce.Do(func() {
		r, w, err := signalPipe()
		if err != nil {
			catchErr = err
			return
		}
		for i := range sigBytes {
			sigBytes[i] = byte(i)
		}
		atomic.StoreInt32(&catchFD, int32(w))
		catchPID = int32(os.Getpid())
		go readCatches(os.NewFile(uintptr(r), "signal pipe"))
	})
	return catchErr
}

// signalPipe makes a pipe for the handler to write to: non-blocking (a
// handler never waits; a byte that finds it full is lost) and closed on
// exec.
func signalPipe() (r, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return 0, 0, &os.SyscallError{Syscall: "pipe2 (signal pipe)", Err: err}
	}
	return p[0], p[1], nil
}

// drainPipe reads the non-blocking pipe r until it is empty and calls
// each with every byte read.
func drainPipe(r int, each func(b byte)) {
	var buf [256]byte
	for {
		n, err := unix.Read(r, buf[:])
		if n <= 0 || err != nil {
			return
		}
		for _, b := range buf[:n] {
			each(b)
		}
	}
}

// takeLost calls each with every signal the handler marked lost since
// the last call, and clears its mark. The swap leaves a mark set after
// it for the next call.
func takeLost(each func(sig syscall.Signal)) {
	for n := 1; n < len(sigLost); n++ {
		if atomic.LoadUint32(&sigLost[n]) != 0 && atomic.SwapUint32(&sigLost[n], 0) != 0 {
			each(syscall.Signal(n))
		}
	}
}

// readCatches hands every signal written to the pipe to its channels.
func readCatches(r *os.File) {
	var buf [256]byte
	retrying := false
	for {
		n, err := r.Read(buf[:])
		for _, b := range buf[:n] {
			catching.deliver(syscall.Signal(b))
		}
		takeLost(catching.deliver)
		// A signal that found its channel full: look again in a moment,
		// whether or not another signal comes. The deadline is touched
		// only when that changes, not at every signal.
		if waiting := catching.retry(); waiting {
			_ = r.SetReadDeadline(time.Now().Add(retryFull))
			retrying = true
		} else if retrying {
			_ = r.SetReadDeadline(time.Time{})
			retrying = false
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			// Only a closed pipe ends a read, and nothing closes it.
			return
		}
	}
}

// retryFull is how soon readCatches hands a signal that found its
// channel full to it again.
const retryFull = 20 * time.Millisecond

// retry hands each channel the signals that found it full, lowest
// number first, as far as it has room, and reports whether some are
// still waiting.
func (c *catcher) retry() (waiting bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	handed := false
	for ch, bits := range c.full {
		for n := 1; n <= 64 && bits != 0; n++ {
			bit := uint64(1) << (n - 1)
			if bits&bit == 0 {
				continue
			}
			select {
			case ch <- syscall.Signal(n):
				bits &^= bit
				handed = true
			default:
				n = 65 // still full
			}
		}
		if bits == 0 {
			delete(c.full, ch)
		} else {
			c.full[ch] = bits
		}
	}
	if c.wake > 0 && handed {
		// As deliver does: Run, waiting on the direct pipe, looks at
		// its channels.
		_, _ = unix.Write(c.wake, []byte{0})
	}
	return len(c.full) > 0
}

// setHandler makes handler the action of each of sigs, with the flags,
// restorer and mask of the Go runtime's own action for SIGURG, which it
// installs on every architecture (SA_ONSTACK: a handler runs on the
// signal stack of each Go thread; SA_RESTART: system calls go on;
// SA_RESTORER on amd64), read once for all of them. sa_handler is the
// first word of the kernel's struct sigaction on each of them.
func setHandler(handler uintptr, sigs ...syscall.Signal) error {
	if len(sigs) == 0 {
		return nil
	}
	act, err := runtimeAction()
	if err != nil {
		return err
	}
	act[0] = uint64(handler)
	for _, sig := range sigs {
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
			return &os.SyscallError{Syscall: fmt.Sprintf("rt_sigaction(%d)", int(sig)), Err: e}
		}
	}
	return nil
}

// runtimeAction returns the Go runtime's action for SIGURG: handler,
// flags, restorer and mask (8 bytes).
func runtimeAction() ([4]uint64, error) {
	var act [4]uint64
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGURG), 0, uintptr(unsafe.Pointer(&act)), 8, 0, 0); e != 0 {
		return act, &os.SyscallError{Syscall: "rt_sigaction(SIGURG)", Err: e}
	}
	if act[1]&saOnstack == 0 {
		// Without the runtime's handler the flags are not known to be
		// right for the signal stack of every Go thread.
		return act, fmt.Errorf("the Go runtime's action for SIGURG has no SA_ONSTACK (flags %#x)", act[1])
	}
	return act, nil
}

// direct is a second pipe, made once per process like the catch pipe
// and never closed (a handler that loaded its descriptor just before a
// switch may still write to it), which the handler writes to instead of
// the catch pipe while Run waits for COMMAND without a reload (see
// waitDirect). Its reader is then the supervision loop itself, on the
// main thread, in poll(2): a SIGCHLD wakes it with no goroutine, channel
// or thread in between, where the catch pipe's path took a wake-up of
// the reader goroutine's thread, a channel send and a hand-over to the
// main thread for each orphan.
type direct struct {
	r, w int
	prev int32 // the catch pipe, put back by release
}

var (
	directOnce sync.Once
	directPipe direct      // w is 0 until the pipe is made
	directBusy atomic.Bool // one Run at a time waits on it
)

// acquireDirect switches the handler to the direct pipe, emptied first:
// a byte a handler wrote there after the previous Run's release (its
// descriptor loaded just before the switch back) was that Run's. It
// reports false when the pipe cannot be made or another Run has it; that
// Run waits on the channels, which get nothing while the first holds the
// pipe: Run is not made to run twice at once (wait4(-1) already is not).
func acquireDirect() (*direct, bool) {
	if StartCatching() != nil {
		return nil, false
	}
	directOnce.Do(func() {
		if r, w, err := signalPipe(); err == nil {
			directPipe.r, directPipe.w = r, w
		}
	})
	if directPipe.w == 0 || !directBusy.CompareAndSwap(false, true) {
		return nil, false
	}
	d := &directPipe
	drainPipe(d.r, func(byte) {})
	catching.mu.Lock()
	catching.wake = d.w
	catching.mu.Unlock()
	d.prev = atomic.SwapInt32(&catchFD, int32(d.w))
	return d, true
}

// release puts the catch pipe back and hands what is still in the
// direct pipe to the channels, so that no signal is lost in the switch,
// and one SIGCHLD more: a handler that loaded the direct pipe's
// descriptor just before the switch may write its byte after the drain,
// and the exit it stands for has happened already, so one more look by
// the reaper finds it.
func (d *direct) release() {
	atomic.StoreInt32(&catchFD, d.prev)
	catching.mu.Lock()
	catching.wake = 0
	catching.mu.Unlock()
	drainPipe(d.r, func(b byte) {
		if b != 0 {
			catching.deliver(syscall.Signal(b))
		}
	})
	takeLost(catching.deliver)
	catching.deliver(unix.SIGCHLD)
	directBusy.Store(false)
}
