package supervisor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseShebang(t *testing.T) {
	long := "#!/" + strings.Repeat("x", 300)
	for _, tc := range []struct {
		head   string
		want   string
		wantOK bool
	}{
		{"#!/bin/sh\necho\n", "/bin/sh", true},
		{"#!/usr/bin/env python3\n", "/usr/bin/env", true},
		{"#! /bin/sh -e\n", "/bin/sh", true},
		{"#!\t/bin/sh\t-e\n", "/bin/sh", true},
		{"#!/bin/sh\r\n", "/bin/sh\r", true}, // the kernel keeps the CR: a DOS script fails for real
		{"#!interp\n", "interp", true},
		{"#!/bin/sh", "/bin/sh", true}, // no newline in a short file
		{"#!/bin/sh\x00junk\n", "/bin/sh", true},
		{"#!\n", "", false},
		{"#!   \n", "", false},
		{"#", "", false},
		{"", "", false},
		{"\x7fELF\x02\x01\x01", "", false},
		{"echo hi\n", "", false},
		{" #!/bin/sh\n", "", false},
		{long, "", false}, // longer than the kernel reads: not judged
	} {
		got, ok := parseShebang([]byte(tc.head))
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("parseShebang(%q) = %q, %v; want %q, %v", tc.head, got, ok, tc.want, tc.wantOK)
		}
	}
}

// writeScript writes an executable file (0755) with content into dir.
func writeScript(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// A script that exists but whose #! interpreter is missing or cannot be
// executed is reported as the interpreter's problem (SPEC step 9).
func TestLookPathInterpreter(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-interp")
	plain := filepath.Join(dir, "plain-interp")
	if err := os.WriteFile(plain, []byte("not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(plain, 0o644); err != nil {
		t.Fatal(err)
	}
	subdir := filepath.Join(dir, "a-dir")
	if err := os.Mkdir(subdir, 0o755); err != nil {
		t.Fatal(err)
	}
	nested := writeScript(t, dir, "nested-interp", "#!"+missing+"\n")
	okInterp := writeScript(t, dir, "ok-interp", "#!/bin/sh\nexec /bin/sh \"$@\"\n")
	for _, tc := range []struct {
		name     string
		content  string
		wantCode int    // 0: found
		wantText string // the interpreter the error names
	}{
		{"missing interpreter", "#!" + missing + "\n", 127, missing},
		{"missing interpreter with argument", "#! " + missing + " -x\n", 127, missing},
		{"missing interpreter under a file", "#!" + plain + "/x\n", 127, plain + "/x"},
		{"interpreter not executable", "#!" + plain + "\n", 126, plain},
		{"interpreter a directory", "#!" + subdir + "\n", 126, subdir},
		{"interpreter a script whose interpreter is missing", "#!" + nested + "\n", 127, missing},
		{"interpreter a script that works", "#!" + okInterp + "\n", 0, ""},
		{"interpreter exists", "#!/bin/sh\nexit 0\n", 0, ""},
		{"no #! line", "exit 0\n", 0, ""},
	} {
		script := writeScript(t, dir, "script", tc.content)
		for _, lookup := range []struct{ file, path string }{{script, ""}, {"script", "/nonexistent:" + dir}} {
			got, err := LookPath(lookup.file, lookup.path)
			if tc.wantCode == 0 {
				if err != nil || got != script {
					t.Errorf("%s: LookPath(%q, %q) = %q, %v; want %q", tc.name, lookup.file, lookup.path, got, err, script)
				}
				continue
			}
			var ee *ExecError
			if !errors.As(err, &ee) || ee.Code != tc.wantCode || got != "" {
				t.Errorf("%s: LookPath(%q, %q) = %q, %v; want an *ExecError with code %d", tc.name, lookup.file, lookup.path, got, err, tc.wantCode)
				continue
			}
			if msg := err.Error(); !strings.Contains(msg, "interpreter "+tc.wantText+" ") {
				t.Errorf("%s: LookPath(%q, %q) error %q; want it to name the interpreter %s", tc.name, lookup.file, lookup.path, msg, tc.wantText)
			}
		}
	}
}

// The kernel resolves a relative interpreter from the working directory,
// not from the script's directory.
func TestLookPathRelativeInterpreter(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "script", "#!interp\n")
	t.Chdir(t.TempDir())
	_, err := LookPath(script, "")
	var ee *ExecError
	if !errors.As(err, &ee) || ee.Code != 127 || !strings.Contains(err.Error(), "interpreter interp ") {
		t.Errorf("LookPath(%q) from a directory without interp = %v; want 127 naming interp", script, err)
	}
	t.Chdir(dir)
	writeScript(t, dir, "interp", "#!/bin/sh\n")
	if got, err := LookPath(script, ""); err != nil || got != script {
		t.Errorf("LookPath(%q) beside interp = %q, %v; want it found", script, got, err)
	}
}

// Run's own start failure on such a script names the interpreter too.
func TestRunMissingInterpreter(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-interp")
	script := writeScript(t, dir, "script", "#!"+missing+"\n")
	_, err := runSupervisor(t, Options{Path: script, Argv: []string{script}, Umask: -1})
	var ee *ExecError
	if !errors.As(err, &ee) || ee.Code != 127 || !strings.Contains(err.Error(), "interpreter "+missing+" ") {
		t.Errorf("Run(%s) = %v; want an *ExecError with code 127 naming the interpreter %s", script, err, missing)
	}
}
