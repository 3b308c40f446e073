package test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// A listed HOME (set by step 2) or NONROOT_PORTS name (step 4) with
// NAME_FILE set is a usage error found before step 1: exit 2, and
// nothing changed, not even STATE_DIR, even as root with RUN_AS.
func TestSecretsReviewSetLaterChangesNothing(t *testing.T) {
	harness.NeedRoot(t)
	dir := secVolume(t, map[string]string{"value": secValue})
	for _, name := range []string{"HOME", "HTTP_PORT"} {
		t.Run(name, func(t *testing.T) {
			opts, state := secOpts(t, "NONROOT_FILE_ENV="+name, name+"_FILE="+filepath.Join(dir, "value"),
				"NONROOT_RUN_AS=1000680000:0", "NONROOT_PORTS=HTTP_PORT=8080")
			opts.UID = 0
			r := harness.Run(t, 60*time.Second, opts, harness.Child(t), "args", "started")
			if r.Code != 2 || !strings.Contains(r.Stderr, name+"_FILE is set, but "+name+" is set by ") || strings.Contains(r.Stdout, "started") {
				t.Errorf("exit %d, stdout %q; want 2, COMMAND not started, and the conflict\nstderr: %s", r.Code, r.Stdout, r.Stderr)
			}
			if _, err := os.Lstat(state); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s exists (err %v); a usage error changes nothing", state, err)
			}
			secNoValue(t, r, state)
		})
	}
}
