package doctor

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// TestCredsReportInjected: doctor reports for the credentials it is
// handed, not for the test's own: identity's uid, gid and groups, the
// volumes' identity and the templates' .User are theirs.
func TestCredsReportInjected(t *testing.T) {
	h, root := jsonHost(t)
	app := host.Creds{UID: 1000680000, GID: 0, EUID: 1000680000, EGID: 0, Groups: []int{0, 1000680000}}
	cfg := &config.Config{Passwd: config.PasswdAuto, Username: "default", StateDir: root + "/state",
		Volumes: []string{root}, VolumeCheck: config.CheckWarn}
	rep := Run(cfg, h, app, "test")
	if rep.Identity.UID != 1000680000 || rep.Identity.GID != 0 || !reflect.DeepEqual(rep.Identity.Groups, []int{0, 1000680000}) {
		t.Errorf("doctor identity uid %d gid %d groups %v; want 1000680000 0 [0 1000680000]", rep.Identity.UID, rep.Identity.GID, rep.Identity.Groups)
	}
	if rep.Identity.PasswdEntry {
		t.Errorf("doctor identity passwd_entry true; the passwd file knows only root")
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "uid 1000680000, groups 0,1000680000") {
		t.Errorf("doctor's volumes section does not name the injected identity:\n%s", text.String())
	}

	// .User.UID renders as 10 bytes for uid 1000680000, 1 for root.
	src := filepath.Join(root, "uid.tmpl")
	if err := os.WriteFile(src, []byte("{{ .User.UID }}:{{ .User.GID }}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, js := templatesSection(&config.Config{Templates: []config.Template{{Src: src, Dst: filepath.Join(root, "out")}}}, h, app, nil)
	if len(js) != 1 || len(js[0].Outputs) != 1 || js[0].Outputs[0].Bytes != len("1000680000:0") {
		t.Errorf("templatesSection(.User.UID:.User.GID) = %+v; want one output of %d bytes, for uid 1000680000 gid 0", js, len("1000680000:0"))
	}
}
