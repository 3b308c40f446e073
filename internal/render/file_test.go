package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

func TestFuncFile(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "password")
	must(t, os.WriteFile(secret, []byte("hunter2\n"), 0o400))
	must(t, os.Symlink("password", filepath.Join(dir, "link")))
	for _, tc := range []struct{ tmpl, want string }{
		{`{{ file "` + secret + `" }}`, "hunter2\n"},
		{`[{{ file "` + secret + `" | trim }}]`, "[hunter2]"},
		{`{{ file "` + filepath.Join(dir, "link") + `" | quote }}`, `"hunter2\n"`},
	} {
		got, err := Execute("t.tmpl", []byte(tc.tmpl), testData)
		if err != nil || string(got) != tc.want {
			t.Errorf("Execute(%q) = %q, %v; want %q, nil", tc.tmpl, got, err, tc.want)
		}
	}
}

func TestFuncFileErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	must(t, os.WriteFile(big, []byte(strings.Repeat("x", MaxFuncFile+1)), 0o600))
	fifo := filepath.Join(dir, "fifo")
	must(t, unix.Mkfifo(fifo, 0o600))
	secret := filepath.Join(dir, "secret")
	must(t, os.WriteFile(secret, []byte("hunter2"), 0o600))
	secretNL := filepath.Join(dir, "secret-nl")
	must(t, os.WriteFile(secretNL, []byte("hunter2\n"), 0o600))
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct{ tmpl, want string }{
		{`{{ file "` + missing + `" }}`, "t.tmpl:1:3: at <file \"" + missing + "\">: error calling file: file " + missing + ": does not exist"},
		{`{{ file "relative/path" }}`, `file "relative/path": not an absolute path`},
		{`{{ file "` + big + `" }}`, "file " + big + ": is above the limit of 1 MiB"},
		{`{{ file "` + fifo + `" }}`, "file " + fifo + ": is a named pipe, not a regular file"},
		{`{{ file "` + dir + `" }}`, "file " + dir + ": is a directory, not a regular file"},
		// port does not echo what file read.
		{`{{ file "` + secret + `" | port }}`, `the name given is not in NONROOT_PORTS`},
		{`{{ file "` + secretNL + `" | trim | port }}`, `the name given is not in NONROOT_PORTS`},
	} {
		done := make(chan error, 1)
		go func() {
			_, err := Execute("t.tmpl", []byte(tc.tmpl), testData)
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(time.Minute):
			t.Fatalf("Execute(%q) did not return", tc.tmpl)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Execute(%q) error = %v; want it to contain %q", tc.tmpl, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Execute(%q) error = %v shows the file's contents", tc.tmpl, err)
		}
	}
}

// What file reads counts against the total that template functions make
// together, as any function's result does.
func TestFuncFileCounted(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	must(t, os.WriteFile(p, []byte(strings.Repeat("y", 3000)), 0o600))
	l := defaultLimits()
	l.total = 5000
	_, err := execute("t.tmpl", []byte(`{{ file "`+p+`" | len }} {{ file "`+p+`" | len }}`), testData, l)
	if err == nil || !strings.Contains(err.Error(), "the template functions together made more than 5000 bytes") {
		t.Errorf("two reads of 3000 bytes under a total of 5000: err = %v; want the total named", err)
	}
}

// Render writes nothing when a file call fails, and doctor's in-memory
// Render with file reads only.
func TestRenderFileFails(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
	must(t, os.WriteFile(filepath.Join(src, "ok.conf.tmpl"), []byte("ok"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "a.conf.tmpl"), []byte(`{{ file "/nonexistent/secret" }}`), 0o644))
	files, err := Render([]config.Template{{Src: src, Dst: dst}}, testData)
	wantNothingWritten(t, "file of a missing path", files, err, dst, filepath.Join(src, "a.conf.tmpl")+":1:3", "/nonexistent/secret: does not exist")
}
