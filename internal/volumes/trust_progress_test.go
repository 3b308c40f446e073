package volumes

import (
	"strings"
	"testing"
	"time"
)

// TestReportProgress: nothing in the first 2 s, then one line per tick
// with entries seen, changed, failed and the rate.
func TestReportProgress(t *testing.T) {
	var out strings.Builder
	f := &fixer{opts: FixOptions{Progress: &out}}
	f.scanned.Store(3000)
	f.changed.Store(1200)
	f.failed.Store(7)
	ticks := make(chan time.Time)
	quit := make(chan struct{})
	done := make(chan struct{})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	go func() { f.reportProgress(ticks, start, quit); close(done) }()
	ticks <- start.Add(time.Second)
	ticks <- start.Add(3 * time.Second)
	ticks <- start.Add(4 * time.Second)
	close(quit)
	<-done
	want := "fix-permissions: 3000 entries seen, 1200 changed, 7 failed so far (1000 entries/s)\n" +
		"fix-permissions: 3000 entries seen, 1200 changed, 7 failed so far (750 entries/s)\n"
	if got := out.String(); got != want {
		t.Errorf("progress lines after ticks at 1 s, 3 s, 4 s:\n%s\nwant:\n%s", got, strings.TrimSpace(want))
	}
	if progressEvery > time.Second || progressAfter != 2*time.Second {
		t.Errorf("progressEvery %v, progressAfter %v; want at most 1s and 2s (SPEC)", progressEvery, progressAfter)
	}
}
