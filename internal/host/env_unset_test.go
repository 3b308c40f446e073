package host

import (
	"slices"
	"testing"
)

func TestEnvUnset(t *testing.T) {
	e := NewEnv([]string{"A=1", "B_FILE=/x", "C=3"})
	e.Unset("B_FILE")
	e.Unset("NOT_SET")
	e.Set("B", "2")
	if got, want := e.List(), []string{"A=1", "C=3", "B=2"}; !slices.Equal(got, want) {
		t.Fatalf("List() after Unset(B_FILE), Set(B) = %q; want %q", got, want)
	}
	if _, ok := e.Get("B_FILE"); ok {
		t.Fatal("Get(B_FILE) after Unset: still set")
	}
	if _, ok := e.Map()["B_FILE"]; ok {
		t.Fatal("Map() after Unset(B_FILE): still has it")
	}
}
