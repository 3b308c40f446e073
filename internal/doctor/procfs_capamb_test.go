package doctor

import (
	"github.com/nonroot-init/nonroot-init/internal/host"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// TestProcfsNoCapAmbIsEmptyAmbient: a status without CapAmb (Linux before
// 4.3) reads as an empty ambient set in doctor's identity section, as it
// does for the port decision, rather than as unknown capabilities.
func TestProcfsNoCapAmbIsEmptyAmbient(t *testing.T) {
	h, _ := jsonHost(t)
	status := "Name:\tnonroot-init\nUid:\t1000680000\t1000680000\t1000680000\t1000680000\nGid:\t0\t0\t0\t0\nGroups:\t0\n" +
		"CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000003fffffffff\n"
	if err := os.WriteFile(filepath.Join(h.ProcDir, "self", "status"), []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Passwd: config.PasswdAuto, Username: "default", StateDir: filepath.Join(t.TempDir(), "state"), Subreaper: config.SubreaperAuto}
	rep := Run(cfg, h, host.ReadCreds(), "test")
	if rep.Identity == nil || rep.Identity.Capabilities == nil {
		t.Fatalf("identity %+v; want the capability sets, with an empty ambient set", rep.Identity)
	}
	if amb := rep.Identity.Capabilities.Ambient; len(amb) != 0 {
		t.Errorf("ambient %v; want empty", amb)
	}
	if b := strings.Join(rep.Identity.Capabilities.Bounding, ","); !strings.HasPrefix(b, "cap_chown,") {
		t.Errorf("bounding %q; want the sets read", b)
	}
}
