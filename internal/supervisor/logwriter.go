package supervisor

import (
	"errors"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// LogWriter writes the init's log to its stderr (fd 2) so that logging
// never raises a SIGPIPE the init would have to tell from one sent to it
// (see pipeGuard):
//
//   - on a socket it uses send(2) with MSG_NOSIGNAL, which raises no
//     SIGPIPE at all, whatever the state of the socket (peer gone, or its
//     write side shut down, which poll does not show); EPIPE then stops
//     the logging for good;
//   - on anything else it uses write(2); a pipe whose reader is gone
//     raises SIGPIPE, which the pipe guard recognises.
type LogWriter struct {
	fd   int
	sock bool
	dead atomic.Bool // the socket said EPIPE: nobody reads the log any more
}

// NewLogWriter returns the log writer for f, the init's stderr.
func NewLogWriter(f *os.File) *LogWriter {
	fd := int(f.Fd())
	return &LogWriter{fd: fd, sock: isSocket(fd)}
}

// Write writes all of p, or returns the error that stopped it.
func (w *LogWriter) Write(p []byte) (int, error) {
	if w.dead.Load() {
		return len(p), nil
	}
	done := 0
	for done < len(p) {
		var n int
		var err error
		if w.sock {
			n, err = unix.SendmsgN(w.fd, p[done:], nil, nil, unix.MSG_NOSIGNAL)
		} else {
			n, err = unix.Write(w.fd, p[done:])
		}
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			// stderr was left non-blocking by whoever shares it.
			fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLOUT}}
			_, _ = unix.Poll(fds, -1)
			continue
		case errors.Is(err, unix.EPIPE) && w.sock:
			w.dead.Store(true)
			return done, &os.PathError{Op: "send", Path: "stderr", Err: err}
		case err != nil:
			return done, &os.PathError{Op: "write", Path: "stderr", Err: err}
		}
		done += n
	}
	return done, nil
}

// isSocket reports whether fd is a socket.
func isSocket(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}
