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

// Issue #9 item 11: identity edge cases (CRLF files, a symlinked or
// unreadable passwd, generated group names).

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	must(t, err)
	if !strings.Contains(string(b), "\r\n") {
		t.Fatalf("testdata/%s lost its CRLF line ends (check .gitattributes)", name)
	}
	return b
}

func TestTrustCRLFLookup(t *testing.T) {
	passwd, group := readTestdata(t, "passwd-crlf"), readTestdata(t, "group-crlf")
	for _, tt := range []struct {
		uid        int
		name, home string
	}{{0, "root", "/root"}, {1, "daemon", "/usr/sbin"}, {1001, "app", "/home/app"}} {
		e, ok := LookupUID(passwd, tt.uid)
		if !ok || e.Name != tt.name || e.Home != tt.home || strings.ContainsRune(e.Shell, '\r') {
			t.Errorf("LookupUID(passwd-crlf, %d) = %+v, %v; want %s with home %s and no \\r", tt.uid, e, ok, tt.name, tt.home)
		}
	}
	if g, ok := lookupGID(group, 101); !ok || g.Name != "default-5000" || g.Members != "" {
		t.Errorf("lookupGID(group-crlf, 101) = %+v, %v; want default-5000 with no members", g, ok)
	}
	if !groupNamed(group, "default") {
		t.Errorf("groupNamed(group-crlf, default) = false; want true")
	}
}

func TestTrustCRLFNSSFilesKeepImageUsers(t *testing.T) {
	passwd, group := readTestdata(t, "passwd-crlf"), readTestdata(t, "group-crlf")
	e := Entry{Name: "default", UID: 1000680000, GID: 5000, Gecos: "nonroot-init", Home: "/tmp/h", Shell: "/bin/sh"}
	p, g, dropped, err := nssFiles(passwd, group, e, missingGroups(group, e.Name, []int{e.GID}), []int{e.GID})
	if err != nil {
		t.Fatalf("nssFiles(CRLF files): %v", err)
	}
	wantP := strings.ReplaceAll(string(passwd), "\r", "") + e.Line() + "\n"
	if string(p) != wantP || dropped != 0 {
		t.Errorf("nssFiles(CRLF passwd) = %q, dropped %d; want %q (every image user kept), dropped 0", p, dropped, wantP)
	}
	for _, name := range []string{"root", "daemon", "default", "default-5000"} {
		if !groupNamed(g, name) {
			t.Errorf("group copy %q lost the image's group %s", g, name)
		}
	}
}

func TestTrustGroupNameUnique(t *testing.T) {
	tests := []struct {
		group, user string
		gid         int
		want        string
	}{
		{"root:x:0:\n", "default", 5000, "default"},
		{"default:x:100:\n", "default", 5000, "default-5000"},
		{"default:x:100:\ndefault-5000:x:101:\n", "default", 5000, "default-5000-2"},
		{"default:x:100:\ndefault-5000:x:101:\ndefault-5000-2:x:102:\n", "default", 5000, "default-5000-3"},
		{"default:x:100:\r\ndefault-5000:x:101:\r\n", "default", 5000, "default-5000-2"},
	}
	for _, tt := range tests {
		if got := groupName([]byte(tt.group), tt.user, tt.gid); got != tt.want {
			t.Errorf("groupName(%q, %q, %d) = %q; want %q", tt.group, tt.user, tt.gid, got, tt.want)
		}
	}
}

func TestTrustPasswdSymlinkNotWritable(t *testing.T) {
	f := newFixture(t, false)
	target := filepath.Join(f.root, "real-passwd")
	must(t, os.Rename(f.passwd, target))
	must(t, os.Symlink(target, f.passwd))
	// A symlinked directory on the way counts too.
	realDir := filepath.Join(f.root, "realdir")
	must(t, os.Mkdir(realDir, 0o755))
	must(t, os.WriteFile(filepath.Join(realDir, "passwd"), []byte(imagePasswd), 0o644))
	must(t, os.Symlink(realDir, filepath.Join(f.root, "linkdir")))

	for _, path := range []string{f.passwd, filepath.Join(f.root, "linkdir", "passwd")} {
		o := f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"})
		o.PasswdFile = path
		res, err := Provide(o, quiet)
		if err != nil || res.Method != MethodEnv {
			t.Errorf("Provide(auto, %s a symlink to a writable file, no nss_wrapper) = %+v, %v; want environment only, no error", path, res.Method, err)
		}
		o.Mode = config.PasswdEtcPasswd
		if _, err := Provide(o, quiet); err == nil || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), "NONROOT_PASSWD") {
			t.Errorf("Provide(etc-passwd, %s through a symlink) err = %v; want an error naming the symbolic link and NONROOT_PASSWD", path, err)
		}
	}
	for _, p := range []string{target, filepath.Join(realDir, "passwd")} {
		if got, _ := os.ReadFile(p); string(got) != imagePasswd {
			t.Errorf("%s was written through a symlink: %q", p, got)
		}
	}
}

func TestTrustUnreadablePasswd(t *testing.T) {
	f := newFixture(t, true)
	// A directory cannot be read as a file, whoever we are (a mode 0600
	// file would not do for root).
	unreadable := filepath.Join(f.root, "passwd.d")
	must(t, os.Mkdir(unreadable, 0o755))
	o := f.options(1000680000, config.PasswdOff, map[string]string{"HOME": "/"})
	o.PasswdFile = unreadable
	res, err := Provide(o, quiet)
	if err != nil || res.Method != MethodEnv || envOf(res)["USER"] != "default" {
		t.Errorf("Provide(off, unreadable passwd) = %+v, %v; want environment only, no error", res, err)
	}
	if in := Inspect(o); in.MethodErr != nil || in.Method != MethodEnv {
		t.Errorf("Inspect(off, unreadable passwd) = %q, %v; want environment only, no error", in.Method, in.MethodErr)
	}
	o.Mode = config.PasswdAuto
	if _, err := Provide(o, quiet); err == nil || !strings.Contains(err.Error(), unreadable) {
		t.Errorf("Provide(auto, unreadable passwd) err = %v; want an error naming %s", err, unreadable)
	}
}

func TestTrustOpenDirNoFollow(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "a", "b"), 0o755))
	must(t, os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "link")))
	var seen []string
	record := func(p string, _ *unix.Stat_t) error { seen = append(seen, p); return nil }
	for _, tt := range []struct {
		dir     string
		ok      bool
		visited int // directories checked, / included
	}{
		{"/", true, 1},
		{filepath.Join(root, "a", "b"), true, strings.Count(root, "/") + 3},
		{filepath.Join(root, "link", "b"), false, strings.Count(root, "/") + 1},
		{filepath.Join(root, "missing"), false, strings.Count(root, "/") + 1},
		{"relative", false, 0},
	} {
		seen = nil
		fd, err := openDirNoFollow(tt.dir, record)
		if err == nil {
			unix.Close(fd)
		}
		if (err == nil) != tt.ok || len(seen) != tt.visited {
			t.Errorf("openDirNoFollow(%s) = %v after checking %v; want ok=%v after %d directories", tt.dir, err, seen, tt.ok, tt.visited)
		}
		if strings.Contains(tt.dir, "link") && (err == nil || !errors.Is(err, errSymlink)) {
			t.Errorf("openDirNoFollow(%s) = %v; want errSymlink", tt.dir, err)
		}
	}
}
