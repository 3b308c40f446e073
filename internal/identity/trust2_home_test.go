package identity

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"golang.org/x/sys/unix"
)

// Second review of issue #9: an inherited HOME that another user could
// plant files in (/tmp, a 0777 directory, one of another UID, one below
// a directory others may rename entries of) is not COMMAND's HOME.

func TestTrust2Plantable(t *testing.T) {
	const us = 1000680000
	tests := []struct {
		mode, owner uint32
		self        bool
		want        string // a word of the reason, "" for none
	}{
		{0o700, us, true, ""},
		{0o755, 0, true, ""},
		{0o775, 0, true, ""},  // OpenShift: 0775 root:0
		{0o770, us, true, ""}, // group write is allowed
		{0o1777, 0, true, "others may write"},
		{0o777, 0, true, "others may write"},
		{0o703, us, true, "others may write"},
		{0o700, 1000, true, "uid 1000"},
		{0o1777, 0, false, ""}, // /tmp above the home: sticky
		{0o777, 0, false, "no sticky bit"},
		{0o775, 0, false, ""},
		{0o755, 1000, false, "uid 1000"},
	}
	for _, tt := range tests {
		got := plantable(tt.mode, tt.owner, us, tt.self)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("plantable(%04o, uid %d, self %v) = %q; want %q", tt.mode, tt.owner, tt.self, got, tt.want)
		}
	}
}

// trust2Dir makes dir with mode (the umask cannot take bits away).
func trust2Dir(t *testing.T, dir string, mode os.FileMode) string {
	t.Helper()
	must(t, os.Mkdir(dir, 0o700))
	must(t, os.Chmod(dir, mode))
	return dir
}

func TestTrust2ChooseHomeShared(t *testing.T) {
	f := newFixture(t, false)
	base := t.TempDir()
	sticky := trust2Dir(t, filepath.Join(base, "tmp"), 0o777|os.ModeSticky)
	open := trust2Dir(t, filepath.Join(base, "open"), 0o777)
	below := trust2Dir(t, filepath.Join(open, "home"), 0o700)
	inSticky := trust2Dir(t, filepath.Join(sticky, "mine"), 0o700)
	group := trust2Dir(t, filepath.Join(base, "group"), 0o775)
	stateHome := filepath.Join(f.state, "home")
	tests := []struct {
		envHome, entryHome, want string
		warned                   bool
	}{
		{sticky, "", stateHome, true},                            // HOME=/tmp
		{open, "", stateHome, true},                              // 0777
		{below, "", stateHome, true},                             // its parent lets others rename it away
		{filepath.Join(sticky, "missing"), "", stateHome, false}, // not writable, as before: no warning needed
		{"/", sticky, stateHome, true},                           // the entry's home too
		{sticky, group, group, true},
		{inSticky, "", inSticky, false}, // ours, in a sticky /tmp: fine
		{group, "", group, false},       // group-writable homes stay allowed
	}
	for _, tt := range tests {
		o := f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": tt.envHome})
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		var sd *stateDir
		state := func() (*stateDir, error) {
			var err error
			if sd == nil {
				sd, _, err = openStateDir([]string{f.state}, os.Geteuid())
			}
			return sd, err
		}
		got := chooseHome(o, tt.entryHome, state, log)
		sd.close()
		if got != tt.want {
			t.Errorf("chooseHome(HOME=%s, entry home %q) = %q; want %q\nlog: %s", tt.envHome, tt.entryHome, got, tt.want, logs.String())
		}
		if w := strings.Contains(logs.String(), "plant files"); w != tt.warned {
			t.Errorf("chooseHome(HOME=%s, entry home %q): log says why: %v, want %v\nlog: %s", tt.envHome, tt.entryHome, w, tt.warned, logs.String())
		}
		if tt.entryHome == "" {
			if in := Inspect(o); in.Home != tt.want {
				t.Errorf("Inspect(HOME=%s).Home = %q; want %q as chooseHome", tt.envHome, in.Home, tt.want)
			}
		}
	}
}

// TestTrust2ChooseHomeSharedRootFallback: root without a usable home
// keeps $HOME only when nobody else could plant files in it; with
// HOME=/tmp it gets / (a .bashrc planted in /tmp would run as root).
func TestTrust2ChooseHomeSharedRootFallback(t *testing.T) {
	f := newFixture(t, false)
	sticky := trust2Dir(t, filepath.Join(t.TempDir(), "tmp"), 0o777|os.ModeSticky)
	missing := filepath.Join(f.root, "missing")
	must(t, os.WriteFile(f.passwd, []byte("root:x:0:0:root:"+missing+":/bin/sh\n"), 0o644))
	o := f.options(0, config.PasswdAuto, map[string]string{"HOME": sticky})
	state := func() (*stateDir, error) { t.Fatal("root asked for a STATE_DIR home"); return nil, nil }
	if got := chooseHome(o, missing, state, quiet); got != "/" {
		t.Errorf("chooseHome(uid 0, HOME=%s) = %q; want /", sticky, got)
	}
	if in := Inspect(o); in.Home != "/" {
		t.Errorf("Inspect(uid 0, HOME=%s).Home = %q; want /", sticky, in.Home)
	}
}

// TestTrust2ExplicitSharedHomeWarns: NONROOT_HOME is honoured even when
// shared (the operator asked for it), with a warning that says why.
func TestTrust2ExplicitSharedHomeWarns(t *testing.T) {
	f := newFixture(t, false)
	sticky := trust2Dir(t, filepath.Join(t.TempDir(), "tmp"), 0o777|os.ModeSticky)
	o := f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"})
	o.Home = sticky
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	got := chooseHome(o, "", func() (*stateDir, error) { return nil, unix.ENOENT }, log)
	if got != sticky || !strings.Contains(logs.String(), "NONROOT_HOME") || !strings.Contains(logs.String(), "plant files") {
		t.Errorf("chooseHome(NONROOT_HOME=%s) = %q; want it, with a warning naming NONROOT_HOME and why\nlog: %s", sticky, got, logs.String())
	}
	if in := Inspect(o); in.Home != sticky {
		t.Errorf("Inspect(NONROOT_HOME=%s).Home = %q; want it", sticky, in.Home)
	}
}

// TestTrust2SharedHomeWalk: sharedHome judges the path COMMAND goes
// through, links included: a link in a directory others may rename
// entries of is as replaceable as a directory there.
func TestTrust2SharedHomeWalk(t *testing.T) {
	base := t.TempDir()
	safe := trust2Dir(t, filepath.Join(base, "safe"), 0o755)
	home := trust2Dir(t, filepath.Join(safe, "home"), 0o700)
	open := trust2Dir(t, filepath.Join(base, "open"), 0o777)
	sticky := trust2Dir(t, filepath.Join(base, "sticky"), 0o777|os.ModeSticky)
	must(t, os.Symlink(home, filepath.Join(open, "link")))
	must(t, os.Symlink(home, filepath.Join(sticky, "link")))
	must(t, os.Symlink("../safe/home", filepath.Join(sticky, "rel")))
	must(t, os.Symlink(open, filepath.Join(safe, "toopen")))
	must(t, os.Symlink("loop", filepath.Join(safe, "loop")))
	must(t, os.WriteFile(filepath.Join(safe, "file"), nil, 0o644))
	tests := []struct {
		path   string
		shared bool
		err    bool
	}{
		{home, false, false},
		{filepath.Join(open, "link"), true, true},     // the link can be renamed away
		{filepath.Join(sticky, "link"), false, false}, // our link in a sticky dir, to a safe home
		{filepath.Join(sticky, "rel"), false, false},
		{sticky + "/rel/../home", false, false},          // .. after a link is the target's parent, as for the kernel
		{filepath.Join(safe, "toopen", "x"), true, true}, // would be made in a 0777 dir
		{filepath.Join(home, "missing", "deeper"), false, false},
		{filepath.Join(sticky, "missing"), true, true}, // another user could make it first
		{filepath.Join(safe, "loop"), false, true},
		{filepath.Join(safe, "file", "x"), false, true},
	}
	for _, tt := range tests {
		err := sharedHome(tt.path, os.Geteuid())
		if errors.Is(err, errSharedHome) != tt.shared || (err != nil) != tt.err {
			t.Errorf("sharedHome(%s) = %v; want shared %v, an error %v", tt.path, err, tt.shared, tt.err)
		}
	}
}
