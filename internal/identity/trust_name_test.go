package identity

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// Issue #9 item 7: a login name whose entry is UID 0 is a usage error;
// etc-passwd mode never writes a second line with a taken name.

func TestTrustCheckUsername(t *testing.T) {
	tests := []struct {
		passwd, name string
		usage        bool
	}{
		{imagePasswd, "root", true},
		{imagePasswd + "toor:x:0:0::/root:/bin/sh\n", "toor", true},
		{imagePasswd + "default:x:0:0::/:/bin/sh\n", "default", true},                // the default name
		{"default:x:1000:0::/:/bin/sh\ndefault:x:0:0::/:/bin/sh\n", "default", true}, // any line of that name
		{"root:x:0:0:root:/root:/bin/bash\r\n", "root", true},                        // CRLF
		{imagePasswd, "app", false},                                                  // taken by uid 1001: not a usage error
		{imagePasswd, "default", false},
		{"# root:x:0:0::/:/bin/sh\n", "root", false},
		{"", "root", false},
	}
	for _, tt := range tests {
		err := checkUsername([]byte(tt.passwd), tt.name, "/etc/passwd")
		var ue *UsageError
		if got := errors.As(err, &ue); got != tt.usage {
			t.Errorf("checkUsername(%q, %q) = %v; want a UsageError: %v", tt.passwd, tt.name, err, tt.usage)
		}
		if err != nil && !strings.Contains(err.Error(), "NONROOT_USERNAME="+tt.name) {
			t.Errorf("checkUsername(%q, %q) = %v; want it to name NONROOT_USERNAME", tt.passwd, tt.name, err)
		}
	}
}

func TestTrustProvideRootNameRefused(t *testing.T) {
	for _, mode := range []config.PasswdMode{config.PasswdAuto, config.PasswdNSSWrapper, config.PasswdEtcPasswd, config.PasswdOff} {
		f := newFixture(t, true)
		o := f.options(1000680000, mode, map[string]string{"HOME": "/"})
		o.Username = "root"
		_, err := Provide(o, quiet)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Provide(%s, NONROOT_USERNAME=root) err = %v; want a UsageError", mode, err)
		}
		if got, _ := os.ReadFile(f.passwd); string(got) != imagePasswd {
			t.Errorf("Provide(%s, NONROOT_USERNAME=root) changed the passwd file: %q", mode, got)
		}
		if _, err := os.Lstat(f.state); !os.IsNotExist(err) {
			t.Errorf("Provide(%s, NONROOT_USERNAME=root) made the state dir (lstat: %v)", mode, err)
		}
		if in := Inspect(o); !errors.As(in.MethodErr, &ue) {
			t.Errorf("Inspect(%s, NONROOT_USERNAME=root).MethodErr = %v; want a UsageError", mode, in.MethodErr)
		}
	}
	if err := CheckUsername(filepath.Join(t.TempDir(), "missing"), "root"); err != nil {
		t.Errorf("CheckUsername(missing file) = %v; want nil (nothing to collide with)", err)
	}
}

func TestTrustEtcPasswdTakenName(t *testing.T) {
	f := newFixture(t, false)
	o := f.options(1000680000, config.PasswdEtcPasswd, map[string]string{"HOME": "/"})
	o.Username = "app" // uid 1001's name
	if _, err := Provide(o, quiet); err == nil || !strings.Contains(err.Error(), "nss_wrapper") || !strings.Contains(err.Error(), "app") {
		t.Errorf("Provide(etc-passwd, a name taken by uid 1001) err = %v; want an error naming app and nss_wrapper", err)
	}
	o.Mode = config.PasswdAuto
	if res, err := Provide(o, quiet); err != nil || res.Method != MethodEnv {
		t.Errorf("Provide(auto without nss_wrapper, a taken name) = %q, %v; want environment only", res.Method, err)
	}
	if got, _ := os.ReadFile(f.passwd); string(got) != imagePasswd {
		t.Errorf("a second line named app was written: %q", strings.TrimPrefix(string(got), imagePasswd))
	}
	// The file is checked again under the open descriptor, as another
	// process may have added the name since.
	e := Entry{Name: "daemon", UID: 1000680000, GID: 0, Gecos: "nonroot-init", Home: "/", Shell: "/bin/sh"}
	if err := appendEntry(f.passwd, e); err == nil {
		t.Errorf("appendEntry(a name the file has) = nil; want an error")
	}
	if got, _ := os.ReadFile(f.passwd); string(got) != imagePasswd {
		t.Errorf("appendEntry wrote a second daemon line: %q", strings.TrimPrefix(string(got), imagePasswd))
	}
}
