package test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/procfs"
	"github.com/nonroot-init/nonroot-init/test/harness"
)

// privSetuidCat copies cat into a fresh directory as a setuid- and
// setgid-root program and returns its path: run by COMMAND, it prints
// its own /proc/self/status with whatever credentials exec gave it.
func privSetuidCat(t *testing.T) string {
	t.Helper()
	harness.NeedRoot(t)
	catPath, err := exec.LookPath("cat")
	if err != nil {
		t.Skipf("needs cat on PATH: %v", err)
	}
	data, err := os.ReadFile(catPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := harness.SharedDir(t)
	p := filepath.Join(dir, "suid-cat")
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 0, 0); err != nil {
		t.Fatal(err)
	}
	// os.Chmod takes Go's mode bits; 04000 and 02000 are the kernel's.
	if err := syscall.Chmod(p, 0o6755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPrivilegesSetuidAfterRunAs: after RUN_AS, a setuid-root program
// that COMMAND runs does not give root back, because no_new_privs is set
// (the default with RUN_AS). The control run with NONROOT_NO_NEW_PRIVS=false
// shows the program really is setuid root on this file system.
func TestPrivilegesSetuidAfterRunAs(t *testing.T) {
	harness.NeedTool(t, "sh")
	suid := privSetuidCat(t)
	dir := idSharedDir(t)
	for _, tt := range []struct {
		nnp      string // NONROOT_NO_NEW_PRIVS, "" for the default
		wantEUID int
		wantNNP  bool
	}{
		{"", 1000680000, true},
		{"true", 1000680000, true},
		{"false", 0, false},
	} {
		env := []string{"NONROOT_RUN_AS=1000680000:5000", "NONROOT_STATE_DIR=" + filepath.Join(dir, "state"), "HOME=/"}
		if tt.nnp != "" {
			env = append(env, "NONROOT_NO_NEW_PRIVS="+tt.nnp)
		}
		r := harness.Run(t, idTimeout, harness.Opts{PID1: true, Env: env}, "--", suid, "/proc/self/status")
		if r.Code != 0 {
			t.Fatalf("NO_NEW_PRIVS=%q: exit %d\nstdout: %s\nstderr: %s", tt.nnp, r.Code, r.Stdout, r.Stderr)
		}
		st, err := procfs.ParseStatus(r.Stdout, procfs.Credentials)
		if err != nil {
			t.Fatalf("NO_NEW_PRIVS=%q: %v\nstdout: %s", tt.nnp, err, r.Stdout)
		}
		if st.UIDs[1] != tt.wantEUID || st.UIDs[2] != tt.wantEUID {
			t.Errorf("NO_NEW_PRIVS=%q: the setuid-root program ran with uids %v; want effective and saved %d", tt.nnp, st.UIDs, tt.wantEUID)
		}
		if tt.wantEUID != 0 && (st.GIDs[1] != 5000 || st.CapEff|st.CapPrm != 0) {
			t.Errorf("NO_NEW_PRIVS=%q: the setuid-root program ran with gids %v, capabilities eff %x prm %x; want gid 5000 and none", tt.nnp, st.GIDs, st.CapEff, st.CapPrm)
		}
		if st.NoNewPrivs != tt.wantNNP {
			t.Errorf("NO_NEW_PRIVS=%q: no_new_privs %v; want %v", tt.nnp, st.NoNewPrivs, tt.wantNNP)
		}
	}
}

// TestPrivilegesBindServiceWithNoNewPrivs: no_new_privs does not take the
// ambient CAP_NET_BIND_SERVICE away: COMMAND still binds port 80.
func TestPrivilegesBindServiceWithNoNewPrivs(t *testing.T) {
	harness.NeedTool(t, "sh", "perl")
	dir := idSharedDir(t)
	const bind80 = `perl -MIO::Socket::INET -e 'IO::Socket::INET->new(LocalPort => 80, Listen => 1, Proto => "tcp") or die "bind 80: $!\n"; print "bound 80\n"'`
	r := harness.Run(t, idTimeout, harness.Opts{PID1: true, NetNS: true, Env: []string{
		"NONROOT_RUN_AS=1000680000", "NONROOT_PORTS=HTTP_PORT=80", "NONROOT_STATE_DIR=" + filepath.Join(dir, "state"), "HOME=/",
	}}, "--", "sh", "-c", `cat /proc/self/status; echo ---; `+bind80+` 2>&1`)
	status, rest, _ := strings.Cut(r.Stdout, "---\n")
	st, err := procfs.ParseStatus(status, procfs.Credentials)
	if err != nil {
		t.Fatalf("exit %d, %v\nstdout: %s\nstderr: %s", r.Code, err, r.Stdout, r.Stderr)
	}
	if !st.NoNewPrivs || st.CapAmb != 1<<10 {
		t.Errorf("COMMAND: no_new_privs %v, ambient %x; want true and cap_net_bind_service", st.NoNewPrivs, st.CapAmb)
	}
	if !strings.Contains(rest, "bound 80\n") {
		t.Errorf("COMMAND with no_new_privs could not bind port 80: %s\nstderr: %s", rest, r.Stderr)
	}
}

// TestPrivilegesRootImageGroupsDropped: started as root with the groups
// the runtime took from the image's /etc/group for root (disk, and a
// group naming root among others) plus a pod's fsGroup, RUN_AS keeps the
// fsGroup and the target GID, drops root's groups, and logs both.
func TestPrivilegesRootImageGroupsDropped(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "setpriv", "mount", "sh")
	dir := idSharedDir(t)
	group := filepath.Join(dir, "group")
	fixture := "root:x:0:\ndisk:x:6:root\r\nops:x:3000:alice,root,bob\napp:x:2000:\nnotroot:x:3001:rooty\n"
	if err := os.WriteFile(group, []byte(fixture), 0o644); err != nil {
		t.Fatal(err)
	}
	// The fixture replaces /etc/group in a private mount namespace; the
	// init reads /etc/group, as in an image.
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
		"sh", "-c", `mount --bind "$1" /etc/group && exec setpriv --reuid 0 --regid 0 --groups 6,2000,3000,3001 -- "$2" -- cat /proc/self/status`,
		"sh", group, harness.Init(t))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NONROOT_RUN_AS=1000680000:5000", "NONROOT_STATE_DIR=" + filepath.Join(dir, "state"), "HOME=/"}
	r := harness.Wait(t, idTimeout, cmd)
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	st, err := procfs.ParseStatus(r.Stdout, procfs.Credentials)
	if err != nil {
		t.Fatalf("%v\nstdout: %s", err, r.Stdout)
	}
	if want := []int{2000, 3001, 5000}; !slices.Equal(st.Groups, want) {
		t.Errorf("COMMAND's groups %v; want %v (fsGroup 2000, 3001 whose member is not root, target 5000; not disk or ops)", st.Groups, want)
	}
	if !strings.Contains(r.Stderr, "2000,3001,5000") || !strings.Contains(r.Stderr, "6,3000") {
		t.Errorf("the log does not name the kept groups 2000,3001,5000 and the dropped 6,3000:\n%s", r.Stderr)
	}
}

// TestPrivilegesBoundingSetKept: without CAP_SETPCAP the bounding set
// cannot be cleared: the init says so in a warning and carries on, and
// doctor reports the kept set in text and JSON.
func TestPrivilegesBoundingSetKept(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "setpriv", "cat")
	dir := idSharedDir(t)
	start := func(args ...string) harness.Result {
		cmd := exec.Command("unshare", append([]string{"--pid", "--fork", "--mount-proc",
			"setpriv", "--bounding-set", "-setpcap", "--", harness.Init(t)}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NONROOT_RUN_AS=1000680000", "NONROOT_STATE_DIR=" + filepath.Join(dir, "state"), "HOME=/"}
		return harness.Wait(t, idTimeout, cmd)
	}
	r := start("--", "cat", "/proc/self/status")
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	st, err := procfs.ParseStatus(r.Stdout, procfs.Credentials)
	if err != nil {
		t.Fatalf("%v\nstdout: %s", err, r.Stdout)
	}
	if st.CapBnd == 0 || st.CapEff|st.CapPrm|st.CapAmb != 0 || !st.NoNewPrivs {
		t.Errorf("COMMAND: bounding %x, eff %x prm %x amb %x, no_new_privs %v; want a kept bounding set, nothing else, and no_new_privs", st.CapBnd, st.CapEff, st.CapPrm, st.CapAmb, st.NoNewPrivs)
	}
	if !strings.Contains(r.Stderr, "level=WARN") || !strings.Contains(r.Stderr, "CAP_SETPCAP") || !strings.Contains(r.Stderr, "bounding set") {
		t.Errorf("no warning naming CAP_SETPCAP and the bounding set:\n%s", r.Stderr)
	}

	text := start("doctor")
	if !strings.Contains(text.Stdout, "bounding set") || !strings.Contains(text.Stdout, "CAP_SETPCAP") {
		t.Errorf("doctor's text does not report the kept bounding set:\n%s", text.Stdout)
	}
	js := start("doctor", "--json")
	var rep struct {
		Process struct {
			BoundingSet        []string `json:"bounding_set"`
			BoundingSetSummary string   `json:"bounding_set_summary"`
		}
	}
	if err := json.Unmarshal([]byte(js.Stdout), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, js.Stdout)
	}
	if s := rep.Process.BoundingSetSummary; len(rep.Process.BoundingSet) == 0 || !strings.Contains(s, "kept") || !strings.Contains(s, "CAP_SETPCAP") {
		t.Errorf("doctor --json: .process.bounding_set is not the kept set, or .process.bounding_set_summary does not say it is kept for lack of CAP_SETPCAP:\n%s", js.Stdout)
	}
}

// TestPrivilegesRunAsRootWithGID: RUN_AS=0 with a GID would stay root and
// ignore the GID: a usage error (2), COMMAND not started.
func TestPrivilegesRunAsRootWithGID(t *testing.T) {
	r := harness.Run(t, idTimeout, harness.Opts{Env: []string{"NONROOT_RUN_AS=0:1000"}}, "--", "sh", "-c", "echo started")
	if r.Code != 2 || strings.Contains(r.Stdout, "started") {
		t.Fatalf("exit %d, stdout %q; want 2 and COMMAND not started\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "NONROOT_RUN_AS") {
		t.Errorf("the error does not name NONROOT_RUN_AS:\n%s", r.Stderr)
	}
}
