package doctor

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// takeReport runs doctor as uid 1000680000 (groups 5555) on a passwd
// file of content, with a libnss_wrapper (an ELF header) when withLib,
// and returns the report and its text.
func takeReport(t *testing.T, passwd string, withLib bool, cfg *config.Config) (Report, string) {
	t.Helper()
	h, root := jsonHost(t)
	if err := os.WriteFile(h.PasswdFile, []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Passwd, cfg.StateDir, cfg.VolumeCheck = config.PasswdAuto, root+"/state", config.CheckWarn
	cfg.NSSWrapperLib = filepath.Join(root, "libnss_wrapper.so")
	if withLib {
		// The ELF machine of runtime.GOARCH, so that the library fits
		// the init under test on every architecture CI tests (s390x is
		// big-endian: its header says so and is written so).
		machine := map[string]uint16{"amd64": 62, "arm64": 183, "ppc64le": 21, "s390x": 22}[runtime.GOARCH]
		if machine == 0 {
			t.Fatalf("no ELF machine number known here for %s: add it", runtime.GOARCH)
		}
		hdr := make([]byte, 64)
		copy(hdr, "\x7fELF\x02\x01\x01")
		var order binary.ByteOrder = binary.LittleEndian
		if runtime.GOARCH == "s390x" {
			hdr[5], order = 2, binary.BigEndian // ELFDATA2MSB
		}
		order.PutUint16(hdr[16:], 3) // ET_DYN
		order.PutUint16(hdr[18:], machine)
		if err := os.WriteFile(cfg.NSSWrapperLib, hdr, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Volumes = []string{root}
	app := host.Creds{UID: 1000680000, GID: 0, EUID: 1000680000, EGID: 0, Groups: []int{5555}}
	rep := Run(cfg, h, app, "test")
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	return rep, text.String()
}

// TestTakeDoctorInjectedHome: an entry for our UID whose home is / is a
// problem when nss_wrapper cannot give COMMAND a copy with another, and
// the fix says how.
func TestTakeDoctorInjectedHome(t *testing.T) {
	rep, text := takeReport(t, "root:x:0:0:root:/root:/bin/sh\n1000680000:x:1000680000:0::/:/bin/sh\n", false, &config.Config{Username: "default"})
	found := false
	for _, p := range rep.Problems {
		if p.Section == "identity" && strings.Contains(p.Message, "home") && p.Fix != nil && strings.Contains(*p.Fix, "libnss_wrapper") {
			found = true
		}
	}
	if !found {
		t.Errorf("doctor reports no problem for an entry whose home is /, with the fix:\n%s", text)
	}
}

// TestTakeDoctorTakeOver: doctor says the image's entry of the name is
// taken over.
func TestTakeDoctorTakeOver(t *testing.T) {
	_, text := takeReport(t, "root:x:0:0:root:/root:/bin/sh\npostgres:x:101:104::/var/lib/postgresql:/bin/bash\n", true, &config.Config{Username: "postgres"})
	if !strings.Contains(text, "taking over") || !strings.Contains(text, "uid 101") {
		t.Errorf("doctor does not say postgres (uid 101) is taken over:\n%s", text)
	}
}

// TestTakeDoctorGroups: the identity and volumes sections list the same
// groups.
func TestTakeDoctorGroups(t *testing.T) {
	_, text := takeReport(t, "root:x:0:0:root:/root:/bin/sh\n", false, &config.Config{Username: "default"})
	var idGroups, volGroups string
	section := ""
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "== ") {
			section = l
		}
		if section == "== identity" && strings.HasPrefix(strings.TrimSpace(l), "groups:") {
			idGroups = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "groups:"))
		}
		if section == "== volumes" && strings.Contains(l, "identity:") {
			_, volGroups, _ = strings.Cut(l, "groups ")
		}
	}
	if idGroups == "" || idGroups != volGroups {
		t.Errorf("identity groups %q, volumes groups %q; want the same list\n%s", idGroups, volGroups, text)
	}
}
