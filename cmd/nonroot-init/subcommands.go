package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/setup"
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

// fixPermissionsCmd runs `nonroot-init fix-permissions`.
func fixPermissionsCmd(args []string, stdout, stderr io.Writer) int {
	_ = args
	_ = stdout
	fmt.Fprintln(stderr, "nonroot-init fix-permissions: not available in this build yet")
	return exitUsage
}

