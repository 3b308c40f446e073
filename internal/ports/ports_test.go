package ports

import (
	"os"
	"path/filepath"
	"testing"
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
