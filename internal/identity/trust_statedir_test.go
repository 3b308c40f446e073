package identity

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"golang.org/x/sys/unix"
)

// Issue #9 item 6: a STATE_DIR candidate below a directory that another
// user can rename entries of is skipped.

func TestTrustHostileDir(t *testing.T) {
	const me = 1000680000
	tests := []struct {
		mode    uint32
		uid     uint32
		hostile bool
	}{
		{0o755, 0, false},
		{0o1777, 0, false},   // /tmp
		{0o1770, 0, false},   // sticky, group-writable
		{0o700, me, false},   // our own
		{0o777, me, true},    // our own, but anyone may rename in it
		{0o777, 0, true},     // XDG_RUNTIME_DIR made 0777
		{0o775, 0, true},     // group-writable
		{0o2775, 0, true},    // setgid is not sticky
		{0o757, 0, true},     // others-writable
		{0o755, 4242, true},  // another user's: they may chmod it
		{0o1777, 4242, true}, // sticky does not bind its owner
	}
	for _, tt := range tests {
		st := unix.Stat_t{Mode: unix.S_IFDIR | tt.mode, Uid: tt.uid}
		err := hostileDir("/x", &st, me)
		var he *HostileDirError
		if got := errors.As(err, &he); got != tt.hostile {
			t.Errorf("hostileDir(mode %04o, uid %d) = %v; want hostile %v", tt.mode, tt.uid, err, tt.hostile)
		}
	}
}

// trustDirs makes each directory of dirs (relative to root) with its mode.
func trustDirs(t *testing.T, root string, dirs []struct {
	path string
	mode os.FileMode
}) {
	t.Helper()
	for _, d := range dirs {
		p := filepath.Join(root, d.path)
		must(t, os.Mkdir(p, 0o700))
		must(t, os.Chmod(p, d.mode))
	}
}

func TestTrustOpenStateDirHostileParent(t *testing.T) {
	root := t.TempDir()
	trustDirs(t, root, []struct {
		path string
		mode os.FileMode
	}{
		{"open", 0o777},
		{"open2", 0o777},
		{"open2/sticky", 0o777 | os.ModeSticky}, // a sticky parent below an open one
		{"good", 0o755},
	})
	must(t, os.Symlink(filepath.Join(root, "good"), filepath.Join(root, "link")))
	hostile := []string{filepath.Join(root, "open", stateDirName), filepath.Join(root, "open2", "sticky", stateDirName)}
	candidates := append(append([]string{}, hostile...), filepath.Join(root, "link", stateDirName))
	sd, skipped, err := openStateDir(candidates, os.Geteuid())
	if err != nil {
		t.Fatalf("openStateDir(%v): %v; want the last one", candidates, err)
	}
	defer sd.close()
	// The path COMMAND is given has no symbolic link, so that what was
	// checked is what its lookups walk.
	if want := filepath.Join(root, "good", stateDirName); sd.path != want {
		t.Errorf("openStateDir picked %s; want %s", sd.path, want)
	}
	if len(skipped) != 2 {
		t.Fatalf("skipped = %v; want the two hostile candidates", skipped)
	}
	for i, err := range skipped {
		var he *HostileDirError
		if !errors.As(err, &he) || !strings.Contains(err.Error(), hostile[i]) {
			t.Errorf("skipped[%d] = %v; want a HostileDirError naming %s", i, err, hostile[i])
		}
	}
	for _, d := range []string{"open", "open2/sticky"} {
		if ents, _ := os.ReadDir(filepath.Join(root, d)); len(ents) != 0 {
			t.Errorf("created below the hostile %s: %v", d, ents)
		}
	}

	if os.Geteuid() == 0 {
		foreign := filepath.Join(root, "foreign")
		must(t, os.Mkdir(foreign, 0o755))
		must(t, os.Chown(foreign, 4321, 4321))
		if sd, _, err := openStateDir([]string{filepath.Join(foreign, stateDirName)}, os.Geteuid()); err == nil {
			sd.close()
			t.Errorf("openStateDir accepted a parent owned by uid 4321")
		}
	}
}

func TestTrustProvideAndInspectSkipHostileParent(t *testing.T) {
	f := newFixture(t, true)
	open := filepath.Join(f.root, "open")
	must(t, os.Mkdir(open, 0o700))
	must(t, os.Chmod(open, 0o777))
	tmp := filepath.Join(f.root, "tmp")
	must(t, os.Mkdir(tmp, 0o700))
	must(t, os.Chmod(tmp, 0o777|os.ModeSticky))
	o := f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/", "XDG_RUNTIME_DIR": open, "TMPDIR": tmp})
	o.StateDir = ""

	in := Inspect(o)
	want := filepath.Join(tmp, stateDirName)
	if in.StateDir != want || in.StateErr != nil || len(in.StateSkipped) != 1 {
		t.Errorf("Inspect: state dir %q, %v, skipped %v; want %s, skipping %s", in.StateDir, in.StateErr, in.StateSkipped, want, open)
	}
	res, err := Provide(o, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if got := envOf(res)["NSS_WRAPPER_PASSWD"]; got != filepath.Join(want, "passwd") {
		t.Errorf("NSS_WRAPPER_PASSWD=%s; want it in %s", got, want)
	}
	if ents, _ := os.ReadDir(open); len(ents) != 0 {
		t.Errorf("created below the hostile %s: %v", open, ents)
	}
}
