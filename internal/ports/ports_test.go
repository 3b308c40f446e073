package ports

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

func TestParseUnprivilegedStart(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"1024\n", 1024, false},
		{"0\n", 0, false},
		{"80", 80, false},
		{"  443 \n", 443, false},
		{"65535\n", 65535, false},
		{"65536\n", 0, true},
		{"-1\n", 0, true},
		{"", 0, true},
		{"\n", 0, true},
		{"1024 1025\n", 0, true},
		{"0x400\n", 0, true},
		{"１０２４\n", 0, true},
		{"99999999999999999999999\n", 0, true},
	}
	for _, tt := range tests {
		got, err := parseUnprivilegedStart(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseUnprivilegedStart(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestUnprivilegedStart(t *testing.T) {
	tests := []struct {
		name    string
		content *string // nil: no file
		want    int
		wantErr bool
	}{
		{"missing file counts as 1024", nil, 1024, false},
		{"default", ptr("1024\n"), 1024, false},
		{"lowered", ptr("0\n"), 0, false},
		{"garbage", ptr("lots\n"), 0, true},
	}
	for _, tt := range tests {
		proc := t.TempDir()
		if tt.content != nil {
			dir := filepath.Join(proc, "sys/net/ipv4")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "ip_unprivileged_port_start"), []byte(*tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := UnprivilegedStart(proc)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: UnprivilegedStart = %d, %v; want %d, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func ptr(s string) *string { return &s }

// statusRoot is a real /proc/self/status of a root shell (trimmed).
const statusRoot = `Name:	bash
Umask:	0022
State:	S (sleeping)
Tgid:	1
Uid:	0	0	0	0
Gid:	0	0	0	0
Groups:	0 
CapInh:	0000000000000000
CapPrm:	000001ffffffffff
CapEff:	000001ffffffffff
CapBnd:	000001ffffffffff
CapAmb:	0000000000000000
NoNewPrivs:	0
`

// statusAmbient is a non-root process left with CAP_NET_BIND_SERVICE
// (bit 10, 0x400) as its only capability, ambient, as RUN_AS leaves it.
const statusAmbient = `Name:	nonroot-init
Uid:	1000680000	1000680000	1000680000	1000680000
Gid:	0	0	0	0
CapInh:	0000000000000400
CapPrm:	0000000000000400
CapEff:	0000000000000400
CapBnd:	000001ffffffffff
CapAmb:	0000000000000400
`

// statusRestricted is OpenShift's restricted profile: no capabilities.
const statusRestricted = `Uid:	1000680000	1000680000	1000680000	1000680000
CapInh:	0000000000000000
CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	0000000000000000
CapAmb:	0000000000000000
`

// parseStatus is what ReadCaps makes of a status file's text.
func parseStatus(s string) (Caps, error) {
	st, err := procfs.ParseStatus(s, procfs.LineUid|procfs.Capabilities)
	return capsOf(st), err
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Caps
		wantErr bool
	}{
		{"root", statusRoot, Caps{EUID: 0, Permitted: 0x1ffffffffff, Effective: 0x1ffffffffff, Bounding: 0x1ffffffffff}, false},
		{"ambient", statusAmbient, Caps{EUID: 1000680000, Inheritable: 0x400, Permitted: 0x400, Effective: 0x400, Bounding: 0x1ffffffffff, Ambient: 0x400}, false},
		{"restricted", statusRestricted, Caps{EUID: 1000680000}, false},
		{"setuid binary: effective differs from real", "Uid:\t1000\t0\t0\t0\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n", Caps{EUID: 0}, false},
		{"kernel before 4.3: no CapAmb", "Uid:\t5\t5\t5\t5\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t3fffffffff\n", Caps{EUID: 5, Bounding: 0x3fffffffff}, false},
		{"empty", "", Caps{}, true},
		{"no Uid", "CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\nCapAmb:\t0\n", Caps{}, true},
		{"short Uid", "Uid:\t0\t0\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n", Caps{}, true},
		{"negative uid", "Uid:\t0\t-1\t0\t0\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n", Caps{}, true},
		{"not hex", "Uid:\t0\t0\t0\t0\nCapInh:\tzz\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n", Caps{}, true},
		{"too wide", "Uid:\t0\t0\t0\t0\nCapInh:\t10000000000000000\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n", Caps{}, true},
		{"a name that looks like a key", "Name:\tUid: 0\n" + statusRestricted, Caps{EUID: 1000680000}, false},
	}
	for _, tt := range tests {
		got, err := parseStatus(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: parseStatus(%q) = %+v, %v; want %+v, error %v", tt.name, tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestReadCaps(t *testing.T) {
	proc := t.TempDir()
	if _, err := ReadCaps(proc); err == nil {
		t.Errorf("ReadCaps(%q) without self/status: no error", proc)
	}
	if err := os.MkdirAll(filepath.Join(proc, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, "self/status"), []byte(statusAmbient), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCaps(proc)
	if want := (Caps{EUID: 1000680000, Inheritable: 0x400, Permitted: 0x400, Effective: 0x400, Bounding: 0x1ffffffffff, Ambient: 0x400}); got != want || err != nil {
		t.Errorf("ReadCaps = %+v, %v; want %+v, nil", got, err, want)
	}
}

func TestBindForCommand(t *testing.T) {
	const bit = 1 << 10
	tests := []struct {
		name string
		caps Caps
		want bool
	}{
		{"root with the full bounding set", Caps{EUID: 0, Bounding: 0x1ffffffffff}, true},
		{"root with cap dropped from bounding", Caps{EUID: 0, Bounding: 0x1ffffffffff &^ bit}, false},
		{"root, bounding dropped but inheritable", Caps{EUID: 0, Inheritable: bit}, true},
		{"non-root with ambient", Caps{EUID: 1000680000, Ambient: bit, Permitted: bit, Inheritable: bit, Effective: bit}, true},
		{"non-root with effective only (file caps on the init)", Caps{EUID: 1000, Effective: bit, Permitted: bit, Bounding: bit}, false},
		{"non-root with bounding only (docker --cap-add)", Caps{EUID: 1000, Bounding: 0x1ffffffffff}, false},
		{"non-root with other ambient caps", Caps{EUID: 1000, Ambient: 1 << 12}, false},
		{"restricted", Caps{EUID: 1000680000}, false},
	}
	for _, tt := range tests {
		got, why := tt.caps.BindForCommand()
		if got != tt.want || why == "" {
			t.Errorf("%s: %+v.BindForCommand() = %v, %q; want %v and a reason", tt.name, tt.caps, got, why, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	noCap := Facts{UnprivilegedStart: 1024, BindCapReason: "COMMAND (uid 1000) does not hold CAP_NET_BIND_SERVICE"}
	withCap := Facts{UnprivilegedStart: 1024, BindCap: true, BindCapReason: "CAP_NET_BIND_SERVICE is ambient"}
	open := Facts{UnprivilegedStart: 0}
	p := func(name string, port int) config.Port { return config.Port{Name: name, Port: port} }
	tests := []struct {
		name    string
		want    []config.Port
		offset  int
		facts   Facts
		got     map[string]int
		wantErr string
	}{
		{"default sysctl remaps 80 and 443", []config.Port{p("HTTP_PORT", 80), p("HTTPS_PORT", 443)}, 8000, noCap, map[string]int{"HTTP_PORT": 8080, "HTTPS_PORT": 8443}, ""},
		{"high ports stay", []config.Port{p("A", 1024), p("B", 8080), p("C", 65535)}, 8000, noCap, map[string]int{"A": 1024, "B": 8080, "C": 65535}, ""},
		{"1023 is privileged", []config.Port{p("A", 1023)}, 8000, noCap, map[string]int{"A": 9023}, ""},
		{"sysctl 0 keeps 80", []config.Port{p("HTTP_PORT", 80)}, 8000, open, map[string]int{"HTTP_PORT": 80}, ""},
		{"sysctl 80 keeps 80, remaps 79", []config.Port{p("A", 80), p("B", 79)}, 8000, Facts{UnprivilegedStart: 80}, map[string]int{"A": 80, "B": 8079}, ""},
		{"capability keeps 80", []config.Port{p("HTTP_PORT", 80)}, 8000, withCap, map[string]int{"HTTP_PORT": 80}, ""},
		{"other offset", []config.Port{p("HTTP_PORT", 80)}, 10000, noCap, map[string]int{"HTTP_PORT": 10080}, ""},
		{"offset to exactly 65535", []config.Port{p("A", 535)}, 65000, noCap, map[string]int{"A": 65535}, ""},
		{"overflow", []config.Port{p("A", 536)}, 65000, noCap, nil, "A=536 cannot be bound by COMMAND and 536+NONROOT_PORT_OFFSET (65000) = 65536 is above 65535"},
		{"remap collides with a kept port", []config.Port{p("HTTP_PORT", 80), p("ALT_PORT", 8080)}, 8000, noCap, nil, "HTTP_PORT=80 and ALT_PORT=8080 both end on port 8080"},
		{"same port twice", []config.Port{p("A", 80), p("B", 80)}, 8000, open, nil, "A=80 and B=80 both end on port 80"},
		{"every problem at once", []config.Port{p("A", 80), p("B", 80), p("C", 1000)}, 64600, noCap, nil, "C=1000 cannot be bound"},
		{"none", nil, 8000, noCap, map[string]int{}, ""},
	}
	for _, tt := range tests {
		ds, err := Resolve(tt.want, tt.offset, tt.facts)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "NONROOT_PORTS: ") {
				t.Errorf("%s: Resolve(%v, %d, %+v) = %v, %v; want error containing %q", tt.name, tt.want, tt.offset, tt.facts, ds, err, tt.wantErr)
			}
			continue
		}
		got := map[string]int{}
		for _, d := range ds {
			got[d.Name] = d.Port
			if d.Reason == "" || d.Remapped() != (d.Port != d.Asked) {
				t.Errorf("%s: decision %+v has no reason", tt.name, d)
			}
		}
		if err != nil || !reflect.DeepEqual(got, tt.got) {
			t.Errorf("%s: Resolve(%v, %d, %+v) = %v, %v; want %v, nil", tt.name, tt.want, tt.offset, tt.facts, got, err, tt.got)
		}
	}
}

func TestResolveReportsEveryProblem(t *testing.T) {
	want := []config.Port{{Name: "A", Port: 80}, {Name: "B", Port: 80}, {Name: "C", Port: 1000}}
	_, err := Resolve(want, 64600, Facts{UnprivilegedStart: 1024})
	for _, part := range []string{"A=80 and B=80 both end on port 64680", "C=1000 cannot be bound"} {
		if err == nil || !strings.Contains(err.Error(), part) {
			t.Errorf("Resolve(%v) = %v; want it to contain %q", want, err, part)
		}
	}
}

func TestNeedsBindCap(t *testing.T) {
	tests := []struct {
		want  []config.Port
		start int
		need  bool
	}{
		{nil, 1024, false},
		{[]config.Port{{Name: "A", Port: 8080}}, 1024, false},
		{[]config.Port{{Name: "A", Port: 8080}, {Name: "B", Port: 80}}, 1024, true},
		{[]config.Port{{Name: "B", Port: 80}}, 0, false},
		{[]config.Port{{Name: "B", Port: 80}}, 80, false},
		{[]config.Port{{Name: "B", Port: 79}}, 80, true},
	}
	for _, tt := range tests {
		if got := NeedsBindCap(tt.want, tt.start); got != tt.need {
			t.Errorf("NeedsBindCap(%v, %d) = %v; want %v", tt.want, tt.start, got, tt.need)
		}
	}
}

func TestReadFacts(t *testing.T) {
	proc := t.TempDir()
	if err := os.MkdirAll(filepath.Join(proc, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, "self/status"), []byte(statusAmbient), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFacts(proc)
	if err != nil || f.UnprivilegedStart != 1024 || !f.BindCap || f.BindCapReason == "" {
		t.Errorf("ReadFacts(ambient, no sysctl) = %+v, %v; want start 1024, BindCap with a reason", f, err)
	}
}
