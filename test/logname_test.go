package test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// TestLogNamesTheInit runs the real init as PID 1 with the debug log, in
// both formats, next to a COMMAND that writes to the same stderr: every
// line that is not COMMAND's says it comes from nonroot-init (text: the
// "nonroot-init: " prefix; JSON: "logger":"nonroot-init"), and COMMAND's
// line is left as it was.
func TestLogNamesTheInit(t *testing.T) {
	const app = "app says hello"
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			opts := harness.Opts{PID1: true, UID: harness.OpenShiftUID, Env: []string{
				"NONROOT_LOG_LEVEL=debug", "NONROOT_LOG_FORMAT=" + format}}
			r := harness.Run(t, timeout, opts, "sh", "-c", "echo '"+app+"' >&2; exit 3")
			if r.Code != 3 {
				t.Fatalf("exit %d; want 3; stderr: %s", r.Code, r.Stderr)
			}
			var initLines, appLines int
			for _, l := range strings.Split(strings.TrimSuffix(r.Stderr, "\n"), "\n") {
				if l == app {
					appLines++
					continue
				}
				initLines++
				if format == "text" {
					if !strings.HasPrefix(l, "nonroot-init: ") {
						t.Errorf("init line %q does not start with %q", l, "nonroot-init: ")
					}
					continue
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil || m["logger"] != "nonroot-init" {
					t.Errorf("init line %q: %v, logger %v; want JSON with logger nonroot-init", l, err, m["logger"])
				}
			}
			if appLines != 1 || initLines < 2 {
				t.Fatalf("stderr has %d lines of COMMAND's (want 1, unchanged) and %d of the init's (want the debug log, 2 or more):\n%s", appLines, initLines, r.Stderr)
			}
		})
	}
}
