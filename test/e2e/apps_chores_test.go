package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// TestAppsEntrypointChoresPostgres replaces a docker-entrypoint.sh with
// settings, against a real PostgreSQL in the restricted-profile container
// (UID 1000680000, GID 0, read-only root, no capabilities): the server
// has password authentication with the password of a Secret file, and
// starts only after 8 s. A client started at once through `runc exec`
// gets PGPASSWORD from PGPASSWORD_FILE (NONROOT_FILE_ENV), waits for the
// server's socket (NONROOT_WAIT), runs a migration hook that creates a
// table (NONROOT_HOOKS), then its COMMAND reads the table. Without any of
// the three the client fails: no password, a hook that finds no server,
// or no table.
func TestAppsEntrypointChoresPostgres(t *testing.T) {
	pgDir := pgVersionDir(t)
	rfs := pgRootfs(t, pgDir)
	vol := volumeDir(t, 0, fsGroup, 0o2775)

	// The Secret volume: root-owned, readable by the pod's fsGroup, as
	// the kubelet makes it with defaultMode 0440 and fsGroup.
	secrets := t.TempDir()
	if err := os.WriteFile(filepath.Join(secrets, "password"), []byte("s3cret-Pa55\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(secrets, "password"), 0, fsGroup); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(secrets, 0o755); err != nil {
		t.Fatal(err)
	}
	// The migration hook, as an image's /docker-entrypoint.d would hold.
	hooks := t.TempDir()
	migrate := "#!/bin/sh\nset -e\npsql -v ON_ERROR_STOP=1 -h /tmp -U postgres -d postgres -c 'create table migrated (id int); insert into migrated values (42);' >&2\necho migrated >&2\n"
	if err := os.WriteFile(filepath.Join(hooks, "10-migrate.sh"), []byte(migrate), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(hooks, 0o755); err != nil {
		t.Fatal(err)
	}

	env := append(append([]string{}, bare...),
		"NONROOT_USERNAME=postgres", "NONROOT_VOLUMES=/shared", "TZ=UTC",
		"PATH="+filepath.Join(pgDir, "bin")+":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	mounts := []mount{{Src: vol, Dst: "/shared"}, {Src: secrets, Dst: "/run/secrets/db", RO: true}, {Src: hooks, Dst: "/docker-entrypoint.d", RO: true}}

	cmd, _, _ := pgCommand(t, rfs, box{
		Args:   []string{initPath, "--", "initdb", "-A", "scram-sha-256", "--pwfile=/run/secrets/db/password", "-U", "postgres", "--no-locale", "-E", "UTF8", "-D", "/shared/pgdata"},
		Env:    env,
		Mounts: mounts,
	})
	if r := harness.Wait(t, timeout, cmd); r.Code != 0 {
		t.Fatalf("initdb: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}

	srv, root, id := pgCommand(t, rfs, box{
		Args:   []string{initPath, "--", "/bin/sh", "-c", "echo ready; sleep 8; exec postgres -D /shared/pgdata -k /tmp -c listen_addresses="},
		Env:    env,
		Mounts: mounts,
	})
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var srvErr harness.SyncBuffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = srv.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = exec.Command("runc", "--root", root, "kill", id, "KILL").Run()
		select {
		case <-done:
		case <-time.After(timeout):
			harness.KillTree(srv.Process.Pid)
			<-done
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("server container: %q, %v\n%s", line, err, srvErr.String())
	}

	client := exec.Command("runc", "--root", root, "exec",
		"--env", "NONROOT_USERNAME=postgres",
		"--env", "NONROOT_STATE_DIR=/tmp/client",
		"--env", "NONROOT_FILE_ENV=PGPASSWORD",
		"--env", "PGPASSWORD_FILE=/run/secrets/db/password",
		"--env", "NONROOT_WAIT=unix:///tmp/.s.PGSQL.5432",
		"--env", "NONROOT_HOOKS=/docker-entrypoint.d",
		"--env", "PATH="+filepath.Join(pgDir, "bin")+":/usr/bin:/bin",
		id, initPath, "--", "psql", "-h", "/tmp", "-U", "postgres", "-d", "postgres", "-Atc", "select id from migrated")
	r := harness.Wait(t, 2*timeout, client)
	if r.Code != 0 || r.Stdout != "42\n" {
		t.Fatalf("client: exit %d, stdout %q; want 0, \"42\\n\"\nstderr: %s\nserver: %s", r.Code, r.Stdout, r.Stderr, srvErr.String())
	}
	for _, want := range []string{"migrated", "10-migrate.sh"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("client's stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, "s3cret-Pa55") {
		t.Errorf("the password is in the init's log:\n%s", r.Stderr)
	}
}
