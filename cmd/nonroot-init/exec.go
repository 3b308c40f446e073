package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/internal/setup"
	"github.com/nonroot-init/nonroot-init/internal/supervisor"
)

const execUsage = "usage: nonroot-init exec [--] COMMAND [ARG...]"

// execCmd runs `nonroot-init exec [--] COMMAND [ARG...]`: COMMAND replaces
// it with the identity the running init gave its own COMMAND (or, with
// none running, the one step 2 would give), for `kubectl exec` and `oc
// rsh` sessions. It returns only on failure: 2 on usage, 78 when the
// identity cannot be had (a refused STATE_DIR/env), 127 and 126 as the
// init's.
func execCmd(raw config.Raw, args []string, host setup.Host, creds setup.Creds, stdout, stderr io.Writer) int {
	argv, err := parseExecArgs(args)
	if errors.Is(err, errVersion) {
		fmt.Fprint(stdout, versionLine())
		return 0
	}
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, execUsage+"\n"+
			"Run COMMAND with the user the running nonroot-init gave its COMMAND (HOME, USER, LOGNAME and\n"+
			"nss_wrapper's variables, read from STATE_DIR/env), e.g. `kubectl exec -it POD -- nonroot-init exec -- bash`.\n"+
			"With no init running, it provides the identity itself, as the init's setup step 2 does.\n")
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-init exec: %v; %s\n", err, execUsage)
		return exitUsage
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-init exec: invalid settings: %v\n", err)
		return exitUsage
	}
	log := newLogger(execLogConfig(cfg), stderr)
	// With no running init, the identity is provided here, and its
	// nss_wrapper build must fit the program the kernel will run (a musl
	// shell never gets glibc's): look COMMAND up first, as the init does.
	initPath, _ := setup.NewEnv(host.Environ).Get("PATH")
	found, err := findCommand(argv[0], initPath, &host)
	if err != nil {
		return execFailed(err, log)
	}
	env, err := setup.ExecEnv(cfg, host, creds, log)
	if err != nil {
		if ue := new(identity.UsageError); errors.As(err, &ue) {
			log.Error("invalid settings, COMMAND not started", "err", err)
			return exitUsage
		}
		log.Error("no identity for COMMAND, not started", "err", err)
		return exitSetup
	}
	path, err := lookAgain(argv[0], found, initPath, env, cfg.RunAs != nil)
	if err != nil {
		return execFailed(err, log)
	}
	return execFailed(supervisor.Exec(supervisor.Options{Path: path, Argv: argv, Env: env.List(), Umask: -1, Log: log}), log)
}

// execLogConfig is the init's settings with the log level exec uses: a
// session's shell should not start with an info line, so info becomes
// warn; debug stays debug.
func execLogConfig(cfg *config.Config) *config.Config {
	c := *cfg
	if c.LogLevel == slog.LevelInfo {
		c.LogLevel = slog.LevelWarn
	}
	return &c
}

var (
	errExecNoCommand = errors.New("no COMMAND given")
	errExecOption    = errors.New("exec takes no options (a COMMAND starting with - goes after --)")
)

// parseExecArgs returns exec's COMMAND: everything after a first "--",
// else all the arguments. Before "--", -h and --help ask for the usage
// and any other word starting with "-" is an error.
func parseExecArgs(args []string) ([]string, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	} else if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			return nil, errHelp
		}
		if args[0] == "--version" || args[0] == "-version" {
			return nil, errVersion
		}
		return nil, errExecOption
	}
	if len(args) == 0 {
		return nil, errExecNoCommand
	}
	return args, nil
}
