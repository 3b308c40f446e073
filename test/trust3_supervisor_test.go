package test

import (
	"bufio"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

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
