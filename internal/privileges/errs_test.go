package privileges

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

// The failures of several threads are listed in the one layout of every
// list of problems.
func TestErrsEachThreadOneFormat(t *testing.T) {
	proc := t.TempDir()
	for _, tid := range []string{"10", "11"} {
		dir := filepath.Join(proc, "self", "task", tid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "status"), []byte("Name:\tx\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := eachThread(proc, func(procfs.Status) error { return nil })
	if err == nil || !strings.HasPrefix(err.Error(), "2 problems:\n  ") || strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("eachThread(two unparsable threads) = %q; want both listed, one per line", err)
	}
}
