package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// Check's problems are listed in the one layout of every list of
// problems.
func TestErrsCheckOneFormat(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Check([]string{filepath.Join(dir, "missing"), file}, IdentityOf(host.ReadCreds()))
	probs := Problems(err)
	if len(probs) != 2 {
		t.Fatalf("Check(missing, file) = %v; want 2 problems", err)
	}
	if got, want := err.Error(), errlist.Format(probs); got != want {
		t.Errorf("Check(missing, file).Error() =\n%s\nwant\n%s", got, want)
	}
	if !strings.HasPrefix(err.Error(), "2 problems:\n  NONROOT_VOLUMES: ") {
		t.Errorf("Check(missing, file).Error() = %q; want both listed, one per line", err)
	}
}
