package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/procfs"
	"github.com/nonroot-init/nonroot-init/test/harness"
)

// trust2Fixture is a file bind-mounted over an image file (/etc/passwd,
// /etc/group) in a private mount namespace: owned by root, with mode.
type trust2Fixture struct {
	target, content string
	mode            uint32
}

// trust2Start runs the init as root (uid 0, gid 0, supplementary groups
// a comma list) as PID 1 of new PID and mount namespaces, with the
// fixtures bind-mounted over their targets; env is added to PATH,
// NONROOT_STATE_DIR and HOME, args follow the init.
func trust2Start(t *testing.T, groups string, fixtures []trust2Fixture, env []string, args ...string) harness.Result {
	t.Helper()
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "setpriv", "mount", "sh", "cat")
	dir := idSharedDir(t)
	// sh -c SCRIPT sh FIXTURE TARGET... GROUPS INIT ARGS...
	script := ""
	var pos []string
	for i, f := range fixtures {
		p := filepath.Join(dir, strconv.Itoa(i)+"-"+filepath.Base(f.target))
		if err := os.WriteFile(p, []byte(f.content), 0o600); err != nil {
			t.Fatal(err)
		}
		// os.Chmod takes Go's mode bits; these are the kernel's.
		if err := syscall.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		script += `mount --bind "$` + strconv.Itoa(2*i+1) + `" "$` + strconv.Itoa(2*i+2) + `" && `
		pos = append(pos, p, f.target)
	}
	script += `shift ` + strconv.Itoa(len(pos)) + ` && g="$1" && shift && exec setpriv --reuid 0 --regid 0 --groups "$g" -- "$@"`
	argv := append([]string{"--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc", "sh", "-c", script, "sh"}, pos...)
	argv = append(append(argv, groups, harness.Init(t)), args...)
	cmd := exec.Command("unshare", argv...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "NONROOT_STATE_DIR=" + filepath.Join(dir, "state"), "HOME=/"}, env...)
	return harness.Wait(t, idTimeout, cmd)
}

// trust2Status parses COMMAND's /proc/self/status from r's stdout.
func trust2Status(t *testing.T, what string, r harness.Result) procfs.Status {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.Code, r.Stdout, r.Stderr)
	}
	st, err := procfs.ParseStatus(r.Stdout, procfs.Credentials)
	if err != nil {
		t.Fatalf("%s: %v\nstdout: %s", what, err, r.Stdout)
	}
	return st
}

// trust2Passwd is Debian's passwd head: root's primary group is 0.
const trust2Passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"

// trust2Group is Debian's group head: root:x:0: names nobody.
const trust2Group = "root:x:0:\ndaemon:x:1:\ndisk:x:6:\nshadow:x:42:\n"

// TestTrust2PrivilegesRootPrimaryGroupDropped: root started with its
// primary group 0 also in the supplementary list (containerd's
// ensureAdditionalGids; setpriv --groups 0) loses it after RUN_AS, even
// though Debian's root:x:0: names nobody, and the log lists it among
// dropped_groups; a fsGroup is kept. RUN_AS with GID 0 (OpenShift)
// keeps 0. A root whose passwd primary group is 7 loses 7 instead.
func TestTrust2PrivilegesRootPrimaryGroupDropped(t *testing.T) {
	std := []trust2Fixture{{"/etc/passwd", trust2Passwd, 0o644}, {"/etc/group", trust2Group, 0o644}}
	for _, tt := range []struct {
		name     string
		fixtures []trust2Fixture
		groups   string
		runAs    string
		want     []int
		dropped  string
	}{
		{"debian root, gid 0 in the list", std, "0,2000", "1000680000:5000", []int{2000, 5000}, "dropped_groups=0 "},
		{"RUN_AS without a GID and no entry: gid 0 kept", std, "0,2000", "1000680000", []int{0, 2000}, "dropped_groups=none"},
		{"OpenShift: target gid 0 kept", std, "0,2000", "1000680000:0", []int{0, 2000}, "dropped_groups=none"},
		{"root's primary group 7", []trust2Fixture{{"/etc/passwd", "root:x:0:7:root:/root:/bin/sh\n", 0o644}, {"/etc/group", trust2Group, 0o644}},
			"0,7,2000", "1000680000:5000", []int{0, 2000, 5000}, "dropped_groups=7 "},
	} {
		r := trust2Start(t, tt.groups, tt.fixtures, []string{"NONROOT_RUN_AS=" + tt.runAs}, "--", "cat", "/proc/self/status")
		st := trust2Status(t, tt.name, r)
		if !slices.Equal(st.Groups, tt.want) {
			t.Errorf("%s: started with groups %s, RUN_AS=%s: COMMAND's groups %v; want %v", tt.name, tt.groups, tt.runAs, st.Groups, tt.want)
		}
		if !strings.Contains(r.Stderr, tt.dropped) {
			t.Errorf("%s: the log does not say %q:\n%s", tt.name, tt.dropped, r.Stderr)
		}
	}
}

// TestTrust2PrivilegesWritablePasswdNoGID: with an /etc/passwd that
// group 0 may write (OpenShift's 0664 root:0, on a root file system that
// outlives a start), a line a previous COMMAND appended for its own UID
// would pick the GID root switches to (42, shadow). RUN_AS without a GID
// is then exit 78 naming the file, who may write it and the fix, before
// anything changed: fix-permissions has not touched NONROOT_VOLUMES.
// Symbolic links (the file or a directory on its path) are refused the
// same way, in the setup unit tests.
func TestTrust2PrivilegesWritablePasswdNoGID(t *testing.T) {
	vol := filepath.Join(harness.SharedDir(t), "vol")
	if err := os.Mkdir(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	evil := trust2Passwd + "evil:x:1000680000:42::/tmp:/bin/sh\n"
	for _, tt := range []struct {
		name string
		mode uint32
		who  string
	}{
		{"group-writable", 0o664, "group 0"},
		{"world-writable", 0o646, "every user"},
	} {
		r := trust2Start(t, "0", []trust2Fixture{{"/etc/passwd", evil, tt.mode}, {"/etc/group", trust2Group, 0o644}},
			[]string{"NONROOT_RUN_AS=1000680000", "NONROOT_VOLUMES=" + vol, "NONROOT_VOLUME_CHECK=warn"}, "--", "sh", "-c", "echo started; id")
		if r.Code != 78 || strings.Contains(r.Stdout, "started") {
			t.Errorf("%s /etc/passwd, RUN_AS without a GID: exit %d, stdout %q; want 78 and COMMAND not started\nstderr: %s", tt.name, r.Code, r.Stdout, r.Stderr)
		}
		for _, want := range []string{"/etc/passwd", tt.who, "NONROOT_RUN_AS=UID:GID"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%s: the error does not say %q:\n%s", tt.name, want, r.Stderr)
			}
		}
		var st syscall.Stat_t
		if err := syscall.Stat(vol, &st); err != nil {
			t.Fatal(err)
		}
		if st.Mode&0o7777 != 0o755 || st.Gid != 0 {
			t.Errorf("%s: the volume was changed before the error: mode %04o gid %d; want 0755 gid 0", tt.name, st.Mode&0o7777, st.Gid)
		}
	}
	// With the GID given, the passwd file is not needed for it.
	r := trust2Start(t, "0", []trust2Fixture{{"/etc/passwd", evil, 0o664}, {"/etc/group", trust2Group, 0o644}},
		[]string{"NONROOT_RUN_AS=1000680000:5000"}, "--", "cat", "/proc/self/status")
	if st := trust2Status(t, "RUN_AS=UID:GID", r); st.GIDs[0] != 5000 {
		t.Errorf("RUN_AS=1000680000:5000 with a writable /etc/passwd: gids %v; want 5000", st.GIDs)
	}
}

// TestTrust2PrivilegesWritableGroupDropsAll: when /etc/group (or
// /etc/passwd, which names root's other accounts) may be written by
// someone other than root, root's groups cannot be told from it (its
// author could have taken root out of disk's list): every group root
// started with is dropped except the target GID, with a warning naming
// the file. doctor's run-as line says the same, and doctor reports an
// untrusted /etc/passwd with RUN_AS without a GID as a problem.
func TestTrust2PrivilegesWritableGroupDropsAll(t *testing.T) {
	for _, tt := range []struct {
		name     string
		fixtures []trust2Fixture
		runAs    string
		want     []int
		file     string
	}{
		{"group 0664", []trust2Fixture{{"/etc/passwd", trust2Passwd, 0o644}, {"/etc/group", trust2Group, 0o664}}, "1000680000:5000", []int{5000}, "/etc/group"},
		{"group 0664, target 0 kept", []trust2Fixture{{"/etc/passwd", trust2Passwd, 0o644}, {"/etc/group", trust2Group, 0o664}}, "1000680000:0", []int{0}, "/etc/group"},
		{"passwd 0664", []trust2Fixture{{"/etc/passwd", trust2Passwd, 0o664}, {"/etc/group", trust2Group, 0o644}}, "1000680000:5000", []int{5000}, "/etc/passwd"},
	} {
		r := trust2Start(t, "0,6,2000", tt.fixtures, []string{"NONROOT_RUN_AS=" + tt.runAs}, "--", "cat", "/proc/self/status")
		st := trust2Status(t, tt.name, r)
		if !slices.Equal(st.Groups, tt.want) {
			t.Errorf("%s: started with groups 0,6,2000, RUN_AS=%s: COMMAND's groups %v; want %v", tt.name, tt.runAs, st.Groups, tt.want)
		}
		if !strings.Contains(r.Stderr, "level=WARN") || !strings.Contains(r.Stderr, tt.file) || !strings.Contains(r.Stderr, "every supplementary group") {
			t.Errorf("%s: no warning naming %s and saying every supplementary group is dropped:\n%s", tt.name, tt.file, r.Stderr)
		}
		d := trust2Start(t, "0,6,2000", tt.fixtures, []string{"NONROOT_RUN_AS=" + tt.runAs}, "doctor")
		line := ""
		for _, l := range strings.Split(d.Stdout, "\n") {
			if strings.Contains(l, "run as") {
				line = l
			}
		}
		want := "groups " + fmtInts(tt.want) + " "
		if !strings.Contains(line, want) || !strings.Contains(line, tt.file) {
			t.Errorf("%s: doctor's run-as line %q; want %q and %s named\n%s", tt.name, line, want, tt.file, d.Stdout)
		}
	}
	d := trust2Start(t, "0", []trust2Fixture{{"/etc/passwd", trust2Passwd, 0o664}}, []string{"NONROOT_RUN_AS=1000680000"}, "doctor")
	if d.Code == 0 || !strings.Contains(d.Stdout, "/etc/passwd") || !strings.Contains(d.Stdout, "NONROOT_RUN_AS=UID:GID") {
		t.Errorf("doctor with a group-writable /etc/passwd and RUN_AS without a GID: exit %d; want a problem naming /etc/passwd and NONROOT_RUN_AS=UID:GID\n%s", d.Code, d.Stdout)
	}
}

// fmtInts joins ids with commas.
func fmtInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ",")
}
