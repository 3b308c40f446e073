package doctor

import (
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/privileges"
)

// boundingSet says whether COMMAND would keep a bounding set, why, and
// whether a setuid or file-capability program could use it.
func TestBoundingSet(t *testing.T) {
	const docker = 0xa80425fb // Docker's default set, CAP_SETPCAP included
	const bind = 1 << 10
	for _, tc := range []struct {
		name     string
		uid      int
		bnd      uint64
		nnp      bool
		runAs    bool
		plan     *privileges.Plan
		want     []string // substrings of the value
		wantNote bool
	}{
		{name: "root without RUN_AS", uid: 0, bnd: docker, want: []string{"COMMAND runs as root"}},
		{name: "RUN_AS clears it", uid: 0, bnd: docker, runAs: true, plan: &privileges.Plan{}, want: []string{"cleared by NONROOT_RUN_AS"}},
		{name: "RUN_AS clears all but bind", uid: 0, bnd: docker, runAs: true, plan: &privileges.Plan{Caps: bind}, want: []string{"cleared by NONROOT_RUN_AS", "except cap_net_bind_service"}},
		{name: "RUN_AS without CAP_SETPCAP", uid: 0, bnd: docker &^ (1 << 8), nnp: true, runAs: true, plan: &privileges.Plan{BoundingKept: bind | 1},
			want: []string{"kept after NONROOT_RUN_AS", "cap_chown,cap_net_bind_service", "CAP_SETPCAP", "no_new_privs keeps"}, wantNote: true},
		{name: "RUN_AS without CAP_SETPCAP nor no_new_privs", uid: 0, bnd: docker &^ (1 << 8), runAs: true, plan: &privileges.Plan{BoundingKept: 1},
			want: []string{"kept after NONROOT_RUN_AS", "CAP_SETPCAP", "can regain"}, wantNote: true},
		{name: "RUN_AS impossible", uid: 0, bnd: docker, runAs: true, want: []string{"unknown"}},
		{name: "OpenShift restricted", uid: 1000680000, bnd: 0, nnp: true, want: []string{"empty"}},
		{name: "docker run --user", uid: 1001, bnd: docker, want: []string{"kept: cap_chown", "can regain"}, wantNote: true},
		{name: "--user with no_new_privs", uid: 1001, bnd: docker, nnp: true, want: []string{"kept: cap_chown", "no_new_privs keeps"}},
	} {
		got, note := boundingSet(tc.uid, tc.bnd, tc.nnp, tc.runAs, tc.plan)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: boundingSet = %q; want it to contain %q", tc.name, got, w)
			}
		}
		if (note != "") != tc.wantNote {
			t.Errorf("%s: boundingSet note %q; want a note: %v", tc.name, note, tc.wantNote)
		}
	}
}
