// Command nonroot-init is a container entrypoint that makes an image run
// correctly as any UID: it provides a passwd entry for an arbitrary UID,
// proves volumes writable, resolves ports below 1024, renders config
// templates, then runs COMMAND as PID 1 (or as a subreaper), forwarding
// signals, reaping zombies and exiting with COMMAND's status.
//
// Every setting is a NONROOT_* environment variable and a long flag; see
// `nonroot-init --help` and SPEC.md.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/internal/memtrim"
	"github.com/nonroot-init/nonroot-init/internal/secrets"
	"github.com/nonroot-init/nonroot-init/internal/setup"
	"github.com/nonroot-init/nonroot-init/internal/supervisor"
	"golang.org/x/sys/unix"
)

// Set by the Makefile with -ldflags -X.
var (
	version = "dev"
	commit  = "unknown"
)

// Exit statuses of the init itself (SPEC.md, Exit status).
const (
	exitUsage = 2
	exitSetup = 78
)

func main() {
	// Go hands the signal mask it started with to every child. A parent
	// that started us with signals blocked would pass them on to COMMAND,
	// so start again with an empty mask. Nothing counts the restarts: the
	// new image checks again and finds nothing blocked, because execve
	// keeps the mask of the calling thread, cleared just before. When the
	// restart fails, the init says so and goes on with the mask it has.
	if blocked, err := supervisor.BlockedAtStart(); err == nil && blocked {
		err := supervisor.ReexecUnblocked(os.Args, os.Environ())
		fmt.Fprintf(os.Stderr, "nonroot-init: started with blocked signals and could not start again without them: %v\n", err)
	}
	host := setup.Host{
		PasswdFile: "/etc/passwd",
		GroupFile:  "/etc/group",
		ProcDir:    "/proc",
		Environ:    os.Environ(),
		PID:        os.Getpid(),
		RootDir:    "/",
		CgroupDir:  "/sys/fs/cgroup",
	}
	// Who we are is read here, once, and handed to setup and the
	// subcommands; step 1 changes it, and setup.Run passes on to steps 2
	// to 5 what step 1 left.
	os.Exit(run(os.Args[1:], host, setup.ReadCreds(), os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole program: parse the command line and the settings, run
// a subcommand or the setup pipeline and the supervisor, and return the
// exit status.
func run(args []string, host setup.Host, creds setup.Creds, stdin, stdout, stderr *os.File) int {
	raw, err := config.FromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-init: %v\n", err)
		return exitUsage
	}
	fs := flag.NewFlagSet("nonroot-init", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	raw.Bind(fs)
	showVersion := fs.Bool("version", false, "print the version line and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "nonroot-init: %v\nRun 'nonroot-init --help' for the flags.\n", err)
		return exitUsage
	}
	if *showVersion {
		fmt.Fprint(stdout, versionLine())
		return 0
	}
	rest := fs.Args()
	afterDashes := len(args) > len(rest) && args[len(args)-len(rest)-1] == "--"
	if err := config.BareBoolValue(args, rest); err != nil {
		fmt.Fprintf(stderr, "nonroot-init: %v\n", err)
		return exitUsage
	}

	if len(rest) > 0 && !afterDashes {
		switch rest[0] {
		case "version":
			fmt.Fprint(stdout, versionLine())
			return 0
		case "help":
			usage(stdout)
			return 0
		case "doctor":
			return doctorCmd(raw, rest[1:], host, creds, stdout, stderr)
		case "fix-permissions":
			return fixPermissionsCmd(rest[1:], creds, stdout, stderr)
		case "exec":
			return execCmd(raw, rest[1:], host, creds, stdout, stderr)
		}
	}
	if len(rest) == 0 {
		fmt.Fprintf(stderr, "nonroot-init: no COMMAND given\nusage: nonroot-init [FLAGS] [--] COMMAND [ARG...]; run 'nonroot-init --help' for more\n")
		return exitUsage
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-init: invalid settings, nothing was changed: %v\n", err)
		return exitUsage
	}
	// The log goes to stderr through the supervisor's writer, which never
	// blocks the supervision loop and never raises a signal in the init
	// (see supervisor.LogWriter). What it still holds is flushed, for
	// logFlushTime at most, before the exit status is returned.
	logw := supervisor.NewLogWriter(stderr, droppedNotice(cfg))
	defer logw.Close(logFlushTime)
	log := newLogger(cfg, logw)
	return supervise(cfg, rest, host, creds, stdin, log, logw)
}

// logFlushTime bounds the wait for the log at exit and before exec: a
// stderr nobody reads must not keep COMMAND's status from its caller.
const logFlushTime = time.Second

// trimDelay is how long COMMAND runs before the init gives back the
// memory setup used (memtrim.Trim).
const trimDelay = 200 * time.Millisecond

// droppedNotice formats the log line that says how many lines the log
// writer had to drop.
func droppedNotice(cfg *config.Config) func(uint64) []byte {
	return func(n uint64) []byte {
		var b bytes.Buffer
		newLogger(cfg, &b).Warn("log lines dropped: stderr did not take them in time", "count", n)
		return b.Bytes()
	}
}

// supervise runs the setup pipeline, then COMMAND, and returns the exit
// status after REMAP_EXIT.
func supervise(cfg *config.Config, argv []string, host setup.Host, creds setup.Creds, stdin *os.File, log *slog.Logger, logw *supervisor.LogWriter) int {
	// Signals are registered before anything else, so that one arriving
	// during setup or while COMMAND starts is queued, then forwarded.
	sigs := make(chan os.Signal, 1024)
	if err := supervisor.NotifyAll(sigs); err != nil {
		log.Warn("signal handling is incomplete", "err", err)
	}
	pid1 := host.PID == 1
	if cfg.Subreaper == config.SubreaperOn || (cfg.Subreaper == config.SubreaperAuto && !pid1 && !cfg.Exec) {
		if err := supervisor.SetSubreaper(); err != nil {
			log.Warn("cannot register as subreaper; orphans will be reaped by the real PID 1", "err", err)
		}
	}

	// COMMAND is looked up before step 1, so that a missing or
	// unexecutable one (127, 126) changes nothing on disk (SPEC.md, step
	// 9). PATH is the init's own here; the lookup after setup sees the
	// environment COMMAND gets.
	pathEnv, _ := setup.NewEnv(host.Environ).Get("PATH")
	found, err := findCommand(argv[0], pathEnv, &host)
	if err != nil {
		return execFailed(err, log)
	}

	inbox := supervisor.NewInbox(sigs, log)
	res, err := setup.Run(cfg, host, creds, log, setup.Processes{Inbox: inbox, Stdin: stdin})
	// A stop signal during setup: COMMAND is not started, 128+N.
	interrupted := func(step string, sig syscall.Signal) int {
		log.Info("stopped during setup, COMMAND not started", "step", step, "signal", unix.SignalName(sig))
		return 128 + int(sig)
	}
	if ie := new(setup.InterruptedError); errors.As(err, &ie) {
		return interrupted(ie.Step, ie.Signal)
	}
	if err != nil {
		// A setting that cannot work with this image (a NONROOT_USERNAME
		// of uid 0) is found before step 1 changes anything.
		// So is a NONROOT_FILE_ENV name set both ways (setup.UsageError).
		ue, sue := new(identity.UsageError), new(setup.UsageError)
		if errors.As(err, &ue) || errors.As(err, &sue) {
			log.Error("invalid settings, nothing was changed", "err", err)
			return exitUsage
		}
		log.Error("setup failed, COMMAND not started", "err", err)
		return exitSetup
	}

	if res.Watcher != nil {
		defer res.Watcher.Close()
	}
	// Signals that came during the steps that run without the inbox
	// (settings to templates, after the last hook, the lookup, the log
	// flush) wait in sigs: they get the same rules as during WAIT. A
	// look now ends the start before COMMAND's second lookup could fail
	// in its place; the last look is as late as can be before COMMAND
	// exists.
	stopped := func() (int, bool) {
		inbox.Drain()
		if sig := inbox.Stopped(); sig != 0 {
			return interrupted("setup", sig), true
		}
		return 0, false
	}
	if code, ok := stopped(); ok {
		return code
	}
	path, err := lookAgain(argv[0], found, pathEnv, res.Env, cfg.RunAs != nil)
	if err != nil {
		return execFailed(err, log)
	}
	env := res.Env.List()
	// execve's limits, checked before the start so that a value too
	// large (NONROOT_FILE_ENV's, or all of them together) is a setup
	// failure naming it, not a 126 "argument list too long".
	if err := secrets.CheckExecSize(argv, env); err != nil {
		log.Error("setup failed, COMMAND not started", "err", err)
		return exitSetup
	}
	opts := supervisor.Options{
		Path:        path,
		Argv:        argv,
		Env:         env,
		Stdin:       stdin,
		SignalGroup: cfg.SignalGroup,
		Rewrite:     cfg.RewriteSignals,
		GracePeriod: cfg.GracePeriod,
		PID1:        pid1,
		ProcDir:     host.ProcDir,
		Umask:       cfg.Umask,
		Log:         log,
		Reload:      res.Reload,
	}
	if cfg.Exec {
		if held := inbox.Held(); len(held) > 0 {
			// exec leaves no one to forward them: say so rather than
			// lose them silently.
			log.Warn("signals that arrived during setup are lost with NONROOT_EXEC=true", "signals", supervisor.SignalNames(held))
		}
		// exec ends the log writer with the init: what it holds goes
		// first, then the last look at the signals (the flush may take
		// a second on a slow stderr).
		logw.Flush(logFlushTime)
		if code, ok := stopped(); ok {
			return code
		}
		return execFailed(supervisor.Exec(opts), log)
	}
	if code, ok := stopped(); ok {
		return code
	}
	opts.Held = inbox.Held()
	// What setup left (the heap's garbage, the pages of the binary it
	// touched) is given back once COMMAND has run for trimDelay; a
	// COMMAND that ends sooner does not wait for it. GOMAXPROCS becomes 2
	// then too: one P for the supervision loop, which waits in poll(2)
	// (with no idle P the runtime's sysmon takes a P back from a system
	// call after 20 us, at every SIGCHLD: 4.3 times tini's CPU per orphan
	// at 1 P, 2.8 at 2), one for the rest; on a node of 64 cores the
	// runtime would keep 64 Ps and start a GC worker on a quarter of
	// them. Not through the environment, which COMMAND would inherit, and
	// not at the start, since the change stops the world (0.4 to 1.2 ms
	// of every start here).
	trim := time.AfterFunc(trimDelay, func() {
		runtime.GOMAXPROCS(2)
		if err := memtrim.Trim(host.ProcDir); err != nil {
			log.Debug("cannot give back setup's memory", "err", err)
		}
	})
	ws, err := supervisor.Run(opts, sigs)
	trim.Stop()
	if err != nil {
		return execFailed(err, log)
	}
	status := supervisor.Status(ws)
	if to, ok := cfg.RemapExit[status]; ok {
		log.Debug("remapping exit status", "from", status, "to", to)
		status = to
	}
	return status
}

// execFailed reports a failure to start COMMAND and returns 126 or 127.
func execFailed(err error, log *slog.Logger) int {
	var ee *supervisor.ExecError
	if errors.As(err, &ee) {
		log.Error(ee.Error())
		return ee.Code
	}
	log.Error("start command", "err", err)
	return 126
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts)).With("logger", logName)
	}
	return slog.New(slog.NewTextHandler(prefixWriter{w: w, prefix: []byte(logName + ": ")}, opts))
}

// logName names the init in every line of its log, which a pod's log
// interleaves with COMMAND's: text lines start with "nonroot-init: " (what
// users grep, as the init's other messages on stderr already do), JSON
// lines carry "logger":"nonroot-init".
const logName = "nonroot-init"

// prefixWriter puts prefix in front of every write. slog's text handler
// writes each record, newline included, in one call, so each line gets it
// once, in the same write as the line (the log writer keeps or drops the
// two together).
type prefixWriter struct {
	w      io.Writer
	prefix []byte
}

func (p prefixWriter) Write(b []byte) (int, error) {
	line := make([]byte, 0, len(p.prefix)+len(b))
	line = append(append(line, p.prefix...), b...)
	n, err := p.w.Write(line)
	n -= len(p.prefix)
	if n < 0 {
		n = 0
	}
	return n, err
}

func usage(w io.Writer) {
	fmt.Fprint(w, `nonroot-init: run a container's COMMAND correctly as any UID

usage:
  nonroot-init [FLAGS] [--] COMMAND [ARG...]   set up, then run and supervise COMMAND
  nonroot-init doctor [--json] [-- COMMAND...] report the runtime environment and every problem found,
                                               and COMMAND's C library
  nonroot-init fix-permissions [--group GID] [--check] [--hardlinks] [--] PATH...
                                               make trees usable by any UID in group GID (default 0)
  nonroot-init exec [--] COMMAND [ARG...]      run COMMAND with the identity the running init gave its COMMAND
                                               (for kubectl exec and oc rsh sessions)
  nonroot-init version | --version             print version, commit, Go version, linux/ARCH

Settings (a flag wins over its environment variable; lists are comma-separated):
`)
	config.Usage(w)
	fmt.Fprint(w, `
Exit status: COMMAND's status; 128+N when COMMAND was killed by signal N;
2 for a usage or configuration error; 78 when a setup step failed;
126 when COMMAND cannot be executed; 127 when it is not found.
`)
}

// findCommand looks COMMAND up on pathEnv before any setup step, so that
// a missing or unexecutable one (127, 126) changes nothing, and records in
// host the programs the kernel will load for it (COMMAND, then each #!
// interpreter): step 2 picks the nss_wrapper build for the last one.
func findCommand(name, pathEnv string, host *setup.Host) (string, error) {
	found, err := supervisor.LookPath(name, pathEnv)
	if err != nil {
		return "", err
	}
	host.Command = supervisor.Programs(found)
	return found, nil
}

// lookAgain is COMMAND's path once setup is done: found again when the
// answer may have changed, that is when the PATH COMMAND gets differs
// from the one found was looked up on, or when a RUN_AS switch may have
// changed who asks (a file root could execute may not be one the target
// user can: then 126, or a later PATH entry is the one exec would find).
// Otherwise the first lookup stands, and no PATH directory is read twice.
func lookAgain(name, found, pathBefore string, env *setup.Env, switched bool) (string, error) {
	pathAfter, _ := env.Get("PATH")
	if pathAfter == pathBefore && !switched {
		return found, nil
	}
	return supervisor.LookPath(name, pathAfter)
}
