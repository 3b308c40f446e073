package ports

import (
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// Resolve's problems are listed in the one layout of every list of
// problems, below the setting's name.
func TestErrsResolveOneFormat(t *testing.T) {
	want := []config.Port{{Name: "A", Port: 80}, {Name: "B", Port: 80}, {Name: "C", Port: 1000}}
	_, err := Resolve(want, 64600, Facts{UnprivilegedStart: 1024})
	msg := "NONROOT_PORTS: 2 problems:\n" +
		"  A=80 and B=80 both end on port 64680; change one of them or NONROOT_PORT_OFFSET\n" +
		"  C=1000 cannot be bound by COMMAND and 1000+NONROOT_PORT_OFFSET (64600) = 65600 is above 65535; lower NONROOT_PORT_OFFSET or ask for a port at or above 1024"
	if err == nil || err.Error() != msg {
		t.Errorf("Resolve(%v) error\n got %q\nwant %q", want, err, msg)
	}
}
