package supervisor

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// logQueue is how many log lines wait for the writer before new ones are
// dropped.
const logQueue = 256

// LogWriter writes the init's log to its stderr without ever holding up
// the supervision loop, and without ever raising a signal there:
//
//   - Write only hands a copy of the line to one writer goroutine through
//     a bounded queue; when the queue is full (stderr is a pipe nobody
//     reads, a terminal whose output is stopped) the line is dropped and
//     counted, and the writer says how many it dropped once it can write
//     again;
//   - the writer runs on a thread of its own with SIGPIPE and SIGTTOU
//     blocked. A write to a broken pipe then fails with EPIPE and raises
//     nothing (the kernel sends that SIGPIPE to the writing thread, where
//     it stays blocked), and a write to a terminal with TOSTOP whose
//     foreground group is not the init's is allowed (the kernel sends
//     SIGTTOU only when it is neither blocked nor ignored); with a
//     handler installed, that SIGTTOU would otherwise restart the write
//     for ever;
//   - on a socket it uses send(2) with MSG_NOSIGNAL, which raises no
//     SIGPIPE on any thread;
//   - EPIPE stops the logging for good: nobody reads it any more. A
//     broken pipe is then replaced by /dev/null as fd 2, as the pipe
//     guard does, so that a later SIGPIPE is known to come from outside.
//
// Flush waits, for a bounded time, until what was written is out.
type LogWriter struct {
	fd   int
	sock bool

	mu      sync.Mutex
	queue   chan logItem
	started bool // the writer goroutine runs: from the first line on
	closed  bool
	dropped atomic.Uint64
	notice  func(dropped uint64) []byte
	done    chan struct{}
}

// logItem is a line to write, or a flush marker to close once every line
// before it is out.
type logItem struct {
	line  []byte
	flush chan struct{}
}

// NewLogWriter makes the log writer for f, the init's stderr. notice, if
// not nil, formats the line that reports how many lines were dropped.
// The writer goroutine, and the thread it keeps, start with the first
// line: an init that logs nothing (NONROOT_LOG_LEVEL=error on a good
// start) spends neither a thread nor the hand-offs to it.
func NewLogWriter(f *os.File, notice func(dropped uint64) []byte) *LogWriter {
	fd := int(f.Fd())
	w := &LogWriter{
		fd:     fd,
		sock:   isSocket(fd),
		queue:  make(chan logItem, logQueue),
		notice: notice,
		done:   make(chan struct{}),
	}
	return w
}

// Write queues a copy of p. It never blocks and never fails: a line that
// finds the queue full is dropped and counted.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.dropped.Add(1)
		return len(p), nil
	}
	if !w.started {
		w.started = true
		go w.run()
	}
	select {
	case w.queue <- logItem{line: append([]byte(nil), p...)}:
	default:
		w.dropped.Add(1)
	}
	return len(p), nil
}

// Flush waits until every line written so far is out, or until timeout
// has passed, and reports whether they are out.
func (w *LogWriter) Flush(timeout time.Duration) bool {
	marker := make(chan struct{})
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false
	}
	if !w.started {
		// Nothing was ever written.
		w.mu.Unlock()
		return true
	}
	// The marker must not be dropped: wait for room, but not for ever.
	select {
	case w.queue <- logItem{flush: marker}:
	case <-timer.C:
		w.mu.Unlock()
		return false
	}
	w.mu.Unlock()
	select {
	case <-marker:
		return true
	case <-timer.C:
		return false
	}
}

// Close flushes for at most timeout and stops the writer; lines written
// afterwards are dropped.
func (w *LogWriter) Close(timeout time.Duration) bool {
	ok := w.Flush(timeout)
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
		if !w.started {
			close(w.done)
		}
	}
	w.mu.Unlock()
	return ok
}

// run is the writer goroutine. It keeps its thread for good, so the
// blocked signals stay with it.
func (w *LogWriter) run() {
	defer close(w.done)
	runtime.LockOSThread()
	blockThreadSignals(unix.SIGPIPE, unix.SIGTTOU)
	dead, swapped := false, false
	for item := range w.queue {
		if !dead {
			// Lines dropped before this one (or before a flush: the last
			// ones) are reported first.
			if n := w.dropped.Swap(0); n > 0 && w.notice != nil {
				dead = errors.Is(w.write(w.notice(n)), unix.EPIPE)
			}
		}
		if item.flush != nil {
			close(item.flush)
			continue
		}
		if !dead {
			dead = errors.Is(w.write(item.line), unix.EPIPE)
		}
		if dead && !w.sock && !swapped {
			// As the pipe guard does: with fd 2 no longer a broken pipe,
			// a SIGPIPE sent to the init is forwarded.
			_ = replaceWithNull(w.fd)
			swapped = true
		}
	}
}

// write writes all of p to stderr, or returns the error that stopped it.
func (w *LogWriter) write(p []byte) error {
	for len(p) > 0 {
		var n int
		var err error
		if w.sock {
			n, err = unix.SendmsgN(w.fd, p, nil, nil, unix.MSG_NOSIGNAL)
		} else {
			n, err = unix.Write(w.fd, p)
		}
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			// stderr was left non-blocking by whoever shares it.
			fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLOUT}}
			_, _ = unix.Poll(fds, -1)
			continue
		case err != nil:
			return err
		}
		p = p[n:]
	}
	return nil
}

// blockThreadSignals adds sigs to the signal mask of the calling thread
// only (rt_sigprocmask acts on the thread); the caller must be locked to
// it. The mask is a 64-bit set on every Linux architecture Go supports.
func blockThreadSignals(sigs ...unix.Signal) {
	var set uint64
	for _, s := range sigs {
		set |= 1 << (uint(s) - 1)
	}
	_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_BLOCK, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
}

// isSocket reports whether fd is a socket.
func isSocket(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}
