package volumes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestTrust2Quote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/data/app", "/data/app"},
		{"/data/with space/été", "/data/with space/été"},
		{"/data/a\nb", `"/data/a\nb"`},
		{"/data/\x1b[2J", `"/data/\x1b[2J"`},
		{"/data/\xe9", `"/data/\xe9"`},
		{`/data/back\slash`, `"/data/back\\slash"`},
		{`/data/"q"`, `"/data/\"q\""`},
		{"/data/\u202eevil", `"/data/\u202eevil"`}, // a bidi override is not printable
		{"/data/tab\t", `"/data/tab\t"`},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %s; want %s", tt.in, got, tt.want)
		}
	}
}

func TestTrust2RenamableBy(t *testing.T) {
	tests := []struct {
		uid, gid uint32
		mode     uint16
		who      string
	}{
		{0, 0, 0o755, ""},
		{0, 0, 0o1777, ""}, // /tmp: each user renames only their own
		{0, 1000, 0o3775, ""},
		{0, 0, 0o700, ""},
		{1000, 0, 0o755, "uid 1000"}, // the owner may chmod it at will
		{1000, 0, 0o1777, "uid 1000"},
		{0, 1000, 0o2775, "a member of group 1000"},
		{0, 0, 0o757, "any user"},
		{0, 0, 0o777, "any user"},
	}
	for _, tt := range tests {
		st := unix.Statx_t{Uid: tt.uid, Gid: tt.gid, Mode: unix.S_IFDIR | tt.mode}
		who, why := renamableBy(&st)
		if who != tt.who || (who == "") != (why == "") {
			t.Errorf("renamableBy(uid %d gid %d mode %04o) = %q, %q; want %q", tt.uid, tt.gid, tt.mode, who, why, tt.who)
		}
	}
}

// trust2FirstOwn returns the first directory from "/" down to dir that
// belongs to our euid when it is not root ("" as root): as another user,
// the rule of a run as root refuses everything below it.
func trust2FirstOwn(t *testing.T, dir string) string {
	t.Helper()
	if os.Geteuid() == 0 {
		return ""
	}
	p := "/"
	for _, c := range strings.Split(strings.TrimPrefix(dir, "/"), "/") {
		p = filepath.Join(p, c)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		if int(st.Uid) == os.Geteuid() {
			return p
		}
	}
	t.Fatalf("no directory of ours on the way to %s", dir)
	return ""
}

// TestTrust2HostileParentRefused: with the rule of a run as root, a
// starting path is refused at the first directory on its way (or, for
// a relative path, above the working directory) that another user can
// change, naming it, who and the fix, and nothing changes; sticky and
// root-only directories are fine, and so is a ".." back into one.
func TestTrust2HostileParentRefused(t *testing.T) {
	base := t.TempDir()
	for _, d := range []string{"open", "group", "sticky", "safe"} {
		mustMkdir(t, filepath.Join(base, d, "vol", "sub"), 0o755)
	}
	mustWrite(t, filepath.Join(base, "open", "vol", "f"), 0o644)
	for d, mode := range map[string]uint32{"open": 0o777, "group": 0o775, "sticky": 0o1777, "safe": 0o755} {
		if err := unix.Chmod(filepath.Join(base, d), mode); err != nil {
			t.Fatal(err)
		}
	}
	own := trust2FirstOwn(t, base)
	tests := []struct {
		path, cwd string
		dir, who  string // "" when allowed
	}{
		{path: base + "/open/vol", dir: base + "/open", who: "any user"},
		{path: base + "/open/vol/sub", dir: base + "/open", who: "any user"},
		{path: base + "/group/vol", dir: base + "/group", who: fmt.Sprintf("a member of group %d", os.Getegid())},
		{path: base + "/sticky/vol"},
		{path: base + "/safe/vol/sub"},
		{path: base + "/open/../safe/vol"},                                  // ".." back to base, which holds open
		{path: base + "/open/vol/..", dir: base + "/open", who: "any user"}, // vol is open's to swap
		{path: base + "/safe/vol/../../open/vol", dir: base + "/open", who: "any user"},
		{path: "vol", cwd: base + "/open", dir: base + "/open", who: "any user"},   // the working directory holds it
		{path: ".", cwd: base + "/open/vol", dir: base + "/open", who: "any user"}, // above the working directory
		{path: "sub", cwd: base + "/safe/vol"},
		{path: ".", cwd: base + "/sticky/vol"},
	}
	for _, tt := range tests {
		name := tt.path
		if tt.cwd != "" {
			name = "cd " + tt.cwd + "; " + tt.path
		}
		t.Run(name, func(t *testing.T) {
			if tt.cwd != "" {
				t.Chdir(tt.cwd)
			}
			dir, who := tt.dir, tt.who
			if own != "" {
				dir, who = own, fmt.Sprintf("uid %d", os.Geteuid())
				if tt.cwd != "" {
					dir = filepath.Dir(tt.cwd) // the first directory above the working one
				}
			}
			r, err := FixPermissions([]string{tt.path}, FixOptions{EUID: os.Geteuid(), GID: os.Getegid(), Check: true, asRoot: true})
			var he *HostileParentError
			if dir == "" {
				if err != nil || r.Failed != 0 {
					t.Errorf("FixPermissions(%q) = %+v, %v; want it walked", tt.path, r, err)
				}
				return
			}
			if !errors.As(err, &he) || he.Dir != dir || he.Who != who || r.Failed != 1 || r.Changed != 0 {
				t.Fatalf("FixPermissions(%q) = %+v, %v; want refused at %s by %q", tt.path, r, err, dir, who)
			}
			for _, w := range []string{tt.path + ": refused: " + dir + " ", who + " could rename", "make " + dir + " owned by root and not group/other-writable", "mount point"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("FixPermissions(%q) error %q lacks %q", tt.path, err, w)
				}
			}
		})
	}
	if got := modeOf(t, filepath.Join(base, "open", "vol", "f")); got != 0o644 {
		t.Errorf("a refused path changed open/vol/f to %#o", got)
	}
	// doctor, whoever runs it, tells what root's fix-permissions would do.
	notes := strings.Join(doctorNotes(base+"/open/vol", os.Getegid()), "\n")
	if !strings.Contains(notes, "fix-permissions run as root would refuse "+base+"/open/vol: ") || !strings.Contains(notes, "owned by root") {
		t.Errorf("doctor's notes = %q; want the refusal and its fix", notes)
	}
}

// TestTrust2WritablePrivilegedFiles: executable setuid and setgid files
// (and, as root, one with file capabilities) that group or others may
// already write are listed as Writable, counted as failed, named with the
// fix in the error, and left as they are, hard-linked or not, with Check
// or not. A non-executable one, nobody can run, is no failure.
func TestTrust2WritablePrivilegedFiles(t *testing.T) {
	root := t.TempDir()
	gid := os.Getegid()
	want := map[string]string{"suid": "setuid", "sgid": "setgid", "linked": "setuid"}
	modes := map[string]uint32{"suid": 0o4775, "sgid": 0o2757, "linked": 0o4777, "noexec": 0o4666, "plain": 0o775}
	for name, mode := range modes {
		mustWrite(t, filepath.Join(root, name), 0o644)
		if err := unix.Chmod(filepath.Join(root, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(root, "linked"), filepath.Join(t.TempDir(), "other")); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		p := filepath.Join(root, "caps")
		mustWrite(t, p, 0o775)
		capData := []byte{1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		if err := unix.Setxattr(p, "security.capability", capData, 0); err != nil {
			t.Fatalf("setxattr security.capability: %v", err)
		}
		want["caps"] = "file capabilities"
		modes["caps"] = 0o775
	} else {
		t.Log("not root: no file-capability case (setting security.capability needs CAP_SETFCAP)")
	}
	for _, check := range []bool{true, false} {
		r, err := FixPermissions([]string{root}, FixOptions{EUID: os.Geteuid(), GID: gid, Check: check})
		got := map[string]string{}
		for _, p := range r.Privileged {
			if p.Writable {
				got[filepath.Base(p.Path)] = p.Reason
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || r.Failed != int64(len(want)) {
			t.Errorf("FixPermissions(check=%v) = %+v; want writable privileged %v, each failed", check, r, want)
		}
		for name := range want {
			w := "chmod g-w,o-w " + filepath.Join(root, name)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(root, name)+": ") || !strings.Contains(err.Error(), w) {
				t.Errorf("FixPermissions(check=%v) error = %v; want %s named with %q", check, err, name, w)
			}
		}
	}
	for name, mode := range modes {
		if name == "plain" {
			continue
		}
		if got := modeOf(t, filepath.Join(root, name)); got != mode {
			t.Errorf("mode of %s = %#o; want it left at %#o", name, got, mode)
		}
	}
	s := Privileged{Path: "/d/su", Reason: "setuid", Writable: true, UID: 0, GID: 0, Mode: 0o4775}.String()
	if !strings.Contains(s, "a member of group 0 can rewrite it and get root through it") || !strings.HasSuffix(s, "chmod g-w,o-w /d/su") {
		t.Errorf("Privileged.String() = %q", s)
	}
}

// TestTrust2ListsAreBounded: past listLimit, privileged files and
// failures are counted, not kept; the counts stay true.
func TestTrust2ListsAreBounded(t *testing.T) {
	root := t.TempDir()
	const n = listLimit + 3
	for i := range n {
		p := filepath.Join(root, fmt.Sprintf("f%04d", i))
		mustWrite(t, p, 0o644)
		if err := unix.Chmod(p, 0o4777); err != nil {
			t.Fatal(err)
		}
	}
	r, err := FixPermissions([]string{root}, FixOptions{EUID: os.Geteuid(), GID: os.Getegid(), Check: true})
	if r.Failed != n || len(r.Privileged) != listLimit || r.PrivilegedNotListed != 3 {
		t.Errorf("FixPermissions = failed %d, %d privileged kept, %d not listed; want %d, %d, 3", r.Failed, len(r.Privileged), r.PrivilegedNotListed, n, listLimit)
	}
	if got := len(Problems(err)); got != listLimit || !strings.HasSuffix(err.Error(), "\n  and 3 more not listed") {
		t.Errorf("FixPermissions error lists %d problems and ends %q; want %d and the rest counted", got, err.Error()[max(0, len(err.Error())-40):], listLimit)
	}
}

// TestTrust2MessagesQuotePaths: every path a message prints is quoted
// when it holds a byte that could forge a line or reach the terminal.
func TestTrust2MessagesQuotePaths(t *testing.T) {
	const bad = "/v/a\nforged\x1b[31m"
	const q = `"/v/a\nforged\x1b[31m"`
	who := Identity{UID: 1000, GID: 0}
	msgs := map[string]string{
		"Change":       Change{Path: bad, OldGID: 1, NewGID: 0, OldMode: 0o644, NewMode: 0o664}.String(),
		"Privileged":   Privileged{Path: bad, Reason: "setuid"}.String(),
		"writable":     Privileged{Path: bad, Reason: "setuid", Writable: true, Mode: 0o4775}.String(),
		"SymlinkError": (&SymlinkError{Path: bad, Component: bad, Target: bad}).Error(),
		"hostile":      (&HostileParentError{Path: bad, Dir: bad, Who: "any user", Why: "has mode 0777"}).Error(),
		"missing link": diagnose(bad, who, facts{statErr: unix.ENOENT, link: true, linkTarget: bad}, unix.ENOENT).Error(),
		"denied link": diagnose(bad, who, facts{link: true, linkTarget: bad, realPath: bad + "x", isDir: true, kind: "directory", mode: 0o755},
			unix.EACCES).Error(),
		"describe": describe(facts{link: true, linkTarget: bad, isDir: true, kind: "directory"}, nil),
	}
	for what, m := range msgs {
		if strings.ContainsAny(m, "\n\x1b") || !strings.Contains(m, q) {
			t.Errorf("%s: %q; want the path quoted as %s", what, m, q)
		}
	}
	if s := (Change{Path: "/v/plain", OldGID: 1, NewGID: 0, OldMode: 0o644, NewMode: 0o644}).String(); s != "/v/plain: group 1 -> 0" {
		t.Errorf("Change.String() of a plain path = %q", s)
	}
}

// doctorNotes is what doctor's fix-permissions check notes about path.
func doctorNotes(path string, gid int) []string {
	r := Report{Path: path}
	fixPermissionsCheck(&r, gid)
	return r.Notes
}
