package main

import (
	"runtime"
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
