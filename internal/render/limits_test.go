package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// sparse makes path a sparse file of size bytes: no block is written, so
// a 2 GiB file costs nothing on disk.
func sparse(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	must(t, f.Truncate(size))
	must(t, f.Close())
}

// wantNothingWritten fails unless Render returned no files, an *Error
// containing every want, and left dst absent.
func wantNothingWritten(t *testing.T, what string, files []File, err error, dst string, want ...string) {
	t.Helper()
	var rerr *Error
	if !errors.As(err, &rerr) || files != nil {
		t.Fatalf("%s: Render = %d files, %v; want nil, *Error", what, len(files), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: Render error\n  %v\nwant it to contain\n  %s", what, err, w)
		}
	}
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: Render created %s (err %v); it must write nothing", what, dst, err)
	}
}

// TestRenderRefusesLargeSources: a 2 GiB sparse file, copied or as a
// template, is refused by its size before it is read (it used to be
// read whole: 95 s and 4.5 GB of memory).
func TestRenderRefusesLargeSources(t *testing.T) {
	const size = 2 << 30
	for _, name := range []string{"geoip.db", "huge.conf.tmpl"} {
		src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
		must(t, os.WriteFile(filepath.Join(src, "small.conf"), []byte("small"), 0o644))
		sparse(t, filepath.Join(src, name), size)
		files, err := Render([]config.Template{{Src: src, Dst: dst}}, testData)
		wantNothingWritten(t, name, files, err, dst,
			filepath.Join(src, name)+" is 2147483648 bytes, above the limit of 64 MiB")
	}
}

// TestRenderBoundedRead: a file whose size fstat does not tell (a /proc
// file says 0) or that grows while it is read is still cut at the limit.
func TestRenderBoundedRead(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "out")
	l := defaultLimits()
	l.fileSize = 64
	files, err := render([]config.Template{{Src: "/proc/self/maps", Dst: dst}}, testData, l)
	wantNothingWritten(t, "/proc/self/maps", files, err, dst, "/proc/self/maps grew above the limit of 64 bytes while it was read")
}

// TestRenderTotalLimit: files each below the per-file limits that
// together hold more than the total are refused, rendered ones included.
func TestRenderTotalLimit(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
	for i := range 4 {
		must(t, os.WriteFile(filepath.Join(src, fmt.Sprintf("copy%d", i)), []byte(strings.Repeat("x", 300)), 0o644))
	}
	must(t, os.WriteFile(filepath.Join(src, "r.tmpl"), []byte(`{{ range 300 }}x{{ end }}`), 0o644))
	l := defaultLimits()
	l.fileSize, l.output, l.total = 1000, 1000, 1200
	files, err := render([]config.Template{{Src: src, Dst: dst}}, testData, l)
	wantNothingWritten(t, "total", files, err, dst, "above the limit of 1200 bytes for all of NONROOT_TEMPLATES together")

	l.total = 2000
	if files, err := render([]config.Template{{Src: src, Dst: dst}}, testData, l); err != nil || len(files) != 5 {
		t.Errorf("below the total: Render = %d files, %v; want 5, nil", len(files), err)
	}
}

// TestRenderBoundsOutput: a template whose output never ends is stopped
// at the per-file output limit, while it renders.
func TestRenderBoundsOutput(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
	must(t, os.WriteFile(filepath.Join(src, "endless.tmpl"), []byte("{{ range 1000000000000 }}0123456789{{ end }}"), 0o644))
	l := defaultLimits()
	l.output = 1 << 20
	files, err := render([]config.Template{{Src: src, Dst: dst}}, testData, l)
	wantNothingWritten(t, "endless output", files, err, dst, filepath.Join(src, "endless.tmpl")+": rendered output is larger than 1048576 bytes")
}

// runaways are templates that never end on their own, each a different
// way to loop: a range without output, a range with output, a template
// that calls itself twice (exponential, below text/template's depth
// limit), and a value that keeps growing.
var runaways = map[string]string{
	"range.tmpl":     "line 1\n{{ range 1000000000000 }}{{ end }}",
	"output.tmpl":    "{{ range 1000000000000 }}{{ if false }}x{{ end }}{{ end }}",
	"recursive.tmpl": `{{ define "r" }}{{ if lt (len .) 200 }}{{ template "r" (print . "a") }}{{ template "r" (print . "a") }}{{ end }}{{ end }}{{ template "r" "" }}`,
	"split.tmpl":     `{{ range 1000000000000 }}{{ range split "," "a,b,c" }}{{ . | upper | lower | trim }}{{ end }}{{ end }}`,
}

// TestRenderBudget: runaway templates and a healthy one under one budget.
// The step ends after about one budget for all of them (it used to be
// one per template, while the runaways' goroutines kept running), the
// error names each runaway with its line, the goroutines stop, and
// nothing is written.
func TestRenderBudget(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
	must(t, os.WriteFile(filepath.Join(src, "healthy.conf.tmpl"), []byte(`{{ .User.Name }}`), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "zz-healthy.conf.tmpl"), []byte(`{{ .User.Name }}`), 0o644))
	for name, text := range runaways {
		must(t, os.WriteFile(filepath.Join(src, name), []byte(text), 0o644))
	}
	l := defaultLimits()
	l.budget = 300 * time.Millisecond
	start := time.Now()
	files, err := render([]config.Template{{Src: src, Dst: dst}}, testData, l)
	elapsed := time.Since(start)
	wantNothingWritten(t, "runaways", files, err, dst,
		filepath.Join(src, "range.tmpl")+":2:9 (in a range): still rendering when the render budget of 300ms for all of NONROOT_TEMPLATES ran out",
		filepath.Join(src, "output.tmpl")+":1:9 (in a range): still rendering",
		filepath.Join(src, "recursive.tmpl")+`:1:16 (in template "r"): still rendering`,
		// The inner range or the outer one, whichever it was in last.
		filepath.Join(src, "split.tmpl")+":1:")
	if strings.Contains(err.Error(), "healthy") {
		t.Errorf("the error names a healthy template: %v", err)
	}
	if strings.Contains(err.Error(), "could not be stopped") {
		t.Errorf("a runaway template kept running after the budget: %v", err)
	}
	// Generous: one budget is the aim; one per template (4 or more) was
	// the bug. Only a very slow machine could take 3.
	if elapsed > 3*l.budget {
		t.Errorf("Render took %v with a budget of %v for all templates; want about one budget", elapsed, l.budget)
	}
}

// TestRenderBoundsValues: a value that keeps growing without any output
// is stopped by the limit on what template functions produce, long
// before it takes the memory (it grew to 930 MB within 10 s).
func TestRenderBoundsValues(t *testing.T) {
	tests := map[string]string{
		"doubling.tmpl": `{{ $x := "a" }}{{ range 64 }}{{ $x = print $x $x }}{{ end }}`,
		"printf.tmpl":   `{{ $x := "a" }}{{ range 64 }}{{ $x = printf "%s%s" $x $x }}{{ end }}`,
		"join.tmpl":     `{{ $x := "a" }}{{ range 64 }}{{ $x = join $x (split "" "abc") }}{{ end }}`,
		"split.tmpl":    `{{ $x := printf "%*d" 900000 1 }}{{ range 6 }}{{ $x = print $x $x }}{{ end }}{{ split "" $x | len }}`,
		"escape.tmpl":   `{{ $x := "<" }}{{ range 64 }}{{ $x = html $x $x }}{{ end }}`,
	}
	for name, text := range tests {
		src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
		must(t, os.WriteFile(filepath.Join(src, name), []byte(text), 0o644))
		// The size limit is under test, not the time budget: a slow
		// machine (s390x under qemu takes over 10 s here) must still
		// meet the size limit first.
		l := defaultLimits()
		l.budget = 5 * time.Minute
		files, err := render([]config.Template{{Src: src, Dst: dst}}, testData, l)
		wantNothingWritten(t, name, files, err, dst, filepath.Join(src, name)+":1:", "above the limit of 64 MiB")
	}
}
