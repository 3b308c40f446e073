package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/procfs"
	"github.com/nonroot-init/nonroot-init/test/harness"
)

// privStatuses splits output made of status files separated by "---"
// lines and parses each.
func privStatuses(t *testing.T, out string) []procfs.Status {
	t.Helper()
	var sts []procfs.Status
	for _, part := range strings.Split(out, "---\n") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		st, err := procfs.ParseStatus(part, procfs.Credentials)
		if err != nil {
			t.Fatalf("parse status %q: %v", part, err)
		}
		sts = append(sts, st)
	}
	return sts
}

// privDumpStatus prints COMMAND's own status, then every thread's of the
// init (PID 1), each followed by "---".
const privDumpStatus = `cat /proc/self/status; echo ---; for f in /proc/1/task/*/status; do cat "$f"; echo ---; done`

// TestRunAsFromRoot starts as root with a supplementary group (a pod's
// fsGroup) and NONROOT_RUN_AS: COMMAND and every thread of the init have
// the asked UID and GID in all four slots, the group is kept, and no
// capability is left anywhere, the bounding set included.
func TestRunAsFromRoot(t *testing.T) {
	harness.NeedTool(t, "sh", "cat")
	dir := idSharedDir(t)
	r := harness.Run(t, idTimeout, harness.Opts{
		PID1: true, AsUser: true, UID: 0, GID: 0, Groups: []int{2000},
		Env: []string{"NONROOT_RUN_AS=" + "1000680000:5000", "NONROOT_STATE_DIR=" + filepath.Join(dir, "state"), "HOME=/"},
	}, "--", "sh", "-c", privDumpStatus)
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	sts := privStatuses(t, r.Stdout)
	if len(sts) < 3 {
		t.Fatalf("got %d status files; want COMMAND's and at least two threads of the init", len(sts))
	}
	for i, st := range sts {
		who := "COMMAND"
		if i > 0 {
			who = fmt.Sprintf("init thread %d", i)
		}
		if st.UIDs != [4]int{1000680000, 1000680000, 1000680000, 1000680000} || st.GIDs != [4]int{5000, 5000, 5000, 5000} {
			t.Errorf("%s: uids %v gids %v; want 1000680000 and 5000 everywhere", who, st.UIDs, st.GIDs)
		}
		if !slices.Contains(st.Groups, 2000) || !slices.Contains(st.Groups, 5000) || slices.Contains(st.Groups, 0) {
			t.Errorf("%s: groups %v; want 2000 (started with) and 5000 (target), not 0", who, st.Groups)
		}
		if st.CapEff|st.CapPrm|st.CapInh|st.CapAmb|st.CapBnd != 0 {
			t.Errorf("%s: capabilities eff %x prm %x inh %x amb %x bnd %x; want none", who, st.CapEff, st.CapPrm, st.CapInh, st.CapAmb, st.CapBnd)
		}
	}
	if n := strings.Count(r.Stderr, "dropped privileges"); n != 1 {
		t.Errorf("want one info line about the drop, got %d:\n%s", n, r.Stderr)
	}
}

// TestRunAsKeepsBindService: with a port below 1024 configured, COMMAND
// keeps CAP_NET_BIND_SERVICE alone, as an ambient capability, and really
// binds port 80 in a fresh network namespace; without the port it cannot.
func TestRunAsKeepsBindService(t *testing.T) {
	harness.NeedTool(t, "sh", "perl")
	dir := idSharedDir(t)
	const bind80 = `perl -MIO::Socket::INET -e 'IO::Socket::INET->new(LocalPort => 80, Listen => 1, Proto => "tcp") or die "bind 80: $!\n"; print "bound 80\n"'`
	for _, tt := range []struct {
		ports string
		caps  uint64
		bound bool
	}{
		{"HTTP_PORT=80", 1 << 10, true},
		{"", 0, false},
	} {
		env := []string{"NONROOT_RUN_AS=1000680000", "NONROOT_STATE_DIR=" + filepath.Join(dir, "state"), "HOME=/"}
		if tt.ports != "" {
			env = append(env, "NONROOT_PORTS="+tt.ports)
		}
		r := harness.Run(t, idTimeout, harness.Opts{PID1: true, NetNS: true, Env: env},
			"--", "sh", "-c", `cat /proc/self/status; echo ---; `+bind80+` 2>&1; echo "port=$HTTP_PORT"`)
		status, rest, _ := strings.Cut(r.Stdout, "---\n")
		st, err := procfs.ParseStatus(status, procfs.Credentials)
		if err != nil {
			t.Fatalf("PORTS=%q: exit %d, %v\nstdout: %s\nstderr: %s", tt.ports, r.Code, err, r.Stdout, r.Stderr)
		}
		if st.CapAmb != tt.caps || st.CapEff != tt.caps || st.CapPrm != tt.caps || st.CapBnd != tt.caps {
			t.Errorf("PORTS=%q: COMMAND's capabilities amb %x eff %x prm %x bnd %x; want %x in each", tt.ports, st.CapAmb, st.CapEff, st.CapPrm, st.CapBnd, tt.caps)
		}
		if got := strings.Contains(rest, "bound 80\n"); got != tt.bound {
			t.Errorf("PORTS=%q: bound port 80 = %v; want %v\noutput: %s", tt.ports, got, tt.bound, rest)
		}
		if tt.bound && !strings.Contains(rest, "port=80\n") {
			t.Errorf("PORTS=%q: want HTTP_PORT=80 kept, got %s", tt.ports, rest)
		}
	}
}

// TestRunAsWithoutSetuid: root without CAP_SETUID and CAP_SETGID cannot
// switch; that is exit 78 naming both, never a silent run as root.
func TestRunAsWithoutSetuid(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "setpriv")
	// Dropped from the bounding set, they are gone from root's permitted
	// set after exec too.
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc",
		"setpriv", "--bounding-set", "-setuid,-setgid", "--", harness.Init(t), "--", "sh", "-c", "echo started")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NONROOT_RUN_AS=1000680000"}
	r := harness.Wait(t, idTimeout, cmd)
	if r.Code != 78 || strings.Contains(r.Stdout, "started") {
		t.Fatalf("exit %d, stdout %q; want 78 and COMMAND not started\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "CAP_SETUID and CAP_SETGID") || !strings.Contains(r.Stderr, "NONROOT_RUN_AS") {
		t.Errorf("stderr does not name the missing capabilities and the setting:\n%s", r.Stderr)
	}
}

// TestRunAsNotRoot: not started as root, RUN_AS may only name who we are.
func TestRunAsNotRoot(t *testing.T) {
	dir := idSharedDir(t)
	for _, tt := range []struct {
		runAs string
		code  int
	}{
		{"1000680000", 0},
		{"1000680000:0", 0},
		{"1001", 78},
		{"1000680000:5", 78},
	} {
		r := harness.Run(t, idTimeout, harness.Opts{
			PID1: true, UID: harness.OpenShiftUID, GID: 0,
			Env: []string{"NONROOT_RUN_AS=" + tt.runAs, "NONROOT_STATE_DIR=" + filepath.Join(dir, "state"), "HOME=/"},
		}, "--", "true")
		if r.Code != tt.code {
			t.Errorf("RUN_AS=%s as uid 1000680000: exit %d; want %d\nstderr: %s", tt.runAs, r.Code, tt.code, r.Stderr)
		}
		if tt.code == 78 && !strings.Contains(r.Stderr, "NONROOT_RUN_AS="+tt.runAs) {
			t.Errorf("RUN_AS=%s: the error does not name the setting:\n%s", tt.runAs, r.Stderr)
		}
	}
}

// TestRootWithoutRunAsWarnsOnce: root without RUN_AS carries on as root
// with one warning.
func TestRootWithoutRunAsWarnsOnce(t *testing.T) {
	harness.NeedRoot(t)
	r := harness.Run(t, idTimeout, harness.Opts{PID1: true}, "--", "id", "-u")
	if r.Code != 0 || r.Stdout != "0\n" {
		t.Fatalf("exit %d, stdout %q; want 0 and uid 0\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if n := strings.Count(r.Stderr, "running as root"); n != 1 {
		t.Errorf("want exactly one warning about running as root:\n%s", r.Stderr)
	}
}

// TestDoctorIdentity: doctor reports the identity section and writes
// nothing (no state dir, no home).
func TestDoctorIdentity(t *testing.T) {
	dir := idSharedDir(t)
	state := filepath.Join(dir, "state")
	r := harness.Run(t, idTimeout, harness.Opts{
		PID1: true, UID: harness.OpenShiftUID, GID: 0,
		Env: []string{"NONROOT_STATE_DIR=" + state, "HOME=/"},
	}, "doctor")
	for _, want := range []string{"== identity", "uid:", "1000680000", "passwd entry:", "capabilities effective:", "no_new_privs:", "home:", filepath.Join(state, "home")} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, r.Stdout)
		}
	}
	if _, err := os.Lstat(state); !os.IsNotExist(err) {
		t.Errorf("doctor created the state dir (lstat: %v)", err)
	}
}
