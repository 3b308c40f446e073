package config

import (
	"strings"
	"testing"
)

// RUN_AS=0 with a GID stays root and would ignore the GID: a usage error.
// NO_NEW_PRIVS defaults to whether RUN_AS is set, and a flag or variable
// overrides it.
func TestParseRunAsAndNoNewPrivs(t *testing.T) {
	for _, tc := range []struct {
		runAs, nnp string
		wantErr    string // substring; "" for no error
		wantNNP    bool
	}{
		{runAs: "0:1000", wantErr: "NONROOT_RUN_AS"},
		{runAs: "0:0", wantErr: "gid would be ignored"},
		{runAs: "0", wantNNP: true},
		{runAs: "1001:1000", wantNNP: true},
		{runAs: "1001", nnp: "false", wantNNP: false},
		{runAs: "", wantNNP: false},
		{runAs: "", nnp: "true", wantNNP: true},
		{runAs: "", nnp: "1", wantNNP: true},
		{runAs: "1001", nnp: "maybe", wantErr: "NONROOT_NO_NEW_PRIVS"},
	} {
		r := defaults()
		r.RunAs, r.NoNewPrivs = tc.runAs, tc.nnp
		c, err := Parse(r)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(RUN_AS=%q NO_NEW_PRIVS=%q) error %v; want one containing %q", tc.runAs, tc.nnp, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("Parse(RUN_AS=%q NO_NEW_PRIVS=%q): %v", tc.runAs, tc.nnp, err)
		case c.NoNewPrivs != tc.wantNNP:
			t.Errorf("Parse(RUN_AS=%q NO_NEW_PRIVS=%q).NoNewPrivs = %v; want %v", tc.runAs, tc.nnp, c.NoNewPrivs, tc.wantNNP)
		}
	}
}
