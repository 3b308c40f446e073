package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/setup"
	"github.com/nonroot-init/nonroot-init/internal/volumes"
)

// doctorCmd runs `nonroot-init doctor [--json]`: steps 2 to 5 in
// check-only mode. It exits 0 with no problem, 1 with one, 2 on usage.
func doctorCmd(raw config.Raw, args []string, host setup.Host, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "write the report as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "nonroot-init doctor: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-init doctor: invalid settings: %v\n", err)
		return exitUsage
	}
	report := setup.Doctor(cfg, host)
	if *asJSON {
		err = report.WriteJSON(stdout)
	} else {
		err = report.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-init doctor: write report: %v\n", err)
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
// not be fixed, 2 on usage errors. With --check the changes are listed on
// stdout; progress (when stderr is a terminal), failures and the summary
// go to stderr.
func fixPermissionsCmd(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: nonroot-init fix-permissions [--group GID] [--check] [--hardlinks] PATH..."
	fs := flag.NewFlagSet("fix-permissions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage+"\n"+
			"Make every entry under each PATH group-owned by GID and group read-write (plus group\n"+
			"execute on directories and owner-executable files, setgid on directories).\n")
		fs.PrintDefaults()
	}
	group := fs.String("group", "0", "the group `GID` every entry gets")
	check := fs.Bool("check", false, "change nothing; list what would change and exit 1 if anything would")
	hardlinks := fs.Bool("hardlinks", false, "also change regular files with more than one hard link")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	gid, err := strconv.ParseUint(*group, 10, 32)
	if err != nil || gid == 1<<32-1 {
		fmt.Fprintf(stderr, "nonroot-init fix-permissions: --group %q is not a numeric GID from 0 to 4294967294\n", *group)
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "nonroot-init fix-permissions: no PATH given; "+usage)
		return exitUsage
	}
	opts := volumes.FixOptions{GID: int(gid), Check: *check, Hardlinks: *hardlinks}
	if f, ok := stderr.(*os.File); ok {
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			opts.Progress = stderr
		}
	}
	report, err := volumes.FixPermissions(fs.Args(), opts)
	for _, c := range report.Changes {
		fmt.Fprintln(stdout, c)
	}
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-init fix-permissions: %v\n", err)
	}
	verb := "changed"
	if *check {
		verb = "to change"
	}
	fmt.Fprintf(stderr, "nonroot-init fix-permissions: %d entries scanned, %d %s, %d left alone (symbolic links, devices, other filesystems, hard-linked files), %d failed\n",
		report.Scanned, report.Changed, verb, report.Skipped, report.Failed)
	if err != nil || (*check && report.Changed > 0) {
		return 1
	}
	return 0
}
