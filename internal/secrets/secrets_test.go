package secrets

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/host"
)

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name     string
		environ  []string
		names    []string
		all      bool
		want     []Source
		shadowed []string
		conflict []string
	}{
		{"listed", []string{"DB_PASSWORD_FILE=/run/secrets/db"}, []string{"DB_PASSWORD"}, false,
			[]Source{{"DB_PASSWORD", "/run/secrets/db"}}, nil, nil},
		{"listed without NAME_FILE", []string{"DB_PASSWORD=x"}, []string{"DB_PASSWORD", "API_KEY"}, false, nil, nil, nil},
		{"listed order kept", []string{"B_FILE=/b", "A_FILE=/a"}, []string{"B", "A"}, false,
			[]Source{{"B", "/b"}, {"A", "/a"}}, nil, nil},
		{"not listed", []string{"OTHER_FILE=/o"}, []string{"DB_PASSWORD"}, false, nil, nil, nil},
		{"both set", []string{"DB_PASSWORD=hunter2", "DB_PASSWORD_FILE=/run/secrets/db", "K_FILE=/k", "K=v"}, []string{"DB_PASSWORD", "K"}, false,
			nil, nil, []string{"DB_PASSWORD", "K"}},
		// As Docker's file_env: an empty variable counts as unset.
		{"empty NAME", []string{"DB_PASSWORD=", "DB_PASSWORD_FILE=/run/secrets/db"}, []string{"DB_PASSWORD"}, false,
			[]Source{{"DB_PASSWORD", "/run/secrets/db"}}, nil, nil},
		{"empty NAME_FILE", []string{"DB_PASSWORD=x", "DB_PASSWORD_FILE="}, []string{"DB_PASSWORD"}, false, nil, nil, nil},
		{"star", []string{"B_FILE=/b", "A_FILE=/a", "PATH=/bin", "C=1", "C_FILE=/c", "_FILE=/u", "1X_FILE=/n", "E=", "E_FILE=/e", "F_FILE="}, nil, true,
			[]Source{{"A", "/a"}, {"B", "/b"}, {"E", "/e"}}, []string{"C"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlan(host.NewEnv(tc.environ), tc.names, tc.all)
			if tc.conflict != nil {
				var ce *ConflictError
				if !errors.As(err, &ce) || !slices.Equal(ce.Names, tc.conflict) {
					t.Fatalf("NewPlan(%q, %q) error = %v; want a ConflictError for %q", tc.environ, tc.names, err, tc.conflict)
				}
				for _, n := range tc.conflict {
					if !strings.Contains(err.Error(), n+" and "+n+"_FILE") {
						t.Errorf("error %q does not name %s and %s_FILE", err, n, n)
					}
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q shows a value", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewPlan(%q, %q, %v) error = %v", tc.environ, tc.names, tc.all, err)
			}
			if !reflect.DeepEqual(p.Sources, tc.want) || !slices.Equal(p.Shadowed, tc.shadowed) {
				t.Errorf("NewPlan(%q, %q, %v) = %v, shadowed %q; want %v, shadowed %q", tc.environ, tc.names, tc.all, p.Sources, p.Shadowed, tc.want, tc.shadowed)
			}
		})
	}
}

func TestTrimNewlines(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"s3cret", "s3cret"},
		{"s3cret\n", "s3cret"},
		{"s3cret\n\n\n", "s3cret"},
		{"s3cret\r\n", "s3cret"},
		{"s3cret\r\n\n\r\n", "s3cret"},
		{"s3cret\r", "s3cret\r"},
		{"  s3 cret \t\n", "  s3 cret \t"},
		{"line1\nline2\n", "line1\nline2"},
		{"\n", ""},
		{"", ""},
	} {
		if got := trimNewlines(tc.in); got != tc.want {
			t.Errorf("trimNewlines(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestApply(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	db := write("db", "hunter2\r\n")
	key := write("key", "k3y\n")
	env := host.NewEnv([]string{"PATH=/bin", "DB_PASSWORD_FILE=" + db, "API_KEY_FILE=" + key, "OTHER_FILE=/x"})
	p, err := NewPlan(env, []string{"DB_PASSWORD", "API_KEY", "UNSET"}, false)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Apply(env, p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := []string{"PATH=/bin", "OTHER_FILE=/x", "DB_PASSWORD=hunter2", "API_KEY=k3y"}
	if got := env.List(); !slices.Equal(got, want) {
		t.Fatalf("env after Apply = %q; want %q", got, want)
	}
	if got := r.Names(); !slices.Equal(got, []string{"DB_PASSWORD", "API_KEY"}) {
		t.Errorf("Names() = %q", got)
	}
	if got := r.String("db hunter2 key k3y"); got != Withheld {
		t.Errorf("Redactor.String = %q", got)
	}
}

func TestApplyFailures(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", MaxSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The largest value execve passes as F=VALUE (MAX_ARG_STRLEN).
	atMax := filepath.Join(dir, "at-max")
	if err := os.WriteFile(atMax, []byte(strings.Repeat("y", MaxArgStrlen-len("F=")-1)), 0o600); err != nil {
		t.Fatal(err)
	}
	nul := filepath.Join(dir, "nul")
	if err := os.WriteFile(nul, []byte("hun\x00ter2"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	missing := filepath.Join(dir, "missing")
	environ := []string{"A_FILE=" + missing, "B_FILE=" + big, "C_FILE=" + fifo, "D_FILE=" + dir, "E_FILE=" + nul, "F_FILE=" + atMax, "G_FILE=" + sock}
	env := host.NewEnv(environ)
	p, err := NewPlan(env, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Apply(env, p)
	if err == nil {
		t.Fatal("Apply: no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"A_FILE=" + missing + ": does not exist",
		"B_FILE=" + big + ": is above the limit of 1 MiB",
		"C_FILE=" + fifo + ": is a named pipe, not a regular file",
		"D_FILE=" + dir + ": is a directory, not a regular file",
		"E_FILE=" + nul + ": holds a NUL byte",
		"G_FILE=" + sock + ": is a socket, not a regular file",
		"6 problems",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Apply error does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "F_FILE") || strings.Contains(msg, "hun") || strings.Contains(msg, "xxxx") {
		t.Errorf("Apply error names a good file or shows content:\n%s", msg)
	}
	// Nothing was set or removed.
	if got := env.List(); !slices.Equal(got, environ) {
		t.Errorf("env after a failed Apply = %q; want it unchanged", got)
	}
}

func TestReadErrorPermission(t *testing.T) {
	err := readError(Source{"DB_PASSWORD", "/run/secrets/db"}, &fs.PathError{Op: "open", Path: "/run/secrets/db", Err: unix.EACCES},
		host.Creds{UID: 1000680000, EUID: 1000680000, Groups: []int{}}, ": owner 0:0 mode 0400")
	want := "DB_PASSWORD_FILE=/run/secrets/db: is not readable by uid 1000680000 (gid 0, groups none): owner 0:0 mode 0400; " +
		"set fsGroup in the pod's securityContext, or defaultMode 0440 (or 0444) on the Secret volume"
	if err.Error() != want {
		t.Errorf("readError(EACCES) =\n%s\nwant\n%s", err, want)
	}
}

func TestRedactor(t *testing.T) {
	var r Redactor
	r.Add("", "EMPTY")
	r.Add("pa\"ss", "Q")
	r.Add("abc", "SHORT")
	r.Add("abcdef", "LONG")
	r.Add("  tok\n", "TRIM")
	for _, tc := range []struct{ in, want string }{
		{"x abcdef y abc", Withheld},
		{`port "pa\"ss" is not`, Withheld},
		{"pa\"ss", Withheld},
		{"nothing", "nothing"},
		{`a.tmpl:1:2: x "tok" y`, "a.tmpl:1:2: " + Withheld},
		{`a.tmpl:3: x "  tok\n" y`, "a.tmpl:3: " + Withheld},
	} {
		if got := r.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
	var none Redactor
	if got := none.String("abc"); got != "abc" {
		t.Errorf("zero Redactor changed %q to %q", "abc", got)
	}
}
