package supervisor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// binDir makes dir with the given files: true means executable (0755),
// false a plain file (0644). A name ending in / is a directory.
func binDir(t *testing.T, files map[string]bool) string {
	t.Helper()
	dir := t.TempDir()
	for name, x := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mode := os.FileMode(0o644)
		if x {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask-proof
			t.Fatal(err)
		}
	}
	return dir
}

func TestLookPath(t *testing.T) {
	a := binDir(t, map[string]bool{"prog": false, "other": true, "dir/": true, "sub/": true})
	b := binDir(t, map[string]bool{"prog": true, "onlyplain": false})
	c := binDir(t, map[string]bool{"prog": true})
	for _, tc := range []struct {
		name     string
		file     string
		path     string
		want     string // found path, when code is 0
		wantCode int
	}{
		{"slash, executable", filepath.Join(b, "prog"), "", filepath.Join(b, "prog"), 0},
		{"slash, missing", filepath.Join(b, "missing"), "/usr/bin", "", 127},
		{"slash, missing dir", filepath.Join(b, "nodir", "prog"), "", "", 127},
		{"slash, under a file (ENOTDIR)", filepath.Join(b, "prog", "x"), "", "", 127},
		{"slash, not executable", filepath.Join(a, "prog"), b, "", 126},
		{"slash, directory", filepath.Join(a, "dir"), "", "", 126},
		{"slash, PATH not used", "sub/prog", b, "", 127},
		{"PATH, first dir", "prog", c + ":" + b, filepath.Join(c, "prog"), 0},
		{"PATH, non-executable first, executable later", "prog", a + ":" + b, filepath.Join(b, "prog"), 0},
		{"PATH, missing dir first", "prog", filepath.Join(a, "nope") + ":" + b, filepath.Join(b, "prog"), 0},
		{"PATH, directory named like the command is skipped", "dir", a + ":" + b, "", 126},
		{"PATH, only non-executable", "onlyplain", a + ":" + b, "", 126},
		{"PATH, non-executable then not found", "prog", a + ":" + filepath.Join(a, "nope"), "", 126},
		{"PATH, not found", "nosuch", a + ":" + b, "", 127},
		{"PATH empty", "prog", "", "", 127},
		{"empty name", "", b, "", 127},
	} {
		got, err := LookPath(tc.file, tc.path)
		if tc.wantCode == 0 {
			if err != nil || got != tc.want {
				t.Errorf("%s: LookPath(%q, %q) = %q, %v; want %q", tc.name, tc.file, tc.path, got, err, tc.want)
			}
			continue
		}
		var ee *ExecError
		if !errors.As(err, &ee) {
			t.Errorf("%s: LookPath(%q, %q) = %q, %v; want an *ExecError with code %d", tc.name, tc.file, tc.path, got, err, tc.wantCode)
			continue
		}
		if ee.Code != tc.wantCode || got != "" {
			t.Errorf("%s: LookPath(%q, %q) = %q, code %d (%v); want code %d", tc.name, tc.file, tc.path, got, ee.Code, err, tc.wantCode)
		}
	}
}

// An empty PATH element means the current directory, as in a shell.
func TestLookPathEmptyElementIsCwd(t *testing.T) {
	cwd := binDir(t, map[string]bool{"here": true, "plain": false})
	other := binDir(t, map[string]bool{"plain": true})
	t.Chdir(cwd)
	for _, tc := range []struct {
		file, path, want string
		wantCode         int
	}{
		{"here", ":/nonexistent", "here", 0},
		{"here", "/nonexistent:", "here", 0},
		{"here", "/nonexistent::/also-not", "here", 0},
		{"here", "/nonexistent", "", 127},
		{"plain", ":" + other, filepath.Join(other, "plain"), 0},
		{"plain", ":", "", 126},
	} {
		got, err := LookPath(tc.file, tc.path)
		if tc.wantCode == 0 {
			if err != nil || got != tc.want {
				t.Errorf("in %s: LookPath(%q, %q) = %q, %v; want %q", cwd, tc.file, tc.path, got, err, tc.want)
			}
			continue
		}
		var ee *ExecError
		if !errors.As(err, &ee) || ee.Code != tc.wantCode {
			t.Errorf("in %s: LookPath(%q, %q) = %q, %v; want code %d", cwd, tc.file, tc.path, got, err, tc.wantCode)
		}
	}
}

func TestLookPathErrorNamesCommand(t *testing.T) {
	a := binDir(t, map[string]bool{"plain": false})
	for _, tc := range []struct{ file, path, want string }{
		{"nosuch", "/nonexistent", `cannot run nosuch: not found in PATH (PATH=/nonexistent)`},
		{"plain", a, "cannot run plain: " + filepath.Join(a, "plain") + ": access " + filepath.Join(a, "plain")},
		{filepath.Join(a, "missing"), "", "cannot run " + filepath.Join(a, "missing") + ": stat " + filepath.Join(a, "missing")},
		{"", "", `cannot run "": empty command name`},
	} {
		_, err := LookPath(tc.file, tc.path)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("LookPath(%q, %q) error = %v, want it to start with %q", tc.file, tc.path, err, tc.want)
		}
	}
}

func TestExecError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"ENOENT", unix.ENOENT, 127},
		{"ENOTDIR", unix.ENOTDIR, 127},
		{"EACCES", unix.EACCES, 126},
		{"ENOEXEC", unix.ENOEXEC, 126},
		{"ETXTBSY", unix.ETXTBSY, 126},
		{"PathError ENOENT", &os.PathError{Op: "fork/exec", Path: "/x", Err: unix.ENOENT}, 127},
		{"PathError ENOTDIR", &os.PathError{Op: "exec", Path: "/x/y", Err: unix.ENOTDIR}, 127},
		{"PathError EACCES", &os.PathError{Op: "fork/exec", Path: "/x", Err: unix.EACCES}, 126},
		{"PathError ENOEXEC", &os.PathError{Op: "exec", Path: "/x", Err: unix.ENOEXEC}, 126},
		{"wrapped PathError ENOENT", fmt.Errorf("start: %w", &os.PathError{Op: "stat", Path: "/x", Err: unix.ENOENT}), 127},
		{"not found in PATH", fmt.Errorf("%w (PATH=)", errNotFound), 127},
	} {
		err := execError("cmd", tc.err)
		var ee *ExecError
		if !errors.As(err, &ee) {
			t.Fatalf("%s: execError returned %T, want *ExecError", tc.name, err)
		}
		if ee.Code != tc.want || ee.Command != "cmd" {
			t.Errorf("%s: execError(cmd, %v) = code %d command %q, want code %d command cmd", tc.name, tc.err, ee.Code, ee.Command, tc.want)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: execError(cmd, %v) does not unwrap to the cause", tc.name, tc.err)
		}
		if want := "cannot run cmd: " + tc.err.Error(); err.Error() != want {
			t.Errorf("%s: message %q, want %q", tc.name, err.Error(), want)
		}
	}
}
