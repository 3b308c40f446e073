package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A message holding a value is never spliced (that spells the value:
// /tmp becomes /[redacted X]): its detail after file:line: is withheld,
// or the whole message when it has no file:line.
func TestRedactorWithholds(t *testing.T) {
	var r Redactor
	r.Add("tmp", "SHORT")
	r.Add("  tok\n", "TRIM")
	for _, tc := range []struct{ in, want string }{
		{`/tmp/a.conf.tmpl:1:3: at <port>: error calling port: port "tmp" is not in NONROOT_PORTS`, "/tmp/a.conf.tmpl:1:3: " + Withheld},
		{`/src/b.tmpl:7: function "tok" not defined`, "/src/b.tmpl:7: " + Withheld},
		{`cannot write /tmp/x`, Withheld},
		{`nothing to hide here`, `nothing to hide here`},
	} {
		got := r.String(tc.in)
		if got != tc.want || strings.Contains(got, "[redacted") {
			t.Errorf("String(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
	if !r.Holds("x /tmp y") || r.Holds("nothing") {
		t.Errorf("Holds is wrong")
	}
}

// A value execve cannot pass (NAME=VALUE and its NUL above
// MAX_ARG_STRLEN) is refused at step 6 and by doctor (Read), naming the
// variable, the size, the limit and the fix.
func TestReadArgStrlen(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		n  int
		ok bool
	}{{131072 - len("DB=") - 1, true}, {131072 - len("DB="), false}} {
		file := filepath.Join(dir, "v")
		if err := os.WriteFile(file, []byte(strings.Repeat("x", tc.n)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Read(Source{Name: "DB", File: file})
		if tc.ok != (err == nil) {
			t.Errorf("Read(%d bytes) = %v; want ok %v", tc.n, err, tc.ok)
		}
		if err != nil && (!strings.Contains(err.Error(), "DB_FILE="+file) || !strings.Contains(err.Error(), "131072") ||
			!strings.Contains(err.Error(), "have COMMAND read DB_FILE itself")) {
			t.Errorf("Read(%d bytes) = %v; want the variable, the limit and the fix", tc.n, err)
		}
	}
}

// The whole of argv and the environment is checked against the
// kernel's limit for execve, before COMMAND starts.
func TestCheckExecSize(t *testing.T) {
	if l := ArgMax(); l < 128<<10 {
		t.Errorf("ArgMax() = %d; want at least 128 KiB", l)
	}
	env := []string{"A=" + strings.Repeat("x", 60000), "B=" + strings.Repeat("y", 60000)}
	if err := checkExecSize([]string{"app"}, env, 200000); err != nil {
		t.Errorf("checkExecSize(fits) = %v", err)
	}
	err := checkExecSize([]string{"app"}, env, 100000)
	if err == nil || !strings.Contains(err.Error(), "100000") || strings.Contains(err.Error(), "xxxx") {
		t.Errorf("checkExecSize(too large) = %v; want the limit, no value", err)
	}
}
