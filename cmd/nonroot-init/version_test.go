package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersion: `version` and `--version` print one line with the
// version, the commit, the Go version and linux/ARCH, wherever -h/--help
// would print the usage: before COMMAND (after flags too) and in the
// subcommands' options. After "--" the word is COMMAND's.
func TestVersion(t *testing.T) {
	want := "nonroot-init " + version + " (commit " + commit + ", " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	for _, args := range [][]string{
		{"version"},
		{"--version"},
		{"-version"},
		{"--log-level", "debug", "--version"},
		{"--exec", "--version"},
		{"--version", "/bin/true"},
		{"--log-format", "json", "version"},
		{"exec", "--version"},
		{"fix-permissions", "--version"},
		{"fix-permissions", "/nonexistent", "--version"},
		{"doctor", "--version"},
	} {
		code, stdout, stderr := runArgs(t, testHost(t), args...)
		if code != 0 || stdout != want || stderr != "" {
			t.Errorf("run(%q) = %d, stdout %q, stderr %q; want 0, %q and nothing on stderr", args, code, stdout, stderr, want)
		}
	}
	// The line names the platform as GOOS/GOARCH, the Docker TARGETARCH
	// spelling, so that a release's binary can be told apart.
	if !strings.Contains(want, "linux/") {
		t.Errorf("version line %q does not name linux/ARCH", want)
	}
}

// TestVersionAfterDashes: after "--", version and --version are
// COMMAND and its arguments, never the init's.
func TestVersionAfterDashes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--", "--version"}, 127},
		{[]string{"--", "version"}, 127},
		{[]string{"exec", "--", "--version"}, 127},
	} {
		code, stdout, stderr := runArgs(t, testHost(t), tc.args...)
		if code != tc.want || strings.Contains(stdout, "commit ") {
			t.Errorf("run(%q) = %d, stdout %q, stderr %q; want %d and no version line", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// TestResolveVersion: the Makefile's stamp wins; a binary built by `go
// install MODULE/cmd/nonroot-init@VERSION` has none and names the module
// version Go recorded, and the commit when Go recorded one.
func TestResolveVersion(t *testing.T) {
	mod := func(v string, settings ...debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/nonroot-init/nonroot-init", Version: v}, Settings: settings}
	}
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}
	for _, tc := range []struct {
		name         string
		v, c         string
		bi           *debug.BuildInfo
		wantV, wantC string
	}{
		{"stamped", "v1.2.3", "0123456789ab", mod("v9.9.9", rev), "v1.2.3", "0123456789ab"},
		{"go install @v1.2.3", "dev", "unknown", mod("v1.2.3"), "v1.2.3", "unknown"},
		{"go install @pseudo-version", "dev", "unknown", mod("v0.0.0-20261203115229-0123456789ab"), "v0.0.0-20261203115229-0123456789ab", "unknown"},
		{"go build in a checkout", "dev", "unknown", mod("(devel)", rev), "dev", "0123456789ab"},
		{"short revision", "dev", "unknown", mod("", debug.BuildSetting{Key: "vcs.revision", Value: "abc"}), "dev", "abc"},
		{"no build info", "dev", "unknown", nil, "dev", "unknown"},
	} {
		gotV, gotC := resolveVersion(tc.v, tc.c, tc.bi)
		if gotV != tc.wantV || gotC != tc.wantC {
			t.Errorf("%s: resolveVersion(%q, %q, %+v) = %q, %q; want %q, %q", tc.name, tc.v, tc.c, tc.bi, gotV, gotC, tc.wantV, tc.wantC)
		}
	}
}
