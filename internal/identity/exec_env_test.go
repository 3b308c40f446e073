package identity

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// execEnvLines is an env file as the init writes it for nss_wrapper.
const execEnvLines = "LD_PRELOAD=/lib/libkeep.so:/usr/lib/libnss_wrapper.so\n" +
	"NSS_WRAPPER_PASSWD=/tmp/nonroot-init/passwd\n" +
	"NSS_WRAPPER_GROUP=/tmp/nonroot-init/group\n" +
	"HOME=/tmp/nonroot-init/home\n" +
	"USER=default\n" +
	"LOGNAME=default\n"

func TestExecEnvParse(t *testing.T) {
	ok := []Var{
		{"LD_PRELOAD", "/lib/libkeep.so:/usr/lib/libnss_wrapper.so"},
		{"NSS_WRAPPER_PASSWD", "/tmp/nonroot-init/passwd"},
		{"NSS_WRAPPER_GROUP", "/tmp/nonroot-init/group"},
		{"HOME", "/tmp/nonroot-init/home"},
		{"USER", "default"},
		{"LOGNAME", "default"},
	}
	for _, tc := range []struct {
		name, data string
		want       []Var
		wantErr    string
	}{
		{"as written", execEnvLines, ok, ""},
		{"environment only", "HOME=/home/app\nUSER=app\nLOGNAME=app\n", []Var{{"HOME", "/home/app"}, {"USER", "app"}, {"LOGNAME", "app"}}, ""},
		{"'=' in a value", "HOME=/h\nUSER=a\nLOGNAME=a\nLD_PRELOAD=/lib/a=b.so\n", []Var{{"HOME", "/h"}, {"USER", "a"}, {"LOGNAME", "a"}, {"LD_PRELOAD", "/lib/a=b.so"}}, ""},
		{"empty", "", nil, "no HOME"},
		{"no final newline", "HOME=/h\nUSER=a\nLOGNAME=a", nil, "newline"},
		{"unknown variable", "HOME=/h\nUSER=a\nLOGNAME=a\nPATH=/evil\n", nil, `"PATH"`},
		{"library path", "HOME=/h\nUSER=a\nLOGNAME=a\nLD_LIBRARY_PATH=/evil\n", nil, "LD_LIBRARY_PATH"},
		{"lower case", "home=/h\nUSER=a\nLOGNAME=a\n", nil, `"home"`},
		{"space before the name", " HOME=/h\nUSER=a\nLOGNAME=a\n", nil, `" HOME"`},
		{"repeated", "HOME=/h\nUSER=a\nLOGNAME=a\nHOME=/evil\n", nil, "twice"},
		{"no '='", "HOME=/h\nUSER=a\nLOGNAME=a\nUSER\n", nil, "NAME=VALUE"},
		{"blank line", "HOME=/h\n\nUSER=a\nLOGNAME=a\n", nil, "NAME=VALUE"},
		{"comment", "# nonroot-init\nHOME=/h\nUSER=a\nLOGNAME=a\n", nil, "NAME=VALUE"},
		{"missing LOGNAME", "HOME=/h\nUSER=a\n", nil, "no LOGNAME"},
		{"relative HOME", "HOME=h\nUSER=a\nLOGNAME=a\n", nil, "absolute"},
		{"relative NSS_WRAPPER_PASSWD", "HOME=/h\nUSER=a\nLOGNAME=a\nNSS_WRAPPER_PASSWD=passwd\n", nil, "absolute"},
		{"':' in HOME", "HOME=/h:/x\nUSER=a\nLOGNAME=a\n", nil, "':'"},
		{"CRLF", "HOME=/h\r\nUSER=a\nLOGNAME=a\n", nil, "control"},
		{"NUL", "HOME=/h\nUSER=a\x00b\nLOGNAME=a\n", nil, "control"},
		{"tab in LD_PRELOAD", "HOME=/h\nUSER=a\nLOGNAME=a\nLD_PRELOAD=/a.so\t/b.so\n", nil, "control"},
		{"empty USER", "HOME=/h\nUSER=\nLOGNAME=a\n", nil, "empty"},
	} {
		got, err := parseEnv([]byte(tc.data))
		if tc.wantErr == "" {
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: parseEnv(%q) = %v, %v; want %v, nil", tc.name, tc.data, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: parseEnv(%q) = %v, %v; want an error containing %q", tc.name, tc.data, got, err, tc.wantErr)
		}
	}
}

func TestExecEnvFormat(t *testing.T) {
	vars := []Var{{"LD_PRELOAD", "/lib/libkeep.so:/usr/lib/libnss_wrapper.so"}, {"NSS_WRAPPER_PASSWD", "/tmp/nonroot-init/passwd"},
		{"NSS_WRAPPER_GROUP", "/tmp/nonroot-init/group"}, {"HOME", "/tmp/nonroot-init/home"}, {"USER", "default"}, {"LOGNAME", "default"}}
	got, err := formatEnv(append(append([]Var{}, vars...), Var{"PORT", "8080"}))
	if err != nil || string(got) != execEnvLines {
		t.Errorf("formatEnv(%v + PORT) = %q, %v; want %q (the identity only)", vars, got, err, execEnvLines)
	}
	if back, err := parseEnv(got); err != nil || !reflect.DeepEqual(back, vars) {
		t.Errorf("parseEnv(formatEnv(%v)) = %v, %v", vars, back, err)
	}
	for _, bad := range [][]Var{
		{{"HOME", "/h\nLD_PRELOAD=/evil.so"}, {"USER", "a"}, {"LOGNAME", "a"}},
		{{"HOME", "/h"}, {"USER", "a"}},
		{{"HOME", "/h"}, {"USER", "a"}, {"LOGNAME", "a"}, {"LD_PRELOAD", "/a.so\r"}},
	} {
		if got, err := formatEnv(bad); err == nil {
			t.Errorf("formatEnv(%q) = %q; want an error (the reader would refuse it)", bad, got)
		}
	}
}

func TestExecEnvCheckFile(t *testing.T) {
	const me = 1000680000
	for _, tc := range []struct {
		name    string
		st      unix.Stat_t
		wantErr string
	}{
		{"ours 0600", unix.Stat_t{Mode: unix.S_IFREG | 0o600, Uid: me}, ""},
		{"another uid", unix.Stat_t{Mode: unix.S_IFREG | 0o600, Uid: 0}, "owned by uid 0"},
		{"0644", unix.Stat_t{Mode: unix.S_IFREG | 0o644, Uid: me}, "mode 0644"},
		{"0400", unix.Stat_t{Mode: unix.S_IFREG | 0o400, Uid: me}, "mode 0400"},
		{"setuid", unix.Stat_t{Mode: unix.S_IFREG | 0o4600, Uid: me}, "mode 4600"},
		{"fifo", unix.Stat_t{Mode: unix.S_IFIFO | 0o600, Uid: me}, "not a regular file"},
		{"directory", unix.Stat_t{Mode: unix.S_IFDIR | 0o600, Uid: me}, "not a regular file"},
		{"too large", unix.Stat_t{Mode: unix.S_IFREG | 0o600, Uid: me, Size: maxEnvFile + 1}, "larger"},
	} {
		err := checkEnvFile(&tc.st, me)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: checkEnvFile(mode %o, uid %d) = %v; want %q", tc.name, tc.st.Mode, tc.st.Uid, err, tc.wantErr)
		}
	}
}

// envGetenv reads a fixed environment.
func envGetenv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestExecEnvWriteRead(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, "state")
	vars := []Var{{"HOME", "/home/app"}, {"USER", "app"}, {"LOGNAME", "app"}}
	euid := os.Geteuid()

	// No STATE_DIR: nothing is written, nothing made.
	if p, err := WriteEnv(state, envGetenv(nil), euid, vars); !errors.Is(err, ErrNoState) {
		t.Errorf("WriteEnv(no state dir) = %q, %v; want ErrNoState", p, err)
	}
	if _, err := os.Lstat(state); !os.IsNotExist(err) {
		t.Errorf("WriteEnv made the state dir (lstat: %v)", err)
	}
	if _, p, err := ReadEnv(state, envGetenv(nil), euid); !errors.Is(err, ErrNoState) {
		t.Errorf("ReadEnv(no state dir) = %q, %v; want ErrNoState", p, err)
	}

	must(t, os.Mkdir(state, 0o700))
	if _, p, err := ReadEnv(state, envGetenv(nil), euid); !errors.Is(err, ErrNoState) {
		t.Errorf("ReadEnv(no env file) = %q, %v; want ErrNoState", p, err)
	}
	p, err := WriteEnv(state, envGetenv(nil), euid, vars)
	if want := filepath.Join(state, "env"); err != nil || p != want {
		t.Fatalf("WriteEnv = %q, %v; want %q", p, err, want)
	}
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode() != 0o600 {
		t.Errorf("env file: %v, %v; want a regular 0600 file", fi.Mode(), err)
	}
	got, gp, err := ReadEnv(state, envGetenv(nil), euid)
	if err != nil || gp != p || !reflect.DeepEqual(got, vars) {
		t.Errorf("ReadEnv = %v, %q, %v; want %v, %q", got, gp, err, vars, p)
	}

	// The default candidates, in the init's order: a missing
	// $XDG_RUNTIME_DIR/nonroot-init is passed over for $TMPDIR's.
	xdg, tmp := filepath.Join(root, "xdg"), filepath.Join(root, "tmp")
	must(t, os.Mkdir(xdg, 0o700))
	must(t, os.Mkdir(tmp, 0o700))
	must(t, os.Mkdir(filepath.Join(tmp, stateDirName), 0o700))
	env := envGetenv(map[string]string{"XDG_RUNTIME_DIR": xdg, "TMPDIR": tmp})
	if p, err := WriteEnv("", env, euid, vars); err != nil || p != filepath.Join(tmp, stateDirName, "env") {
		t.Errorf("WriteEnv(defaults) = %q, %v; want it in $TMPDIR", p, err)
	}
	if _, err := os.Lstat(filepath.Join(xdg, stateDirName)); !os.IsNotExist(err) {
		t.Errorf("WriteEnv made $XDG_RUNTIME_DIR/nonroot-init (lstat: %v)", err)
	}
	if got, _, err := ReadEnv("", env, euid); err != nil || !reflect.DeepEqual(got, vars) {
		t.Errorf("ReadEnv(defaults) = %v, %v; want %v", got, err, vars)
	}
}

// TestExecEnvReadRefuses: a state dir or env file a running init of ours
// would not have left is never read: a symlinked or group-writable state
// dir is passed over (ErrNoState, as the init skips it); an env file that
// is a symlink, a FIFO, a directory, of another mode or with a line the
// init never writes is an *EnvFileError naming it.
func TestExecEnvReadRefuses(t *testing.T) {
	euid := os.Geteuid()
	ours := []byte("HOME=/evil\nUSER=evil\nLOGNAME=evil\n")

	root := t.TempDir()
	target := filepath.Join(root, "target")
	must(t, os.Mkdir(target, 0o700))
	must(t, os.WriteFile(filepath.Join(target, "env"), ours, 0o600))
	must(t, os.Symlink(target, filepath.Join(root, "link")))
	open := filepath.Join(root, "open")
	must(t, os.Mkdir(open, 0o700))
	must(t, os.Chmod(open, 0o770))
	must(t, os.WriteFile(filepath.Join(open, "env"), ours, 0o600))
	for _, dir := range []string{filepath.Join(root, "link"), open} {
		if got, _, err := ReadEnv(dir, envGetenv(nil), euid); !errors.Is(err, ErrNoState) {
			t.Errorf("ReadEnv(state dir %s) = %v, %v; want ErrNoState", dir, got, err)
		}
	}

	for _, tc := range []struct {
		name    string
		plant   func(t *testing.T, env string)
		wantErr string
	}{
		{"symbolic link", func(t *testing.T, env string) {
			other := filepath.Join(t.TempDir(), "ours")
			must(t, os.WriteFile(other, ours, 0o600))
			must(t, os.Symlink(other, env))
		}, "symbolic link"},
		{"mode 0644", func(t *testing.T, env string) {
			must(t, os.WriteFile(env, ours, 0o600))
			must(t, os.Chmod(env, 0o644))
		}, "mode 0644"},
		{"fifo", func(t *testing.T, env string) { must(t, syscall.Mkfifo(env, 0o600)) }, "not a regular file"},
		{"directory", func(t *testing.T, env string) { must(t, os.Mkdir(env, 0o700)) }, "not a regular file"},
		{"unknown variable", func(t *testing.T, env string) {
			must(t, os.WriteFile(env, append(append([]byte{}, ours...), "LD_LIBRARY_PATH=/evil\n"...), 0o600))
		}, "LD_LIBRARY_PATH"},
		{"too large", func(t *testing.T, env string) {
			must(t, os.WriteFile(env, []byte(strings.Repeat("USER=a\n", maxEnvFile/7+1)), 0o600))
		}, "larger"},
	} {
		state := filepath.Join(t.TempDir(), "state")
		must(t, os.Mkdir(state, 0o700))
		env := filepath.Join(state, "env")
		tc.plant(t, env)
		got, _, err := ReadEnv(state, envGetenv(nil), euid)
		var fe *EnvFileError
		if !errors.As(err, &fe) || fe.Path != env || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: ReadEnv = %v, %v; want an *EnvFileError for %s containing %q", tc.name, got, err, env, tc.wantErr)
		}
	}

	if euid == 0 {
		state := filepath.Join(t.TempDir(), "state")
		must(t, os.Mkdir(state, 0o700))
		env := filepath.Join(state, "env")
		must(t, os.WriteFile(env, ours, 0o600))
		must(t, os.Chown(env, 4242, 4242))
		if got, _, err := ReadEnv(state, envGetenv(nil), euid); err == nil || !strings.Contains(err.Error(), "owned by uid 4242") {
			t.Errorf("ReadEnv(env of uid 4242) = %v, %v; want it refused", got, err)
		}
	}
}

// TestExecEnvAfterProvide: what Provide gives COMMAND through nss_wrapper
// is what WriteEnv stores and ReadEnv gives back.
func TestExecEnvAfterProvide(t *testing.T) {
	f := newFixture(t, true)
	o := f.options(1000680000, config.PasswdAuto, map[string]string{"HOME": "/"})
	res, err := Provide(o, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteEnv(o.StateDir, o.Getenv, o.EUID, res.Env); err != nil {
		t.Fatal(err)
	}
	got, _, err := ReadEnv(o.StateDir, o.Getenv, o.EUID)
	if err != nil || !reflect.DeepEqual(got, res.Env) {
		t.Errorf("ReadEnv after Provide = %v, %v; want %v", got, err, res.Env)
	}
}
