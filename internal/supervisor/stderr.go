package supervisor

import (
	"log/slog"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// pipeGuard tells apart the SIGPIPEs the init raises itself, by writing
// its log to a stderr whose reader is gone, from those sent to it. A
// write to a broken pipe raises SIGPIPE in the writer; caught, it
// arrives on the channel like any other and would be forwarded to
// COMMAND, killing it for the init's own logging. (The one more the Go
// runtime raises itself for a write to fd 1 or 2 through an os.File is
// not delivered: catch has the runtime ignore SIGPIPE, so that write
// fails with EPIPE instead of killing the init.)
//
// A SIGPIPE received while the init's stderr is a broken pipe is taken
// for the init's own: it is not forwarded, and the init stops logging
// (fd 2 becomes /dev/null, so no writer of the init raises it again).
// Signals queued at that moment were queued before the swap: their
// SIGPIPEs are the init's own too (one per line written during setup).
// After that, stderr is no longer broken and a SIGPIPE is forwarded.
//
// The init's log itself raises no SIGPIPE any more (LogWriter writes on
// a thread that blocks it, and with MSG_NOSIGNAL on a socket); the guard
// stays for any other write of the init to a broken stderr pipe. When
// stderr is a socket, every SIGPIPE is taken as sent from outside.
type pipeGuard struct {
	stderr int // the init's stderr, 2
	stale  int // signals still to be received that were queued when stderr was swapped
}

// own reports whether sig, just received from the signal channel, is a
// SIGPIPE of the init's own making; queued is how many signals are still
// waiting in that channel. When it first finds stderr broken it stops
// the logging: *log is replaced by a logger that discards.
func (g *pipeGuard) own(sig syscall.Signal, queued int, log **slog.Logger) bool {
	stale := g.stale > 0
	if stale {
		g.stale--
	}
	if sig != unix.SIGPIPE {
		return false
	}
	if stale {
		return true
	}
	if !brokenPipe(g.stderr) || isSocket(g.stderr) {
		return false
	}
	*log = slog.New(slog.DiscardHandler)
	_ = replaceWithNull(g.stderr)
	g.stale = queued
	return true
}

// brokenPipe reports whether fd is a pipe or socket whose reading end is
// gone: a write to it would fail with EPIPE. poll reports POLLERR for
// such a pipe and POLLHUP for such a socket (a hung-up terminal has
// POLLHUP too, but its writes fail with EIO and raise nothing).
func brokenPipe(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd)}}
	if n, err := unix.Poll(fds, 0); err != nil || n != 1 {
		return false
	}
	if fds[0].Revents&unix.POLLERR != 0 {
		return true
	}
	var st unix.Stat_t
	return fds[0].Revents&unix.POLLHUP != 0 && unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}

// replaceWithNull makes fd refer to /dev/null, opened for writing.
func replaceWithNull(fd int) error {
	null, err := unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/dev/null", Err: err}
	}
	defer unix.Close(null)
	if err := unix.Dup3(null, fd, 0); err != nil {
		return &os.SyscallError{Syscall: "dup3(/dev/null)", Err: err}
	}
	return nil
}
