package test

import (
	"context"
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

// Tests of issue #11's identity items with real programs: PostgreSQL
// under an image user's name, an injected entry whose home is /, fsGroup
// names, git's author name.

// takeCmd returns the command that runs the init with args as
// harness.OpenShiftUID, GID 0 and groups, with HOME=/, in new mount and
// PID namespaces where passwd (the image's passwd file, when not empty)
// is bind-mounted over /etc/passwd. The real /etc/passwd is never
// written. env is added to the init's environment.
func takeCmd(t *testing.T, passwd string, groups []int, env []string, args ...string) *exec.Cmd {
	t.Helper()
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "setpriv", "mount", "sh")
	prepare := ":"
	if passwd != "" {
		copyPath := filepath.Join(harness.SharedDir(t), "passwd")
		if err := os.WriteFile(copyPath, []byte(passwd), 0o644); err != nil {
			t.Fatal(err)
		}
		prepare = `mount --bind "` + copyPath + `" /etc/passwd`
	}
	ids := "--clear-groups"
	if len(groups) > 0 {
		gs := make([]string, len(groups))
		for i, g := range groups {
			gs[i] = strconv.Itoa(g)
		}
		ids = "--groups " + strings.Join(gs, ",")
	}
	script := "set -e\n" + prepare + "\nexec setpriv --reuid " + strconv.Itoa(harness.OpenShiftUID) + " --regid 0 " + ids + ` -- "$@"`
	argv := append([]string{"--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
		"sh", "-c", script, "sh", harness.Init(t)}, args...)
	cmd := exec.Command("unshare", argv...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=/", "TMPDIR=" + harness.SharedDir(t)}, env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func takeRun(t *testing.T, passwd string, groups []int, env []string, args ...string) harness.Result {
	t.Helper()
	return harness.Wait(t, idTimeout, takeCmd(t, passwd, groups, env, args...))
}

// takeImagePasswd is the machine's passwd with extra lines, as an
// image's would be.
func takeImagePasswd(t *testing.T, extra ...string) string {
	t.Helper()
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Skipf("no /etc/passwd: %v", err)
	}
	var kept []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		name, _, _ := strings.Cut(l, ":")
		drop := false
		for _, e := range extra {
			if n, _, _ := strings.Cut(e, ":"); n == name {
				drop = true
			}
		}
		if !drop {
			kept = append(kept, l)
		}
	}
	return strings.Join(append(kept, extra...), "\n") + "\n"
}

// takePGBin returns PostgreSQL's server binaries directory (Debian's
// postgresql package).
func takePGBin(t *testing.T) string {
	t.Helper()
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(m) == 0 {
		t.Skip("needs PostgreSQL (.ci/run installs Debian's postgresql)")
	}
	return filepath.Dir(m[len(m)-1])
}

// TestAppsTakePostgreSQL: NONROOT_USERNAME=postgres takes over the
// image's postgres (UID 101): initdb, the server as COMMAND, psql with
// no -U or -d connects as postgres, getent passwd postgres shows our
// UID, and SIGTERM to the init stops the server with status 0.
func TestAppsTakePostgreSQL(t *testing.T) {
	idNeedLib(t)
	bin := takePGBin(t)
	harness.NeedTool(t, "getent")
	passwd := takeImagePasswd(t, "postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash")
	dir := harness.SharedDir(t)
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	if err := os.Mkdir(sock, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o777); err != nil {
		t.Fatal(err)
	}
	env := []string{"NONROOT_USERNAME=postgres", "PATH=" + bin + ":" + os.Getenv("PATH")}

	r := takeRun(t, passwd, nil, env, "--", "sh", "-c", `getent passwd postgres; id -un`)
	if r.Code != 0 || r.Stdout != "postgres:x:1000680000:0:PostgreSQL administrator,,,:"+firstField(r.Stdout, 5)+":/bin/bash\npostgres\n" {
		t.Fatalf("getent passwd postgres; id -un: exit %d, stdout %q; want one postgres line of uid 1000680000 gid 0 with the image's GECOS and shell\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	r = takeRun(t, passwd, nil, env, "--", "initdb", "-A", "trust", "-D", data)
	if r.Code != 0 {
		t.Fatalf("initdb: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}

	srv := takeCmd(t, passwd, nil, env, "--", "postgres", "-D", data, "-k", sock, "-c", "listen_addresses=")
	var srvErr harness.SyncBuffer
	srv.Stdout, srv.Stderr = &srvErr, &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = srv.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			harness.KillTree(srv.Process.Pid)
			select {
			case <-done:
			case <-time.After(idTimeout):
				t.Errorf("the server's init did not exit after SIGKILL")
			}
		}
	})

	var q harness.Result
	ctx, cancel := context.WithTimeout(context.Background(), idTimeout)
	defer cancel()
	ready := harness.WaitFor(ctx, func() bool {
		q = takeRun(t, passwd, nil, env, "--", "psql", "-h", sock, "-Atc", "select current_user")
		return q.Code == 0
	})
	if !ready || q.Stdout != "postgres\n" {
		t.Fatalf("psql -h %s -c 'select current_user': exit %d, stdout %q; want postgres\nstderr: %s\nserver: %s", sock, q.Code, q.Stdout, q.Stderr, srvErr.String())
	}

	initPID, err := harness.ChildPID(srv.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(initPID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("init after SIGTERM: %v; want exit 0 (the server stopped)\n%s", waitErr, srvErr.String())
		}
	case <-time.After(idTimeout):
		t.Fatalf("the init did not exit within %v of SIGTERM\n%s", idTimeout, srvErr.String())
	}
}

// firstField returns field n (0-based) of the first line of s, split on
// colons: the home the init chose, which the test does not fix.
func firstField(s string, n int) string {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Split(line, ":")
	if n < len(f) {
		return f[n]
	}
	return ""
}

// TestAppsTakeInjectedHome: an entry for our UID injected with home /
// (CRI-O, podman): Python's Path.home() without $HOME, getent's home and
// ssh-keygen's default key path are in a writable directory.
func TestAppsTakeInjectedHome(t *testing.T) {
	idNeedLib(t)
	harness.NeedTool(t, "getent", "ssh-keygen")
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3 (.ci/run installs python3)")
	}
	passwd := takeImagePasswd(t, "1000680000:x:1000680000:0::/:/bin/sh")
	script := `set -e
home=$(getent passwd 1000680000 | cut -d: -f6)
echo "getent=$home"
echo "python=$(env -u HOME /usr/bin/python3 -c 'import pathlib; print(pathlib.Path.home())')"
echo | ssh-keygen -q -t ed25519 -N '' >/dev/null
test -f "$home/.ssh/id_ed25519" && echo "key=$home/.ssh/id_ed25519"
touch "$home/probe" && echo writable`
	r := takeRun(t, passwd, nil, nil, "--", "sh", "-c", script)
	lines := idLines(r.Stdout)
	if r.Code != 0 || len(lines) != 4 {
		t.Fatalf("exit %d, stdout %q; want getent, python, key and writable lines\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	home := strings.TrimPrefix(lines[0], "getent=")
	if home == "/" || !strings.HasPrefix(home, "/") {
		t.Errorf("getent passwd 1000680000 home %q; want a writable directory, not /", home)
	}
	if lines[1] != "python="+home || lines[2] != "key="+home+"/.ssh/id_ed25519" || lines[3] != "writable" {
		t.Errorf("stdout %q; want Path.home() and ssh-keygen's default key in %s, writable", r.Stdout, home)
	}
	if !strings.Contains(r.Stderr, "another home") {
		t.Errorf("the log does not say why the entry was copied:\n%s", r.Stderr)
	}
}

// TestAppsTakeFSGroup: with supplementary groups the image has no entry
// for (a pod's fsGroup), id and groups name every group.
func TestAppsTakeFSGroup(t *testing.T) {
	idNeedLib(t)
	harness.NeedTool(t, "id", "groups")
	r := takeRun(t, "", []int{1000680000, 5555}, nil, "--", "sh", "-c", "id 2>&1; groups 2>&1")
	if r.Code != 0 || strings.Contains(r.Stdout, "cannot find name") || !strings.Contains(r.Stdout, "5555(") || !strings.Contains(r.Stdout, "1000680000(") {
		t.Errorf("id; groups: exit %d, stdout %q; want every group named\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestAppsTakeGitAuthor: git commit, with user.email but no user.name,
// credits the login name, or NONROOT_GECOS.
func TestAppsTakeGitAuthor(t *testing.T) {
	idNeedLib(t)
	harness.NeedTool(t, "git")
	script := `set -e
cd "$(mktemp -d)"
git init -q
git config user.email dev@example.com
git commit -q --allow-empty -m test
git log -1 --format=%an`
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "default"},
		{[]string{"NONROOT_GECOS=Jane Doe"}, "Jane Doe"},
		{[]string{"NONROOT_USERNAME=appuser"}, "appuser"},
	} {
		r := takeRun(t, "", nil, tc.env, "--", "sh", "-c", script)
		if r.Code != 0 || r.Stdout != tc.want+"\n" {
			t.Errorf("%v: git author %q (exit %d); want %q\nstderr: %s", tc.env, r.Stdout, r.Code, tc.want, r.Stderr)
		}
	}
}
