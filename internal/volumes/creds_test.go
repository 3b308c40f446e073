package volumes

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/host"
)

// TestCredsIdentityOf: the identity a volume must be writable for is the
// effective IDs and the groups of the credentials handed in, whoever the
// test runs as.
func TestCredsIdentityOf(t *testing.T) {
	for _, tc := range []struct {
		creds host.Creds
		want  Identity
	}{
		{host.Creds{UID: 1000680000, GID: 0, EUID: 1000680000, EGID: 0, Groups: []int{0, 1000680000}}, Identity{UID: 1000680000, GID: 0, Groups: []int{0, 1000680000}}},
		{host.Creds{UID: 0, GID: 0, EUID: 1001, EGID: 2002}, Identity{UID: 1001, GID: 2002}}, // a setuid start: the effective IDs count
		{host.Creds{}, Identity{}},
	} {
		if got := IdentityOf(tc.creds); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("IdentityOf(%+v) = %+v; want %+v", tc.creds, got, tc.want)
		}
	}
}

// TestCredsFixStartingPathRule: fix-permissions applies root's
// starting-path rule (no directory on the way another user may change)
// from the effective UID handed in, not from the test's own: a path
// through a directory of uid 4321 is refused for EUID 0 and walked for
// EUID 4321, though the test runs as root either way.
func TestCredsFixStartingPathRule(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test chowns a directory to another uid")
	}
	base := t.TempDir()
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(base, "theirs")
	vol := filepath.Join(theirs, "vol")
	if err := os.MkdirAll(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 4321, 4321); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		euid    int
		refused bool
	}{{0, true}, {4321, false}} {
		r, err := FixPermissions([]string{vol}, FixOptions{EUID: tc.euid, GID: 0, Check: true})
		var he *HostileParentError
		if got := errors.As(err, &he); got != tc.refused {
			t.Errorf("FixPermissions(%s, EUID %d) = %+v, %v; want refused %v", vol, tc.euid, r, err, tc.refused)
		}
		if !tc.refused && (err != nil || r.Scanned != 1) {
			t.Errorf("FixPermissions(%s, EUID %d) = %+v, %v; want the volume walked", vol, tc.euid, r, err)
		}
	}
}
