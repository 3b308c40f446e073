package identity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// Tests of issue #11's identity items: taking over an image user,
// injected entries with an unusable home, fsGroup names, GECOS.

const takePostgres = "postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash"

// takeCopy runs Provide and returns the nss_wrapper passwd and group
// copies it wrote.
func takeCopy(t *testing.T, o Options) (Result, string, string) {
	t.Helper()
	res, err := Provide(o, quiet)
	if err != nil {
		t.Fatalf("Provide: %v", err)
	}
	if res.Method != MethodNSSWrapper {
		t.Fatalf("Provide method %s; want nss-wrapper", res.Method)
	}
	env := envOf(res)
	p, err := os.ReadFile(env["NSS_WRAPPER_PASSWD"])
	must(t, err)
	g, err := os.ReadFile(env["NSS_WRAPPER_GROUP"])
	must(t, err)
	return res, string(p), string(g)
}

// TestTakeOverImageUser: NONROOT_USERNAME=postgres, the image's UID-101
// postgres: the copy holds one postgres line, ours, with its GECOS and
// shell, its home when writable, else the HOME rule's.
func TestTakeOverImageUser(t *testing.T) {
	for _, writableHome := range []bool{false, true} {
		f := newFixture(t, true)
		imgHome := "/var/lib/postgresql"
		if writableHome {
			imgHome = t.TempDir()
		}
		line := strings.Replace(takePostgres, "/var/lib/postgresql", imgHome, 1)
		must(t, os.WriteFile(f.passwd, []byte("root:x:0:0:root:/root:/bin/bash\n"+line+"\nlast:x:5:5::/:/bin/sh\n"), 0o644))
		o := f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"})
		o.Username = "postgres"
		res, p, _ := takeCopy(t, o)
		wantHome := filepath.Join(f.state, "home")
		if writableHome {
			wantHome = imgHome
		}
		want := "root:x:0:0:root:/root:/bin/bash\npostgres:x:1000680000:0:PostgreSQL administrator,,,:" + wantHome + ":/bin/bash\nlast:x:5:5::/:/bin/sh\n"
		if p != want {
			t.Errorf("writable home %v: passwd copy\n%q\nwant\n%q", writableHome, p, want)
		}
		if res.User.Name != "postgres" || res.User.Home != wantHome || envOf(res)["HOME"] != wantHome {
			t.Errorf("writable home %v: user %+v, HOME %q; want postgres with home %s", writableHome, res.User, envOf(res)["HOME"], wantHome)
		}
	}
}

// TestTakeEtcPasswdRefused: where lines cannot be replaced, a taken name
// is an error that says to use nss_wrapper; nothing is appended.
func TestTakeEtcPasswdRefused(t *testing.T) {
	f := newFixture(t, false)
	img := "root:x:0:0:root:/root:/bin/bash\n" + takePostgres + "\n"
	must(t, os.WriteFile(f.passwd, []byte(img), 0o644))
	o := f.options(1000680000, config.PasswdEtcPasswd, map[string]string{"HOME": "/"})
	o.Username = "postgres"
	if _, err := Provide(o, quiet); err == nil || !strings.Contains(err.Error(), "nss_wrapper") {
		t.Errorf("Provide(etc-passwd, taken name) err = %v; want one saying to use nss_wrapper", err)
	}
	if got, _ := os.ReadFile(f.passwd); string(got) != img {
		t.Errorf("passwd written: %q", got)
	}
}

// TestTakeInjectedEntryHome: an entry for our UID whose home is / or
// missing gets, in the copy, the HOME rule's home; an entry whose home
// we can write is left alone in auto mode, and nss-wrapper mode always
// provides the copy (and fails without the library).
func TestTakeInjectedEntryHome(t *testing.T) {
	good := t.TempDir()
	for _, tc := range []struct {
		home   string
		mode   config.PasswdMode
		method Method
	}{
		{"/", config.PasswdAuto, MethodNSSWrapper},
		{"/nonexistent", config.PasswdAuto, MethodNSSWrapper},
		{good, config.PasswdAuto, MethodExisting},
		{good, config.PasswdNSSWrapper, MethodNSSWrapper},
		{"/", config.PasswdEtcPasswd, MethodExisting},
		{"/", config.PasswdOff, MethodExisting},
	} {
		f := newFixture(t, true)
		injected := "1000680000:x:1000680000:0::" + tc.home + ":/bin/sh"
		must(t, os.WriteFile(f.passwd, []byte("root:x:0:0:root:/root:/bin/bash\n"+injected+"\n"), 0o644))
		o := f.options(1000680000, tc.mode, map[string]string{"HOME": "/"})
		res, err := Provide(o, quiet)
		if err != nil || res.Method != tc.method {
			t.Errorf("Provide(%s, entry home %s) = %s, %v; want %s", tc.mode, tc.home, res.Method, err, tc.method)
			continue
		}
		if res.Method != MethodNSSWrapper {
			continue
		}
		wantHome := filepath.Join(f.state, "home")
		if tc.home == good {
			wantHome = good
		}
		p, _ := os.ReadFile(envOf(res)["NSS_WRAPPER_PASSWD"])
		want := "root:x:0:0:root:/root:/bin/bash\n1000680000:x:1000680000:0::" + wantHome + ":/bin/sh\n"
		if string(p) != want || res.User.Name != "1000680000" || envOf(res)["HOME"] != wantHome {
			t.Errorf("Provide(%s, entry home %s): copy %q, user %+v, HOME %q; want %q", tc.mode, tc.home, p, res.User, envOf(res)["HOME"], want)
		}
	}
	f := newFixture(t, false)
	must(t, os.WriteFile(f.passwd, []byte("app:x:1000680000:0::"+good+":/bin/sh\n"), 0o644))
	if _, err := Provide(f.options(1000680000, config.PasswdNSSWrapper, nil), quiet); err == nil || !strings.Contains(err.Error(), "NONROOT_PASSWD=nss-wrapper") {
		t.Errorf("Provide(nss-wrapper, entry, no library) err = %v; want one naming NONROOT_PASSWD", err)
	}
}

// TestTakeSupplementaryGroups: every group we hold without an entry gets
// one in the copy, under a name no group has.
func TestTakeSupplementaryGroups(t *testing.T) {
	f := newFixture(t, true)
	must(t, os.WriteFile(f.group, []byte("root:x:0:\ndefault:x:7:\ndefault-5555:x:8:\nstaff:x:50:\n"), 0o644))
	o := f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"})
	o.GID = 1000680000
	o.Groups = []int{0, 50, 5555, 1000680000, 5555, 6666}
	_, _, g := takeCopy(t, o)
	want := "root:x:0:\ndefault:x:7:\ndefault-5555:x:8:\nstaff:x:50:\ndefault-1000680000:x:1000680000:\ndefault-5555-2:x:5555:\ndefault-6666:x:6666:\n"
	if g != want {
		t.Errorf("group copy\n%q\nwant\n%q", g, want)
	}
}

// TestTakeGecos: the generated entry's GECOS is the login name, or
// NONROOT_GECOS; a taken-over entry keeps its own unless it is set.
func TestTakeGecos(t *testing.T) {
	for _, tc := range []struct{ user, setting, want string }{
		{"default", "", "default"},
		{"default", "Jane Doe", "Jane Doe"},
		{"postgres", "", "PostgreSQL administrator,,,"},
		{"postgres", "DB Admin", "DB Admin"},
	} {
		f := newFixture(t, true)
		must(t, os.WriteFile(f.passwd, []byte(takePostgres+"\n"), 0o644))
		o := f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"})
		o.Username, o.Gecos = tc.user, tc.setting
		_, p, _ := takeCopy(t, o)
		e, ok := LookupUID([]byte(p), 1000680000)
		if !ok || e.Gecos != tc.want {
			t.Errorf("user %s, NONROOT_GECOS %q: entry %+v; want GECOS %q", tc.user, tc.setting, e, tc.want)
		}
	}
}

// TestTakeInjectedEntryNotCopyable: an entry only glibc reads (a tab in
// its GECOS) cannot go into the copy: auto keeps it, with a warning,
// and nss-wrapper mode says why it cannot.
func TestTakeInjectedEntryNotCopyable(t *testing.T) {
	f := newFixture(t, true)
	must(t, os.WriteFile(f.passwd, []byte("app:x:1000680000:0:App\tUser:/:/bin/sh\n"), 0o644))
	if res, err := Provide(f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"}), quiet); err != nil || res.Method != MethodExisting {
		t.Errorf("Provide(auto, entry with a tab) = %s, %v; want existing", res.Method, err)
	}
	if _, err := Provide(f.options(1000680000, config.PasswdNSSWrapper, nil), quiet); err == nil || !strings.Contains(err.Error(), "cannot be copied") {
		t.Errorf("Provide(nss-wrapper, entry with a tab) err = %v; want one saying it cannot be copied", err)
	}
}
