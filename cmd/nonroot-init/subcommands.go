package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/doctor"
	"github.com/nonroot-init/nonroot-init/internal/setup"
	"github.com/nonroot-init/nonroot-init/internal/supervisor"
	"github.com/nonroot-init/nonroot-init/internal/volumes"
)

// doctorCmd runs `nonroot-init doctor [--json] [-- COMMAND [ARG...]]`:
// steps 2 to 5 in check-only mode, judging COMMAND's C library when it is
// given. It exits 0 with no problem, 1 with one (or a COMMAND that would
// not start), 2 on usage.
func doctorCmd(raw config.Raw, args []string, host setup.Host, creds setup.Creds, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "write the report as JSON")
	showVersion := fs.Bool("version", false, "print the version line and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	if *showVersion {
		fmt.Fprint(stdout, versionLine())
		return 0
	}
	rest := fs.Args()
	afterDashes := len(args) > len(rest) && args[len(args)-len(rest)-1] == "--"
	if len(rest) > 0 && !afterDashes {
		fmt.Fprintf(stderr, "nonroot-init doctor: unexpected argument %q (COMMAND goes after --)\n", rest[0])
		return exitUsage
	}
	var lookErr error
	if len(rest) > 0 {
		// As setup looks COMMAND up before step 1: with the init's PATH.
		pathEnv, _ := setup.NewEnv(host.Environ).Get("PATH")
		found, err := supervisor.LookPath(rest[0], pathEnv)
		if err != nil {
			lookErr = err
			found = rest[0]
		}
		host.Command = supervisor.Programs(found)
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-init doctor: invalid settings: %v\n", err)
		return exitUsage
	}
	v, _ := buildVersion()
	report := doctor.Run(cfg, host, creds, v)
	if *asJSON {
		err = report.WriteJSON(stdout)
	} else {
		err = report.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-init doctor: write report: %v\n", err)
		return 1
	}
	if lookErr != nil {
		fmt.Fprintf(stderr, "nonroot-init doctor: COMMAND would not start: %v\n", lookErr)
		return 1
	}
	if !report.OK {
		return 1
	}
	return 0
}

// fixPermissionsCmd runs `nonroot-init fix-permissions [--group GID]
// [--check] [--hardlinks] PATH...`. It exits 0 when everything is (or now
// is) right, 1 when --check found something to change or an entry could
// not be fixed (a refused PATH, a privileged file group or others may
// already write), 2 on usage errors (with nothing changed: every argument
// is parsed before anything is touched). With --check the changes are
// listed on stdout; progress (when stderr is a terminal), failures, the
// privileged files left alone and the summary go to stderr.
func fixPermissionsCmd(args []string, creds setup.Creds, stdout, stderr io.Writer) int {
	const usage = "usage: nonroot-init fix-permissions [--group GID] [--check] [--hardlinks] [--] PATH..."
	fa, err := parseFixArgs(args)
	if errors.Is(err, errVersion) {
		fmt.Fprint(stdout, versionLine())
		return 0
	}
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usage+"\n"+
			"Make every entry under each PATH group-owned by GID (default 0) and group read-write (plus\n"+
			"group execute on directories and owner-executable files, setgid on directories).\n"+
			"  --group GID   the group every entry gets\n"+
			"  --check       change nothing; list what would change and exit 1 if anything would\n"+
			"  --hardlinks   also change non-directories with more than one hard link\n"+
			"Options may come before or after the paths; everything after -- is a path.\n")
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-init fix-permissions: %v; %s\n", err, usage)
		return exitUsage
	}
	opts := volumes.FixOptions{EUID: creds.EUID, GID: fa.gid, Check: fa.check, Hardlinks: fa.hardlinks}
	if f, ok := stderr.(*os.File); ok {
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			opts.Progress = stderr
		}
	}
	report, err := volumes.FixPermissions(fa.paths, opts)
	for _, c := range report.Changes {
		fmt.Fprintln(stdout, c)
	}
	privileged := stderr
	if fa.check {
		privileged = stdout
	}
	for _, p := range report.Privileged {
		// A writable one is a failure, listed with the others below.
		if !p.Writable {
			fmt.Fprintln(privileged, p)
		}
	}
	if report.PrivilegedNotListed > 0 {
		fmt.Fprintf(privileged, "and %d more privileged files not listed\n", report.PrivilegedNotListed)
	}
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-init fix-permissions: %v\n", err)
	}
	verb := "changed"
	if fa.check {
		verb = "to change"
	}
	fmt.Fprintf(stderr, "nonroot-init fix-permissions: %d entries scanned, %d %s, %d left alone (symbolic links, devices, other filesystems, hard-linked entries), %d privileged files left alone (setuid, setgid, file capabilities), %d failed\n",
		report.Scanned, report.Changed, verb, report.Skipped, int64(len(report.Privileged))+report.PrivilegedNotListed, report.Failed)
	if err != nil || (fa.check && report.Changed > 0) {
		return 1
	}
	return 0
}

// fixArgs is fix-permissions' command line, parsed.
type fixArgs struct {
	gid              int
	check, hardlinks bool
	paths            []string
}

// errHelp is -h or --help.
var errHelp = errors.New("help requested")

// parseFixArgs parses fix-permissions' arguments. Options may come before
// or after the paths (flag.Parse would stop at the first path and take a
// later "--check" for one); after "--" every argument is a path. Options
// are spelled with one dash or two, a value after "=" or as the next
// argument; an unknown option is an error.
func parseFixArgs(args []string) (fixArgs, error) {
	fa := fixArgs{}
	group := "0"
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			fa.paths = append(fa.paths, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			fa.paths = append(fa.paths, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		switch name {
		case "h", "help":
			return fixArgs{}, errHelp
		case "version":
			return fixArgs{}, errVersion
		case "check", "hardlinks":
			on := true
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return fixArgs{}, fmt.Errorf("%s: want true or false", a)
				}
				on = b
			}
			if name == "check" {
				fa.check = on
			} else {
				fa.hardlinks = on
			}
		case "group":
			if !hasValue {
				if i+1 == len(args) {
					return fixArgs{}, fmt.Errorf("%s needs a GID", a)
				}
				i++
				value = args[i]
			}
			group = value
		default:
			return fixArgs{}, fmt.Errorf("unknown option %q (a path starting with - goes after --)", a)
		}
	}
	gid, err := strconv.ParseUint(group, 10, 32)
	if err != nil || gid == 1<<32-1 {
		return fixArgs{}, fmt.Errorf("--group %q is not a numeric GID from 0 to 4294967294", group)
	}
	fa.gid = int(gid)
	if len(fa.paths) == 0 {
		return fixArgs{}, errors.New("no PATH given")
	}
	return fa, nil
}
