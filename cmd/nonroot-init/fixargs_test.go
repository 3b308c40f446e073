package main

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseFixArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    fixArgs
		wantErr string
	}{
		{[]string{"/d"}, fixArgs{paths: []string{"/d"}}, ""},
		{[]string{"/d", "--check"}, fixArgs{check: true, paths: []string{"/d"}}, ""},
		{[]string{"/d", "--group", "1234", "/e"}, fixArgs{gid: 1234, paths: []string{"/d", "/e"}}, ""},
		{[]string{"/d", "--group=1234"}, fixArgs{gid: 1234, paths: []string{"/d"}}, ""},
		{[]string{"-group", "7", "-check", "/d", "-hardlinks"}, fixArgs{gid: 7, check: true, hardlinks: true, paths: []string{"/d"}}, ""},
		{[]string{"--check=false", "/d", "--hardlinks=true"}, fixArgs{hardlinks: true, paths: []string{"/d"}}, ""},
		{[]string{"--check", "--", "--check", "--group", "-"}, fixArgs{check: true, paths: []string{"--check", "--group", "-"}}, ""},
		{[]string{"-", "/d"}, fixArgs{paths: []string{"-", "/d"}}, ""},
		{[]string{"/d", "--foo"}, fixArgs{}, `unknown option "--foo"`},
		{[]string{"/d", "-x"}, fixArgs{}, `unknown option "-x"`},
		{[]string{"/d", "--group"}, fixArgs{}, "--group needs a GID"},
		{[]string{"/d", "--group", "wheel"}, fixArgs{}, `--group "wheel" is not a numeric GID`},
		{[]string{"/d", "--group=4294967295"}, fixArgs{}, "is not a numeric GID"},
		{[]string{"/d", "--check=maybe"}, fixArgs{}, "--check=maybe: want true or false"},
		{[]string{"--check"}, fixArgs{}, "no PATH given"},
		{[]string{"--"}, fixArgs{}, "no PATH given"},
		{nil, fixArgs{}, "no PATH given"},
	}
	for _, tt := range tests {
		got, err := parseFixArgs(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseFixArgs(%q) = %+v, %v; want error containing %q", tt.args, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseFixArgs(%q) = %+v, %v; want %+v, nil", tt.args, got, err, tt.want)
		}
	}
	for _, a := range []string{"-h", "--help"} {
		if _, err := parseFixArgs([]string{"/d", a}); !errors.Is(err, errHelp) {
			t.Errorf("parseFixArgs(/d %s) error = %v; want errHelp", a, err)
		}
	}
}
