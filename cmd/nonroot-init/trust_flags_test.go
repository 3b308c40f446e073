package main

import (
	"strings"
	"testing"
)

// A boolean flag given bare takes no value, so the word after it is
// COMMAND: when that word reads as a boolean ("--signal-group false"),
// the operator meant a value, and running `false` would be a silent
// failure. That is a usage error naming the flag and the fix.
func TestRunBareBoolFlagFollowedByBool(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		want   int
		stderr []string
	}{
		{[]string{"--signal-group", "false", "--", "echo", "hi"}, 2, []string{"--signal-group", "--signal-group=false", `"false"`}},
		{[]string{"--exec", "true"}, 2, []string{"--exec=true"}},
		{[]string{"-exec", "TRUE", "no-such-command"}, 2, []string{"--exec=TRUE"}},
		{[]string{"--log-level", "debug", "--signal-group", "0", "no-such-command"}, 2, []string{"--signal-group=0"}},
		{[]string{"--exec", "off", "no-such-command"}, 2, []string{"--exec=off"}},
		// Not the mistake: a value given with '=', a word that is not a
		// boolean, a string flag's value, or "--" before COMMAND.
		{[]string{"--signal-group=false", "no-such-command"}, 127, []string{"no-such-command"}},
		{[]string{"--signal-group=true", "false"}, 127, []string{"cannot run false"}},
		{[]string{"--signal-group", "no-such-command"}, 127, []string{"no-such-command"}},
		{[]string{"--username", "true", "no-such-command"}, 127, []string{"no-such-command"}},
		{[]string{"--signal-group", "--", "false"}, 127, []string{"cannot run false"}},
		{[]string{"--username", "-exec", "true"}, 2, []string{"NONROOT_USERNAME"}}, // a value, not the flag
	} {
		host := testHost(t)
		code, _, stderr := runArgs(t, host, tc.args...)
		if code != tc.want {
			t.Errorf("run(%q) = %d, want %d\nstderr: %s", tc.args, code, tc.want, stderr)
		}
		for _, s := range tc.stderr {
			if !strings.Contains(stderr, s) {
				t.Errorf("run(%q): stderr %q does not contain %q", tc.args, stderr, s)
			}
		}
	}
}
