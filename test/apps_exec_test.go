package test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// execSession is the shell a `kubectl exec` session runs through
// `nonroot-init exec`: who it is, its home, that the home is writable,
// and its parent (0: the process entering the namespace is outside it,
// so nothing of ours stayed between it and the shell).
const execSession = `whoami; echo ~; touch ~/probe && echo home-writable; echo "ppid=$PPID"`

// execContainer is a PID and mount namespace set up as a restricted
// container is: /etc/passwd without our UID (a bind-mounted copy), a
// private /tmp (a tmpfs holding the binaries in /tmp/bin), no
// XDG_RUNTIME_DIR or TMPDIR, so that STATE_DIR is /tmp/nonroot-init; its
// PID 1 runs as 1000680000:0.
type execContainer struct {
	pid  int // PID 1 of the namespace, as the test sees it
	init string
}

// startExecContainer starts the namespace with PID 1 running argv, in
// which "INIT" stands for the init's path inside the namespace, and waits
// for argv to print "ready".
func startExecContainer(t *testing.T, argv ...string) execContainer {
	t.Helper()
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "setpriv", "nsenter", "mount", "sh", "whoami", "cp")
	idNeedLib(t)
	real, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Skipf("no /etc/passwd: %v", err)
	}
	dir := idSharedDir(t)
	var kept []string
	for _, l := range strings.SplitAfter(string(real), "\n") {
		if f := strings.Split(l, ":"); len(f) > 2 && f[2] == strconv.Itoa(harness.OpenShiftUID) {
			continue
		}
		kept = append(kept, l)
	}
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	newTmp := filepath.Join(dir, "newtmp")
	if err := os.Mkdir(newTmp, 0o755); err != nil {
		t.Fatal(err)
	}
	const inside = "/tmp/bin/nonroot-init"
	for i, a := range argv {
		if a == "INIT" {
			argv[i] = inside
		}
	}
	script := `set -e
mount --bind "$1" /etc/passwd
mount -t tmpfs -o mode=1777 tmpfs "$2"
mkdir -m 0755 "$2/bin"
cp "$3" "$4" "$2/bin/"
mount --move "$2" /tmp
shift 4
exec setpriv --reuid ` + strconv.Itoa(harness.OpenShiftUID) + ` --regid 0 --clear-groups -- "$@"`
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
		"sh", "-c", script, "sh", passwd, newTmp, harness.Init(t), harness.Child(t)}, argv...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/"}
	stderr := &harness.SyncBuffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		harness.KillTree(cmd.Process.Pid)
		<-done
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		ready <- sc.Text()
	}()
	select {
	case l := <-ready:
		if l != "ready" {
			t.Fatalf("PID 1 printed %q; want ready\nstderr: %s", l, stderr.String())
		}
	case <-time.After(idTimeout):
		t.Fatalf("PID 1 not ready within %v\nstderr: %s", idTimeout, stderr.String())
	}
	pid, err := harness.ChildPID(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return execContainer{pid: pid, init: inside}
}

// exec runs argv in the namespace as 1000680000:0 with the environment a
// `kubectl exec` session has (the container's configured one: here PATH
// and HOME=/), not the one the init gave its COMMAND.
func (c execContainer) exec(t *testing.T, argv ...string) harness.Result {
	t.Helper()
	cmd := exec.Command("nsenter", append([]string{"--target", strconv.Itoa(c.pid), "--mount", "--pid", "--",
		"setpriv", "--reuid", strconv.Itoa(harness.OpenShiftUID), "--regid", "0", "--clear-groups", "--"}, argv...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/"}
	return harness.Wait(t, idTimeout, cmd)
}

// path is p inside the namespace, as the test (root) reaches it.
func (c execContainer) path(p string) string {
	return filepath.Join("/proc", strconv.Itoa(c.pid), "root", p)
}

// TestAppsExecSameUser: a second process entering the running
// container's namespaces, as `kubectl exec` does, gets through
// `nonroot-init exec` the user COMMAND has: its login name (whoami
// through the real libnss_wrapper) and its writable home, with the exec'd
// shell replacing nonroot-init (no supervision). Without it, the session
// has no name. The env file is ours, regular, 0600.
func TestAppsExecSameUser(t *testing.T) {
	c := startExecContainer(t, "INIT", "--", "sh", "-c", "echo ready; exec sleep 300")

	if r := c.exec(t, "whoami"); r.Code == 0 {
		t.Fatalf("without nonroot-init exec, whoami printed %q; the test needs a UID with no passwd entry", r.Stdout)
	}

	r := c.exec(t, c.init, "exec", "--", "sh", "-c", execSession)
	want := "default\n/tmp/nonroot-init/home\nhome-writable\nppid=0\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("nonroot-init exec in the running container: exit %d, stdout %q; want 0, %q\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
	}
	if r.Stderr != "" {
		t.Errorf("nonroot-init exec wrote on stderr with an init's identity to read:\n%s", r.Stderr)
	}

	var st syscall.Stat_t
	if err := syscall.Lstat(c.path("/tmp/nonroot-init/env"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode != syscall.S_IFREG|0o600 || st.Uid != harness.OpenShiftUID {
		t.Errorf("STATE_DIR/env: mode %o uid %d; want a regular file, 0600, owned by %d", st.Mode, st.Uid, harness.OpenShiftUID)
	}

	// Without "--", and the exec'd shell sees the init's nss_wrapper files.
	r = c.exec(t, c.init, "exec", "sh", "-c", `echo "$NSS_WRAPPER_PASSWD $USER $LOGNAME"`)
	if want := "/tmp/nonroot-init/passwd default default\n"; r.Code != 0 || r.Stdout != want {
		t.Errorf("nonroot-init exec sh: exit %d, stdout %q; want 0, %q\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
	}
}

// TestAppsExecRefusesPlantedEnv: an env file that is not ours (owned by
// root), a symbolic link (to a file of ours), one with another mode, or
// one with a line the init never writes is refused (78): COMMAND is not
// run, and nothing of the file is used.
func TestAppsExecRefusesPlantedEnv(t *testing.T) {
	c := startExecContainer(t, "INIT", "--", "sh", "-c", "echo ready; exec sleep 300")
	env := c.path("/tmp/nonroot-init/env")
	good, err := os.ReadFile(env)
	if err != nil {
		t.Fatal(err)
	}
	evil := []byte("HOME=/evil\nUSER=evil\nLOGNAME=evil\n")
	plant := func(t *testing.T, uid int, mode os.FileMode, content []byte) {
		t.Helper()
		tmp := env + ".planted"
		if err := os.WriteFile(tmp, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(tmp, uid, 0); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(tmp, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, env); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T)
		want  string
	}{
		{"owned by root", func(t *testing.T) { plant(t, 0, 0o600, evil) }, "owned by uid 0"},
		{"mode 0644", func(t *testing.T) { plant(t, harness.OpenShiftUID, 0o644, evil) }, "mode 0644"},
		{"unknown variable", func(t *testing.T) {
			plant(t, harness.OpenShiftUID, 0o600, append(append([]byte{}, good...), "PATH=/evil\n"...))
		}, "PATH"},
		{"symbolic link", func(t *testing.T) {
			target := c.path("/tmp/ours")
			if err := os.WriteFile(target, evil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(target, harness.OpenShiftUID, 0); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(env); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/tmp/ours", env); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.plant(t)
			r := c.exec(t, c.init, "exec", "--", "sh", "-c", "echo COMMAND ran; whoami")
			if r.Code != 78 || r.Stdout != "" {
				t.Errorf("exit %d, stdout %q; want 78 and COMMAND not run\nstderr: %s", r.Code, r.Stdout, r.Stderr)
			}
			if !strings.Contains(r.Stderr, tc.want) || !strings.Contains(r.Stderr, "/tmp/nonroot-init/env") {
				t.Errorf("stderr does not name the file and %q:\n%s", tc.want, r.Stderr)
			}
		})
	}
}

// TestAppsExecNoRunningInit: with no init in the container (PID 1 is
// sleep), `nonroot-init exec` provides the identity itself, as step 2
// would, and writes no STATE_DIR/env (that file marks a running init).
func TestAppsExecNoRunningInit(t *testing.T) {
	c := startExecContainer(t, "sh", "-c", "echo ready; exec sleep 300")
	r := c.exec(t, c.init, "exec", "--", "sh", "-c", execSession)
	want := "default\n/tmp/nonroot-init/home\nhome-writable\nppid=0\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("nonroot-init exec without an init: exit %d, stdout %q; want 0, %q\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
	}
	if _, err := os.Lstat(c.path("/tmp/nonroot-init/env")); !os.IsNotExist(err) {
		t.Errorf("nonroot-init exec wrote STATE_DIR/env (lstat: %v)", err)
	}
	if _, err := os.Lstat(c.path("/tmp/nonroot-init/passwd")); err != nil {
		t.Errorf("nonroot-init exec provided no nss_wrapper passwd: %v", err)
	}
}

// TestAppsExecStatus: exec's own exit statuses: 2 for a usage error
// (no COMMAND, an unknown option), 127 and 126 as the init's, and
// --help 0.
func TestAppsExecStatus(t *testing.T) {
	dir := idSharedDir(t)
	noexec := filepath.Join(dir, "script")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"exec"}, 2},
		{[]string{"exec", "--"}, 2},
		{[]string{"exec", "--bogus", "sh"}, 2},
		{[]string{"exec", "--", "nonroot-init-no-such-command"}, 127},
		{[]string{"exec", "--", noexec}, 126},
		{[]string{"exec", "--help"}, 0},
		{[]string{"exec", "--", "sh", "-c", "exit 7"}, 7},
	} {
		r := harness.Run(t, idTimeout, harness.Opts{Env: []string{"NONROOT_STATE_DIR=" + filepath.Join(dir, "state")}}, tc.args...)
		if r.Code != tc.want {
			t.Errorf("nonroot-init %q: exit %d; want %d\nstderr: %s", tc.args, r.Code, tc.want, r.Stderr)
		}
	}
}

// TestAppsExecSSH: ssh refuses to start for a UID without a passwd entry
// ("No user exists for uid"); in a session through `nonroot-init exec` it
// finds the user the init gave COMMAND.
func TestAppsExecSSH(t *testing.T) {
	harness.NeedTool(t, "ssh")
	c := startExecContainer(t, "INIT", "--", "sh", "-c", "echo ready; exec sleep 300")
	if r := c.exec(t, "ssh", "-G", "localhost"); r.Code == 0 {
		t.Fatalf("ssh without nonroot-init exec started (stdout %q); the test needs a UID with no entry", r.Stdout)
	}
	r := c.exec(t, c.init, "exec", "--", "ssh", "-G", "localhost")
	if r.Code != 0 || !strings.Contains(r.Stdout, "\nuser default\n") {
		t.Errorf("nonroot-init exec -- ssh -G localhost: exit %d; want 0 and user default\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
}
