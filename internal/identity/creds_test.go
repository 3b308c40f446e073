package identity

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// TestCredsNewOptions: the identity step's UID, GID and effective UID are
// those of the credentials handed in, whoever the test runs as.
func TestCredsNewOptions(t *testing.T) {
	creds := host.Creds{UID: 1000680000, GID: 0, EUID: 1000680001, EGID: 5, Groups: []int{0}}
	o := NewOptions(&config.Config{Passwd: config.PasswdAuto}, "/p", "/g", creds, func(string) (string, bool) { return "", false })
	if o.UID != 1000680000 || o.GID != 0 || o.EUID != 1000680001 {
		t.Errorf("NewOptions(%+v): UID %d GID %d EUID %d; want 1000680000 0 1000680001", creds, o.UID, o.GID, o.EUID)
	}
}

// TestCredsOwnerChecks: the state directory and HOME checks trust the
// effective UID handed in, not the test's own: a directory of uid 4321
// is ours for EUID 4321 and another user's for EUID 1000, though the
// test runs as root.
func TestCredsOwnerChecks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test chowns directories to another uid")
	}
	base := t.TempDir()
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(base, "state")
	home := filepath.Join(base, "home")
	for _, d := range []string{state, home} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, 4321, 4321); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		euid int
		ours bool
	}{{4321, true}, {1000, false}} {
		sd, _, err := openStateDir([]string{state}, tc.euid)
		if sd != nil {
			sd.close()
		}
		if (err == nil) != tc.ours {
			t.Errorf("openStateDir(%s owned by 4321, euid %d) error %v; want accepted %v", state, tc.euid, err, tc.ours)
		}
		if _, _, err := inspectStateDir([]string{state}, tc.euid); (err == nil) != tc.ours {
			t.Errorf("inspectStateDir(%s owned by 4321, euid %d) error %v; want accepted %v", state, tc.euid, err, tc.ours)
		}
		if err := sharedHome(home, tc.euid); errors.Is(err, errSharedHome) == tc.ours {
			t.Errorf("sharedHome(%s owned by 4321, euid %d) = %v; want shared %v", home, tc.euid, err, !tc.ours)
		}
	}
}
