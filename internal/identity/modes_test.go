package identity

import (
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// The passwd mode comes in typed from config and the method goes out
// typed, so that setup and doctor compare constants, never strings.
func TestModesMethodTyped(t *testing.T) {
	var mode config.PasswdMode = config.PasswdAuto
	var got Method
	got, _, err := decide(mode, probe{uid: 1000})
	if err != nil || got != MethodNSSWrapper {
		t.Errorf("decide(%q, uid 1000 with nss_wrapper) = %q, %v; want %q", mode, got, err, MethodNSSWrapper)
	}
	o := Options{Mode: mode}
	if o.Mode != config.PasswdAuto {
		t.Errorf("Options.Mode = %q; want %q", o.Mode, config.PasswdAuto)
	}
}
