package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		ws   unix.WaitStatus
		want int
	}{
		{"exit 0", 0, 0},
		{"exit 3", 3 << 8, 3},
		{"exit 255", 255 << 8, 255},
		{"SIGTERM", unix.WaitStatus(unix.SIGTERM), 143},
		{"SIGKILL", unix.WaitStatus(unix.SIGKILL), 137},
		{"SIGINT", unix.WaitStatus(unix.SIGINT), 130},
		{"SIGSEGV with core", unix.WaitStatus(unix.SIGSEGV) | 0x80, 139},
		{"SIGRTMAX", 64, 192},
	} {
		if got := Status(tc.ws); got != tc.want {
			t.Errorf("%s: Status(%#x) = %d, want %d", tc.name, uint32(tc.ws), got, tc.want)
		}
	}
}

func TestBlockedAtStart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sigBlk  string // "": no status file
		want    bool
		wantErr bool
	}{
		{"nothing blocked", "0000000000000000", false, false},
		{"something blocked", "0000000000000002", true, false},
		{"no status file", "", false, true},
	} {
		procDir := t.TempDir()
		if tc.sigBlk != "" {
			dir := filepath.Join(procDir, "self", "task", fmt.Sprint(os.Getpid()))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "status"), []byte("Name:\tx\nSigBlk:\t"+tc.sigBlk+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := BlockedAtStart(procDir)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("%s: BlockedAtStart = %v, %v; want %v, error %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}
