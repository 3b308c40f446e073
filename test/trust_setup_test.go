package test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// TestSetupCommandLookedUpFirst: a missing COMMAND (127) or one that is
// not executable (126) is found before step 1, so nothing is changed on
// disk: no state directory, no rendered template, and with RUN_AS as
// root no fix-permissions on VOLUMES.
func TestSetupCommandLookedUpFirst(t *testing.T) {
	base := harness.SharedDir(t)
	src := filepath.Join(base, "app.conf.tmpl")
	if err := os.WriteFile(src, []byte("user={{ .User.Name }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(base, "not-executable")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\necho ran\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		command string
		code    int
		root    bool // as root with RUN_AS and VOLUMES (step 1's fix-permissions)
	}{
		{"missing", "no-such-command-anywhere", 127, false},
		{"missing path", filepath.Join(base, "no-such-file"), 127, false},
		{"not executable", notExec, 126, false},
		{"missing with RUN_AS", "no-such-command-anywhere", 127, true},
		{"not executable with RUN_AS", notExec, 126, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base, "case-"+strings.ReplaceAll(tc.name, " ", "-"))
			vol := filepath.Join(dir, "vol")
			if err := os.MkdirAll(vol, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Chmod(dir, 0o1777); err != nil {
				t.Fatal(err)
			}
			state, dst := filepath.Join(dir, "state"), filepath.Join(dir, "out")
			env := []string{"NONROOT_STATE_DIR=" + state, "NONROOT_TEMPLATES=" + src + ":" + dst, "HOME=/"}
			opts := harness.Opts{PID1: true, UID: harness.OpenShiftUID, GID: 0}
			if tc.root {
				env = append(env, "NONROOT_RUN_AS=1000680000", "NONROOT_VOLUMES="+vol)
				opts = harness.Opts{PID1: true}
			}
			opts.Env = env
			r := harness.Run(t, idTimeout, opts, "--", tc.command)
			if r.Code != tc.code {
				t.Errorf("exit %d; want %d\nstderr: %s", r.Code, tc.code, r.Stderr)
			}
			if !strings.Contains(r.Stderr, tc.command) {
				t.Errorf("stderr does not name %s:\n%s", tc.command, r.Stderr)
			}
			for _, p := range []string{state, dst} {
				if _, err := os.Lstat(p); !os.IsNotExist(err) {
					t.Errorf("%s exists after COMMAND failed to start (lstat: %v); want nothing changed", p, err)
				}
			}
			var st syscall.Stat_t
			if err := syscall.Stat(vol, &st); err != nil {
				t.Fatal(err)
			}
			if st.Mode&0o7777 != 0o755 || st.Gid != 0 {
				t.Errorf("volume %s is mode %04o gid %d after COMMAND failed to start; want 0755 gid 0 untouched", vol, st.Mode&0o7777, st.Gid)
			}
		})
	}
}
