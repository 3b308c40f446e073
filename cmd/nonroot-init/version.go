package main

import (
	"errors"
	"fmt"
	"runtime"
)

// errVersion is --version in a subcommand's options: like -h, it is
// answered wherever the usage would be.
var errVersion = errors.New("version requested")

// versionLine is what `version` and `--version` print: the version and
// commit the Makefile stamped in, the Go release that built the binary
// (the one to compare with Go's security releases) and the platform in
// GOOS/GOARCH form, the names Docker's TARGETARCH and the release files
// use.
func versionLine() string {
	return fmt.Sprintf("nonroot-init %s (commit %s, %s, %s/%s)\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
