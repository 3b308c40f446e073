package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// The image's postgres user (Debian's postgresql package) the test takes
// over.
const (
	pgPasswdLine = "postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n"
	pgGroupLine  = "postgres:x:104:\n"
)

// pgVersionDir returns Debian's /usr/lib/postgresql/N, skipping the test
// when PostgreSQL is not installed.
func pgVersionDir(t *testing.T) string {
	t.Helper()
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(m) == 0 {
		t.Skip("needs PostgreSQL (.ci/run installs Debian's postgresql)")
	}
	return filepath.Dir(filepath.Dir(m[len(m)-1]))
}

// pgRootfs assembles a root filesystem of its own for the PostgreSQL
// test: the shared one's content, plus initdb, postgres, pg_ctl and psql
// with their libraries, the modules initdb loads, the share directory,
// the UTC zone, and an image passwd with postgres (UID 101).
func pgRootfs(t *testing.T, pgDir string) string {
	t.Helper()
	harness.NeedRoot(t)
	dir := t.TempDir()
	if err := assemble(dir, harness.Init(t), harness.Child(t), dockerfileImage(t)); err != nil {
		t.Fatalf("assemble root filesystem: %v", err)
	}
	var files []string
	for _, b := range []string{"initdb", "postgres", "pg_ctl", "psql"} {
		files = append(files, filepath.Join(pgDir, "bin", b))
	}
	// initdb creates the text search dictionaries and PL/pgSQL.
	for _, l := range []string{"dict_snowball.so", "plpgsql.so"} {
		files = append(files, filepath.Join(pgDir, "lib", l))
	}
	for _, f := range files {
		if err := copyWithLibraries(f, dir); err != nil {
			t.Fatalf("copy %s: %v", f, err)
		}
	}
	share := filepath.Join("/usr/share/postgresql", filepath.Base(pgDir))
	if err := copyTree(share, dir, "man"); err != nil {
		t.Fatalf("copy %s: %v", share, err)
	}
	for _, z := range []string{"/usr/share/zoneinfo/Etc/UTC", "/usr/share/zoneinfo/UTC"} {
		if err := copyFile("/usr/share/zoneinfo/Etc/UTC", filepath.Join(dir, z), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{"/etc/passwd": etcPasswd + pgPasswdLine, "/etc/group": etcGroup + pgGroupLine} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyTree copies the regular files under src to the same paths under
// dir, leaving out the subdirectories named in skip.
func copyTree(src, dir string, skip ...string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, s := range skip {
			if d.IsDir() && p == filepath.Join(src, s) {
				return filepath.SkipDir
			}
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, filepath.Join(dir, p), 0o644)
	})
}

// pgCommand is command for b on the root filesystem rfs.
func pgCommand(t *testing.T, rfs string, b box) (cmd *exec.Cmd, root, id string) {
	t.Helper()
	harness.NeedTool(t, "runc")
	tmp := t.TempDir()
	root, dir := filepath.Join(tmp, "state"), filepath.Join(tmp, "bundle")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	id = fmt.Sprintf("nonroot-init-e2e-pg-%d-%d", os.Getpid(), containerSeq.Add(1))
	data, err := json.MarshalIndent(ociConfig(rfs, b, dockerfileImage(t)), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("runc", "--root", root, "delete", "--force", id).CombinedOutput(); err != nil && !strings.Contains(string(out), "does not exist") {
			t.Logf("runc delete %s: %v: %s", id, err, out)
		}
	})
	return exec.Command("runc", "--root", root, "run", "--bundle", dir, id), root, id
}

// TestAppsPostgresRunc: in the restricted-profile container (UID
// 1000680000, GID 0, read-only root, no capabilities) with
// NONROOT_USERNAME=postgres taking over the image's postgres: getent
// passwd postgres shows our UID, initdb makes a cluster on an
// fsGroup-owned volume, the server runs as COMMAND with its socket in the
// /tmp emptyDir, psql in a `runc exec` session (through `nonroot-init
// exec`, with no -U or -d) connects as postgres, and `runc kill TERM`
// stops the server with the container's status 0.
func TestAppsPostgresRunc(t *testing.T) {
	pgDir := pgVersionDir(t)
	rfs := pgRootfs(t, pgDir)
	vol := volumeDir(t, 0, fsGroup, 0o2775)
	env := append(append([]string{}, bare...),
		"NONROOT_USERNAME=postgres", "NONROOT_VOLUMES=/shared", "TZ=UTC",
		"PATH="+filepath.Join(pgDir, "bin")+":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	mounts := []mount{{Src: vol, Dst: "/shared"}}

	// initdb's output goes to stderr, so that stdout is getent's line.
	cmd, _, _ := pgCommand(t, rfs, box{
		Args:   []string{initPath, "--", "/bin/sh", "-c", "getent passwd postgres && exec initdb -A trust --no-locale -E UTF8 -D /shared/pgdata >&2"},
		Env:    env,
		Mounts: mounts,
	})
	r := harness.Wait(t, timeout, cmd)
	if r.Code != 0 {
		t.Fatalf("getent passwd postgres; initdb: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if want := fmt.Sprintf("postgres:x:%d:0:PostgreSQL administrator,,,:%s:/bin/bash\n", uid, pgField(r.Stdout, 5)); r.Stdout != want || pgField(r.Stdout, 5) == "" {
		t.Fatalf("getent passwd postgres: %q; want one line of uid %d gid 0 with the image's GECOS and shell\nstderr: %s", r.Stdout, uid, r.Stderr)
	}

	srv, root, id := pgCommand(t, rfs, box{
		Args:   []string{initPath, "--", "postgres", "-D", "/shared/pgdata", "-k", "/tmp", "-c", "listen_addresses="},
		Env:    env,
		Mounts: mounts,
	})
	var srvOut harness.SyncBuffer
	srv.Stdout, srv.Stderr = &srvOut, &srvOut
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
			_ = exec.Command("runc", "--root", root, "kill", id, "KILL").Run()
			select {
			case <-done:
			case <-time.After(timeout):
				harness.KillTree(srv.Process.Pid)
				<-done
			}
		}
	})

	var q harness.Result
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ready := harness.WaitFor(ctx, func() bool {
		select {
		case <-done:
			return true
		default:
		}
		q = runcExec(t, root, id, initPath, "exec", "--", "psql", "-h", "/tmp", "-Atc", "select current_user")
		return q.Code == 0
	})
	if !ready || q.Stdout != "postgres\n" {
		t.Fatalf("psql -h /tmp -c 'select current_user' in a runc exec session: exit %d, stdout %q; want postgres\nstderr: %s\nserver: %s", q.Code, q.Stdout, q.Stderr, srvOut.String())
	}

	if out, err := exec.Command("runc", "--root", root, "kill", id, "TERM").CombinedOutput(); err != nil {
		t.Fatalf("runc kill %s TERM: %v: %s", id, err, out)
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("container after runc kill TERM: %v; want exit 0 (the server stopped)\n%s", waitErr, srvOut.String())
		}
	case <-time.After(timeout):
		t.Fatalf("the container did not exit within %v of runc kill TERM\n%s", timeout, srvOut.String())
	}
}

// pgField returns field n (0-based) of the first line of s, split on
// colons: the home the init chose, which the test does not fix.
func pgField(s string, n int) string {
	line, _, _ := strings.Cut(s, "\n")
	if f := strings.Split(line, ":"); n < len(f) {
		return f[n]
	}
	return ""
}
