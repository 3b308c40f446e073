package supervisor

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestProgramsFollowsShebangs: a script's chain ends at the ELF program.
func TestProgramsFollowsShebangs(t *testing.T) {
	dir := t.TempDir()
	inner := filepath.Join(dir, "inner")
	outer := filepath.Join(dir, "outer")
	if err := os.WriteFile(inner, []byte("#!/bin/sh -e\necho\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outer, []byte("#! "+inner+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		want []string
	}{
		{outer, []string{outer, inner, "/bin/sh"}},
		{inner, []string{inner, "/bin/sh"}},
		{"/bin/sh", []string{"/bin/sh"}},
		{filepath.Join(dir, "missing"), []string{filepath.Join(dir, "missing")}},
	}
	for _, c := range cases {
		if got := Programs(c.path); !slices.Equal(got, c.want) {
			t.Errorf("Programs(%q) = %q; want %q", c.path, got, c.want)
		}
	}
}
