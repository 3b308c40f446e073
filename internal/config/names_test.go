package config

import (
	"flag"
	"io"
	"testing"
)

// A boolean setting's field says so by name, and its flag may be given
// bare.
func TestNamesIsBool(t *testing.T) {
	var r Raw
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	r.Bind(fs)
	for _, f := range r.fields() {
		bf, ok := fs.Lookup(f.flag).Value.(interface{ IsBoolFlag() bool })
		if !ok || bf.IsBoolFlag() != f.isBool {
			t.Errorf("flag %q: IsBoolFlag() = %v; want the field's isBool %v", f.flag, ok && bf.IsBoolFlag(), f.isBool)
		}
	}
}
