package main

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
)

// errVersion is --version in a subcommand's options: like -h, it is
// answered wherever the usage would be.
var errVersion = errors.New("version requested")

// versionLine is what `version` and `--version` print: the version and
// commit, the Go release that built the binary (the one to compare with
// Go's security releases) and the platform in GOOS/GOARCH form, the names
// Docker's TARGETARCH and the release files use.
func versionLine() string {
	v, c := buildVersion()
	return fmt.Sprintf("nonroot-init %s (commit %s, %s, %s/%s)\n", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildVersion returns the binary's version and commit.
func buildVersion() (string, string) {
	bi, _ := debug.ReadBuildInfo()
	return resolveVersion(version, commit, bi)
}

// resolveVersion returns the version and commit the Makefile stamped in
// (-X main.version, main.commit); a binary built without them, by `go
// install MODULE/cmd/nonroot-init@VERSION`, gets the module version Go
// recorded (not "(devel)", what a build in a checkout records), and a
// build in a git checkout the commit Go recorded (12 hex digits, as the
// Makefile's).
func resolveVersion(v, c string, bi *debug.BuildInfo) (string, string) {
	if bi == nil {
		return v, c
	}
	if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && c == "unknown" && s.Value != "" {
			c = s.Value[:min(12, len(s.Value))]
		}
	}
	return v, c
}
