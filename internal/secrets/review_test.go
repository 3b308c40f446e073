package secrets

import (
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
