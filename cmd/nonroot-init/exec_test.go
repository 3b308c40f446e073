package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseExecArgs(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    []string
		wantErr error
	}{
		{[]string{"--", "sh", "-c", "whoami"}, []string{"sh", "-c", "whoami"}, nil},
		{[]string{"bash", "-l"}, []string{"bash", "-l"}, nil},
		{[]string{"--", "--", "x"}, []string{"--", "x"}, nil},
		{[]string{"--", "-x"}, []string{"-x"}, nil},
		{[]string{"-h"}, nil, errHelp},
		{[]string{"--help"}, nil, errHelp},
		{nil, nil, errExecNoCommand},
		{[]string{"--"}, nil, errExecNoCommand},
		{[]string{"--bogus", "sh"}, nil, errExecOption},
		{[]string{"-"}, nil, errExecOption},
	} {
		got, err := parseExecArgs(tc.args)
		if err != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseExecArgs(%q) = %q, %v; want %q, %v", tc.args, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestExecUsage: exec's usage errors exit 2 and say how to call it.
func TestExecUsage(t *testing.T) {
	host := testHost(t)
	for _, args := range [][]string{{"exec"}, {"exec", "--"}, {"exec", "--bogus", "sh"}} {
		code, _, stderr := runArgs(t, host, args...)
		if code != 2 || !strings.Contains(stderr, "usage: nonroot-init exec [--] COMMAND [ARG...]") {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and the usage", args, code, stderr)
		}
	}
	code, stdout, _ := runArgs(t, host, "exec", "--help")
	if code != 0 || !strings.Contains(stdout, "kubectl exec") {
		t.Errorf("run(exec --help) = %d, stdout %q; want 0 and the usage", code, stdout)
	}
	code, stdout, _ = runArgs(t, host, "--help")
	if code != 0 || !strings.Contains(stdout, "nonroot-init exec [--] COMMAND [ARG...]") {
		t.Errorf("run(--help) = %d, stdout %q; want 0 and the exec subcommand listed", code, stdout)
	}
}
