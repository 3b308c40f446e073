package render

import (
	"strings"
	"testing"
)

// Render's and Write's problems are listed in the one layout of every
// list of problems.
func TestErrsOneFormat(t *testing.T) {
	dir := t.TempDir()
	files := []File{{Dir: dir, Rel: "../a", Source: "a"}, {Dir: dir, Rel: "../b", Source: "b"}}
	err := Write(files)
	if err == nil || !strings.HasPrefix(err.Error(), "NONROOT_TEMPLATES: 2 problems:\n  ") || strings.Count(err.Error(), "\n  ") != 2 {
		t.Errorf("Write(two files leaving DST) = %q; want both listed, one per line", err)
	}
	rerr := &Error{Problems: []error{errA, errB}}
	if got, want := rerr.Error(), "NONROOT_TEMPLATES: nothing was written: 2 problems:\n  a\n  b"; got != want {
		t.Errorf("Error{a, b}.Error() = %q; want %q", got, want)
	}
}

type strErr string

func (e strErr) Error() string { return string(e) }

var errA, errB error = strErr("a"), strErr("b")
