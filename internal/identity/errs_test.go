package identity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// When no STATE_DIR candidate is usable, the reasons are listed in the
// one layout of every list of problems.
func TestErrsStateDirOneFormat(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	must(t, os.WriteFile(file, nil, 0o600))
	candidates := []string{filepath.Join(file, "a"), filepath.Join(file, "b")}
	if _, _, err := openStateDir(candidates, os.Geteuid()); err == nil || !strings.HasPrefix(err.Error(), "2 problems:\n  ") {
		t.Errorf("openStateDir(%v) error %q; want both reasons listed, one per line", candidates, err)
	}
	if _, _, err := inspectStateDir(candidates, os.Geteuid()); err == nil || !strings.HasPrefix(err.Error(), "2 problems:\n  ") {
		t.Errorf("inspectStateDir(%v) error %q; want both reasons listed, one per line", candidates, err)
	}
}
