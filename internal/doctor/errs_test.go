package doctor

import (
	"strings"
	"testing"
)

// A fact or problem that is a list of several problems (errlist.Format)
// keeps its lines indented below it in the text report.
func TestErrsMultiLineIndented(t *testing.T) {
	var s Section
	s.Name = "ports"
	s.Add("state dir", "none usable: 2 problems:\n  /a: no\n  /b: no")
	s.Problem("NONROOT_PORTS: 2 problems:\n  A=80 collides\n  C=1000 too high", "change NONROOT_PORTS")
	var b strings.Builder
	if err := New(s).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := "== ports\n" +
		"  state dir:  none usable: 2 problems:\n" +
		"                /a: no\n" +
		"                /b: no\n" +
		"  PROBLEM: NONROOT_PORTS: 2 problems:\n" +
		"             A=80 collides\n" +
		"             C=1000 too high\n" +
		"    fix: change NONROOT_PORTS\n"
	if got := b.String(); !strings.HasPrefix(got, want) {
		t.Errorf("WriteText =\n%s\nwant it to begin with\n%s", got, want)
	}
}
