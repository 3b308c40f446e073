package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// TestSupervisorMissingInterpreter runs a script whose #! interpreter is
// missing (127) or not executable (126): the init names the interpreter.
func TestSupervisorMissingInterpreter(t *testing.T) {
	dir := harness.SharedDir(t)
	missing := filepath.Join(dir, "no-such-interp")
	plain := filepath.Join(dir, "plain-interp")
	if err := os.WriteFile(plain, []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		interp string
		want   int
	}{{missing, 127}, {plain, 126}} {
		script := filepath.Join(dir, "script-"+filepath.Base(c.interp))
		if err := os.WriteFile(script, []byte("#!"+c.interp+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, m := range modes {
			t.Run(m.name+"/"+filepath.Base(c.interp), func(t *testing.T) {
				r := harness.Run(t, timeout, m.opts, script)
				if r.Code != c.want || !strings.Contains(r.Stderr, "interpreter "+c.interp+" ") {
					t.Fatalf("%s: exit %d, stderr %q; want %d naming the interpreter %s", script, r.Code, r.Stderr, c.want, c.interp)
				}
			})
		}
	}
}
