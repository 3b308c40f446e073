package config

import (
	"flag"
	"strings"
	"testing"
)

// TestTakeGecosSetting: NONROOT_GECOS and --gecos set the GECOS field of
// the provided entry; unset is empty (the identity step then uses the
// login name); text that would corrupt a passwd line is refused, naming
// the variable.
func TestTakeGecosSetting(t *testing.T) {
	t.Setenv("NONROOT_GECOS", "Jane Doe,,,")
	r, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(r)
	if err != nil || c.Gecos != "Jane Doe,,," {
		t.Fatalf("Parse(NONROOT_GECOS=Jane Doe,,,) = %+v, %v; want Gecos %q", c, err, "Jane Doe,,,")
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	r.Bind(fs)
	if err := fs.Parse([]string{"--gecos", "Flag Wins"}); err != nil {
		t.Fatal(err)
	}
	if c, err := Parse(r); err != nil || c.Gecos != "Flag Wins" {
		t.Errorf("Parse(--gecos 'Flag Wins') = %+v, %v; want the flag's value", c, err)
	}
	if c, err := Parse(defaults()); err != nil || c.Gecos != "" {
		t.Errorf("Parse(defaults).Gecos = %q, %v; want empty (the login name)", c.Gecos, err)
	}
	for _, bad := range []string{"a:b", "a\nroot::0:0::/:/bin/sh", "tab\there", "del\x7f"} {
		d := defaults()
		d.Gecos = bad
		if _, err := Parse(d); err == nil || !strings.Contains(err.Error(), "NONROOT_GECOS") {
			t.Errorf("Parse(NONROOT_GECOS=%q) err = %v; want one naming NONROOT_GECOS", bad, err)
		}
	}
	var usage strings.Builder
	Usage(&usage)
	if !strings.Contains(usage.String(), "--gecos") || !strings.Contains(usage.String(), "NONROOT_GECOS") {
		t.Errorf("Usage lacks --gecos / NONROOT_GECOS:\n%s", usage.String())
	}
}
