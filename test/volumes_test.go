package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

const volTimeout = 60 * time.Second

// volDir returns a fresh directory, owner root:root mode 0755, whose
// parent any UID can search (t.TempDir's parent is 0700).
func volDir(t *testing.T) string {
	t.Helper()
	d := harness.SharedDir(t)
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// volEmpty fails the test if the probe left anything in dir.
func volEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s holds %d entries after the check (first %q); want none", dir, len(entries), entries[0].Name())
	}
}

func volStarted(r harness.Result) bool { return strings.Contains(r.Stdout, `["started"]`) }

func volWantAll(t *testing.T, r harness.Result, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.Stderr)
		}
	}
}

func TestVolumesRootOwnedDirFails(t *testing.T) {
	harness.NeedRoot(t)
	d := volDir(t)
	r := harness.Run(t, volTimeout, harness.Opts{UID: harness.OpenShiftUID, GID: 0, Env: []string{"NONROOT_VOLUMES=" + d}},
		"--", harness.Child(t), "args", "started")
	if r.Code != 78 || volStarted(r) {
		t.Fatalf("root-owned 0755 volume as uid %d: exit %d, COMMAND started %v; want 78, not started\nstderr: %s", harness.OpenShiftUID, r.Code, volStarted(r), r.Stderr)
	}
	volWantAll(t, r, "NONROOT_VOLUMES: "+d, "not writable by uid 1000680000 (groups 0)", "owner root:root mode 0755", "fsGroup")
	volEmpty(t, d)
}

func TestVolumesSupplementaryGroup(t *testing.T) {
	harness.NeedRoot(t)
	d := volDir(t)
	if err := os.Chown(d, 0, 4321); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o775|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	env := []string{"NONROOT_VOLUMES=" + d}
	r := harness.Run(t, volTimeout, harness.Opts{UID: harness.OpenShiftUID, GID: 0, Groups: []int{4321}, Env: env},
		"--", harness.Child(t), "args", "started")
	if r.Code != 0 || !volStarted(r) {
		t.Fatalf("setgid 2775 volume of group 4321, process in group 4321: exit %d, started %v; want 0, started\nstderr: %s", r.Code, volStarted(r), r.Stderr)
	}
	volWantAll(t, r, "volumes are writable")
	volEmpty(t, d)

	// The same directory without the supplementary group names the group.
	r = harness.Run(t, volTimeout, harness.Opts{UID: harness.OpenShiftUID, GID: 0, Env: env},
		"--", harness.Child(t), "args", "started")
	if r.Code != 78 {
		t.Fatalf("without group 4321: exit %d; want 78\nstderr: %s", r.Code, r.Stderr)
	}
	volWantAll(t, r, "owner root:4321 mode 2775", "runAsGroup: 4321", "supplementalGroups: [4321]")
}

// volInMountNS runs the init as root in a private mount namespace after
// the shell prelude, which gets the volume as $1.
func volInMountNS(t *testing.T, prelude, dir string, env []string, args ...string) harness.Result {
	t.Helper()
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "mount")
	script := prelude + `; shift; exec "$@"`
	argv := append([]string{"--mount", "--propagation", "private", "sh", "-c", script, "sh", dir, harness.Init(t)}, args...)
	cmd := exec.Command("unshare", argv...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	return harness.Wait(t, volTimeout, cmd)
}

func TestVolumesReadOnlyBindMount(t *testing.T) {
	d := volDir(t)
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	r := volInMountNS(t, `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"`, d,
		[]string{"NONROOT_VOLUMES=" + d}, "--", harness.Child(t), "args", "started")
	if r.Code != 78 || volStarted(r) {
		t.Fatalf("read-only bind mount: exit %d, started %v; want 78, not started\nstderr: %s", r.Code, volStarted(r), r.Stderr)
	}
	volWantAll(t, r, d+" is on a read-only filesystem", "readOnly: true")
}

func TestVolumesFullTmpfs(t *testing.T) {
	harness.NeedTool(t, "dd")
	d := volDir(t)
	r := volInMountNS(t, `mount -t tmpfs -o size=64k,mode=0777 tmpfs "$1" && { dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; true; }`, d,
		[]string{"NONROOT_VOLUMES=" + d}, "--", harness.Child(t), "args", "started")
	if r.Code != 78 || volStarted(r) {
		t.Fatalf("full tmpfs: exit %d, started %v; want 78, not started\nstderr: %s", r.Code, volStarted(r), r.Stderr)
	}
	volWantAll(t, r, d+" has no space left", "free of 64 KiB", "make it larger")
}

func TestVolumesMissingPath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "data")
	r := harness.Run(t, volTimeout, harness.Opts{Env: []string{"NONROOT_VOLUMES=" + missing}},
		"--", harness.Child(t), "args", "started")
	if r.Code != 78 || volStarted(r) {
		t.Fatalf("missing volume: exit %d, started %v; want 78\nstderr: %s", r.Code, volStarted(r), r.Stderr)
	}
	volWantAll(t, r, missing+" does not exist", "mount a volume at "+missing)
}

func TestVolumesAllReportedTogether(t *testing.T) {
	harness.NeedRoot(t)
	d := volDir(t)
	rootOwned := filepath.Join(d, "root-owned")
	file := filepath.Join(d, "file")
	missing := filepath.Join(d, "missing")
	ok := filepath.Join(d, "ok")
	for _, p := range []string{rootOwned, ok} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(ok, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	r := harness.Run(t, volTimeout, harness.Opts{UID: harness.OpenShiftUID, GID: 0,
		Env: []string{"NONROOT_VOLUMES=" + strings.Join([]string{rootOwned, ok, file, missing}, ",")}},
		"--", harness.Child(t), "args", "started")
	if r.Code != 78 || volStarted(r) {
		t.Fatalf("three bad volumes: exit %d, started %v; want 78\nstderr: %s", r.Code, volStarted(r), r.Stderr)
	}
	volWantAll(t, r, "3 problems:", rootOwned+" is not writable", file+" is a regular file", missing+" does not exist")
	if strings.Contains(r.Stderr, ok+" ") {
		t.Errorf("the writable volume %s is reported:\n%s", ok, r.Stderr)
	}
	volEmpty(t, ok)
}

func TestVolumesWarnRunsCommand(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "data")
	r := harness.Run(t, volTimeout, harness.Opts{Env: []string{"NONROOT_VOLUMES=" + missing, "NONROOT_VOLUME_CHECK=warn"}},
		"--", harness.Child(t), "args", "started")
	if r.Code != 0 || !volStarted(r) {
		t.Fatalf("warn mode: exit %d, started %v; want 0, started\nstderr: %s", r.Code, volStarted(r), r.Stderr)
	}
	volWantAll(t, r, "level=WARN", "NONROOT_VOLUME_CHECK=warn", "does not exist")

	r = harness.Run(t, volTimeout, harness.Opts{Env: []string{"NONROOT_VOLUMES=" + missing, "NONROOT_VOLUME_CHECK=off"}},
		"--", harness.Child(t), "args", "started")
	if r.Code != 0 || !volStarted(r) || strings.Contains(r.Stderr, missing) {
		t.Fatalf("off mode: exit %d, started %v; want 0, started, nothing said\nstderr: %s", r.Code, volStarted(r), r.Stderr)
	}
}

func TestVolumesDoctorWritesNothing(t *testing.T) {
	harness.NeedRoot(t)
	d := volDir(t)
	good := volDir(t)
	if err := os.Chmod(good, 0o777); err != nil {
		t.Fatal(err)
	}
	// doctor must not even try a probe file: a 0777 directory it could
	// write to stays unchanged, ctime included.
	before, err := os.Stat(good)
	if err != nil {
		t.Fatal(err)
	}
	r := harness.Run(t, volTimeout, harness.Opts{UID: harness.OpenShiftUID, GID: 0, Env: []string{"NONROOT_VOLUMES=" + d + "," + good}}, "doctor")
	if r.Code != 1 {
		t.Fatalf("doctor with a root-owned volume: exit %d; want 1\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	for _, w := range []string{"faccessat(AT_EACCESS)", d + ":", "NOT writable", "owner root:root mode 0755", "PROBLEM: NONROOT_VOLUMES: " + d, "fsGroup", good + ":"} {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("doctor output lacks %q:\n%s", w, r.Stdout)
		}
	}
	after, err := os.Stat(good)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("doctor changed %s (mtime %v -> %v); want nothing written", good, before.ModTime(), after.ModTime())
	}
	volEmpty(t, good)
}
