package test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// secValue is the secret every test puts in a file: it must reach
// COMMAND (or a template) and nothing else.
const secValue = "hunter2-s3cr3t-VALUE"

// secVolume lays out a Secret volume as the kubelet does (root-owned
// ..data links) holding files, each readable by anyone (defaultMode
// 0644), and returns the volume's directory.
func secVolume(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(tmplBase(t), "secret")
	tmplConfigMap(t, dir, files)
	return dir
}

// secOpts runs the init as PID 1, UID 1000680000 GID 0, at debug level,
// with its STATE_DIR where the test can look.
func secOpts(t *testing.T, env ...string) (harness.Opts, string) {
	t.Helper()
	state := filepath.Join(harness.SharedDir(t), "state")
	env = append([]string{"NONROOT_LOG_LEVEL=debug", "NONROOT_STATE_DIR=" + state}, env...)
	return harness.Opts{PID1: true, UID: harness.OpenShiftUID, GID: 0, Env: env}, state
}

// secNoValue fails if the secret shows in the init's output or in any
// file of its STATE_DIR.
func secNoValue(t *testing.T, r harness.Result, state string) {
	t.Helper()
	if strings.Contains(r.Stderr, secValue) {
		t.Errorf("the secret value is in the init's stderr:\n%s", r.Stderr)
	}
	_ = filepath.WalkDir(state, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), secValue) {
				t.Errorf("the secret value is in %s:\n%s", path, b)
			}
		}
		return nil
	})
}

func TestSecretsFromFile(t *testing.T) {
	dir := secVolume(t, map[string]string{"password": secValue + "\r\n\n", "key": "k3y\n"})
	opts, state := secOpts(t, "NONROOT_FILE_ENV=DB_PASSWORD,API_KEY,NOT_GIVEN",
		"DB_PASSWORD_FILE="+filepath.Join(dir, "password"), "API_KEY_FILE="+filepath.Join(dir, "key"), "OTHER_FILE=/left/alone")
	r := harness.Run(t, 60*time.Second, opts, harness.Child(t), "env")
	env := portsEnv(t, r)
	for k, want := range map[string]string{"DB_PASSWORD": secValue, "API_KEY": "k3y", "OTHER_FILE": "/left/alone"} {
		if env[k] != want {
			t.Errorf("COMMAND got %s=%q; want %q\nstderr: %s", k, env[k], want, r.Stderr)
		}
	}
	for _, k := range []string{"DB_PASSWORD_FILE", "API_KEY_FILE", "NOT_GIVEN"} {
		if v, ok := env[k]; ok {
			t.Errorf("COMMAND got %s=%q; want it unset", k, v)
		}
	}
	if !strings.Contains(r.Stderr, `msg="variables set from files" names=DB_PASSWORD,API_KEY`) {
		t.Errorf("stderr lacks the info line naming the variables:\n%s", r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(state, "env")); err != nil {
		t.Errorf("STATE_DIR/env for nonroot-init exec: %v; want it written (without the secret)", err)
	}
	secNoValue(t, r, state)
}

func TestSecretsStar(t *testing.T) {
	dir := secVolume(t, map[string]string{"a": "from-a\n", "b": secValue})
	opts, state := secOpts(t, "NONROOT_FILE_ENV=*",
		"A_FILE="+filepath.Join(dir, "a"), "DB_PASSWORD_FILE="+filepath.Join(dir, "b"),
		"KEEP=given", "KEEP_FILE="+filepath.Join(dir, "a"))
	r := harness.Run(t, 60*time.Second, opts, harness.Child(t), "env")
	env := portsEnv(t, r)
	for k, want := range map[string]string{"A": "from-a", "DB_PASSWORD": secValue, "KEEP": "given", "KEEP_FILE": filepath.Join(dir, "a")} {
		if env[k] != want {
			t.Errorf("COMMAND got %s=%q; want %q\nstderr: %s", k, env[k], want, r.Stderr)
		}
	}
	for _, k := range []string{"A_FILE", "DB_PASSWORD_FILE"} {
		if _, ok := env[k]; ok {
			t.Errorf("COMMAND got %s; want it removed", k)
		}
	}
	if !strings.Contains(r.Stderr, "level=WARN") || !strings.Contains(r.Stderr, "KEEP kept and KEEP_FILE left") {
		t.Errorf("stderr lacks the warning naming KEEP and KEEP_FILE:\n%s", r.Stderr)
	}
	secNoValue(t, r, state)
}

// A listed NAME given both ways is a usage error found before step 1:
// nothing is created, not even STATE_DIR or a template's DST.
func TestSecretsConflictChangesNothing(t *testing.T) {
	dir := secVolume(t, map[string]string{"password": "from-file"})
	base := harness.SharedDir(t)
	src := filepath.Join(base, "a.conf.tmpl")
	tmplMust(t, os.WriteFile(src, []byte("x"), 0o644))
	dst := filepath.Join(base, "dst", "a.conf")
	opts, state := secOpts(t, "NONROOT_FILE_ENV=DB_PASSWORD", "NONROOT_TEMPLATES="+src+":"+dst,
		"DB_PASSWORD="+secValue, "DB_PASSWORD_FILE="+filepath.Join(dir, "password"))
	r := harness.Run(t, 60*time.Second, opts, harness.Child(t), "args", "started")
	if r.Code != 2 || !strings.Contains(r.Stderr, "DB_PASSWORD and DB_PASSWORD_FILE are both set") || strings.Contains(r.Stdout, "started") {
		t.Errorf("exit %d, stdout %q; want 2, COMMAND not started, and the two names\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	for _, p := range []string{state, filepath.Dir(dst)} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists (err %v); a usage error changes nothing", p, err)
		}
	}
	secNoValue(t, r, state)
}

// secWantFailure runs the init with DB_PASSWORD_FILE=file and wants 78,
// COMMAND not started, and every want in stderr.
func secWantFailure(t *testing.T, opts harness.Opts, state, file string, want ...string) {
	t.Helper()
	opts.Env = append(opts.Env, "NONROOT_FILE_ENV=DB_PASSWORD", "DB_PASSWORD_FILE="+file)
	r := harness.Run(t, 60*time.Second, opts, harness.Child(t), "args", "started")
	if r.Code != 78 || strings.Contains(r.Stdout, "started") {
		t.Errorf("exit %d, stdout %q; want 78 and COMMAND not started\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	want = append(want, "DB_PASSWORD_FILE="+file)
	for _, w := range want {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.Stderr)
		}
	}
	secNoValue(t, r, state)
}

// A Secret mounted 0400 for root in a pod without fsGroup.
func TestSecretsUnreadable(t *testing.T) {
	dir := secVolume(t, map[string]string{"password": secValue})
	tmplMust(t, os.Chmod(filepath.Join(dir, "..2026_11_29_11_00_00.987654321", "password"), 0o400))
	opts, state := secOpts(t)
	secWantFailure(t, opts, state, filepath.Join(dir, "password"),
		"is not readable by uid 1000680000 (gid 0, groups none): owner 0:0 mode 0400", "fsGroup", "defaultMode")
}

// With RUN_AS the file is read after the switch, as the target user:
// root's own access is never what reads it.
func TestSecretsReadAfterRunAs(t *testing.T) {
	dir := secVolume(t, map[string]string{"password": secValue})
	tmplMust(t, os.Chmod(filepath.Join(dir, "..2026_11_29_11_00_00.987654321", "password"), 0o400))
	opts, state := secOpts(t, "NONROOT_RUN_AS=1000680000:0")
	opts.UID = 0
	secWantFailure(t, opts, state, filepath.Join(dir, "password"), "is not readable by uid 1000680000")
}

func TestSecretsMissingFile(t *testing.T) {
	opts, state := secOpts(t)
	secWantFailure(t, opts, state, filepath.Join(harness.SharedDir(t), "not-mounted"), "does not exist")
}

func TestSecretsTooLarge(t *testing.T) {
	dir := secVolume(t, map[string]string{"password": secValue + strings.Repeat("x", 1<<20+1-len(secValue))})
	opts, state := secOpts(t)
	secWantFailure(t, opts, state, filepath.Join(dir, "password"), "above the limit of 1 MiB")
}

// A named pipe nobody writes is refused at once, never waited on.
func TestSecretsFIFO(t *testing.T) {
	fifo := filepath.Join(harness.SharedDir(t), "pipe")
	tmplMust(t, syscall.Mkfifo(fifo, 0o666))
	opts, state := secOpts(t)
	secWantFailure(t, opts, state, fifo, "is a named pipe, not a regular file")
}

// Templates see the value through .Env and through file; a template
// error that would echo it shows a placeholder instead.
func TestSecretsInTemplates(t *testing.T) {
	dir := secVolume(t, map[string]string{"password": secValue + "\n"})
	base := tmplBase(t)
	src := filepath.Join(base, "src")
	tmplMust(t, os.Mkdir(src, 0o755))
	tmplMust(t, os.WriteFile(filepath.Join(src, "db.conf.tmpl"),
		[]byte(`env={{ .Env.DB_PASSWORD }} file={{ file "`+filepath.Join(dir, "password")+`" | trim }} fn={{ env "DB_PASSWORD" | quote }}`), 0o644))
	dst := tmplWritableDir(t, filepath.Join(base, "dst"))
	opts, state := secOpts(t, "NONROOT_FILE_ENV=DB_PASSWORD", "DB_PASSWORD_FILE="+filepath.Join(dir, "password"), "NONROOT_TEMPLATES="+src+":"+dst)
	r := harness.Run(t, 60*time.Second, opts, harness.Child(t), "args")
	if r.Code != 0 {
		t.Fatalf("exit %d; want 0\nstderr: %s", r.Code, r.Stderr)
	}
	got, err := os.ReadFile(filepath.Join(dst, "db.conf"))
	if want := "env=" + secValue + " file=" + secValue + ` fn="` + secValue + `"`; err != nil || string(got) != want {
		t.Errorf("db.conf = %q, %v; want %q", got, err, want)
	}
	secNoValue(t, r, state)

	for name, tmpl := range map[string]string{
		"env":  `{{ .Env.DB_PASSWORD | port }}`,
		"file": `{{ file "` + filepath.Join(dir, "password") + `" | trim | port }}`,
	} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(base, "bad-"+name)
			tmplMust(t, os.Mkdir(src, 0o755))
			tmplMust(t, os.WriteFile(filepath.Join(src, "bad.conf.tmpl"), []byte(tmpl), 0o644))
			dst := tmplWritableDir(t, filepath.Join(base, "dst-"+name))
			opts, state := secOpts(t, "NONROOT_FILE_ENV=DB_PASSWORD", "DB_PASSWORD_FILE="+filepath.Join(dir, "password"), "NONROOT_TEMPLATES="+src+":"+dst)
			r := harness.Run(t, 60*time.Second, opts, harness.Child(t), "args")
			if r.Code != 78 || !strings.Contains(r.Stderr, "bad.conf.tmpl:1:") || !strings.Contains(r.Stderr, "bad.conf.tmpl:1:") {
				t.Errorf("exit %d; want 78, the template's file:line and a placeholder for the value\nstderr: %s", r.Code, r.Stderr)
			}
			secNoValue(t, r, state)
			if got := tmplTree(t, dst); len(got) != 0 {
				t.Errorf("DST got %v; want nothing", got)
			}
		})
	}
}

// doctor names each file and whether it is readable, never the value,
// and renders templates with the values, writing nothing.
func TestSecretsDoctor(t *testing.T) {
	dir := secVolume(t, map[string]string{"password": secValue, "locked": secValue})
	tmplMust(t, os.Chmod(filepath.Join(dir, "..2026_11_29_11_00_00.987654321", "locked"), 0o400))
	base := tmplBase(t)
	src := filepath.Join(base, "db.conf.tmpl")
	tmplMust(t, os.WriteFile(src, []byte(`{{ .Env.DB_PASSWORD }}`), 0o644))
	dst := filepath.Join(tmplWritableDir(t, filepath.Join(base, "dst")), "db.conf")
	opts, state := secOpts(t, "NONROOT_FILE_ENV=DB_PASSWORD,API_KEY", "NONROOT_TEMPLATES="+src+":"+dst,
		"DB_PASSWORD_FILE="+filepath.Join(dir, "password"), "API_KEY_FILE="+filepath.Join(dir, "locked"))
	r := harness.Run(t, 60*time.Second, opts, "doctor", "--json")
	var rep struct {
		Secrets []struct {
			Name     string  `json:"name"`
			File     string  `json:"file"`
			Readable bool    `json:"readable"`
			Problem  *string `json:"problem"`
		} `json:"secrets"`
		Templates []struct {
			Problem *string `json:"problem"`
		} `json:"templates"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("doctor --json: %v\nstdout: %s\nstderr: %s", err, r.Stdout, r.Stderr)
	}
	if r.Code != 1 || len(rep.Secrets) != 2 || !rep.Secrets[0].Readable || rep.Secrets[0].Name != "DB_PASSWORD" ||
		rep.Secrets[1].Readable || rep.Secrets[1].Problem == nil || !strings.Contains(*rep.Secrets[1].Problem, "is not readable by uid 1000680000") {
		t.Errorf("exit %d, secrets %+v; want 1, DB_PASSWORD readable, API_KEY not\nstdout: %s", r.Code, rep.Secrets, r.Stdout)
	}
	if len(rep.Templates) != 1 || rep.Templates[0].Problem != nil {
		t.Errorf("templates %+v; want it rendered with DB_PASSWORD", rep.Templates)
	}
	if strings.Contains(r.Stdout, secValue) {
		t.Errorf("doctor shows the value:\n%s", r.Stdout)
	}
	if _, err := os.Lstat(dst); err == nil {
		t.Errorf("doctor wrote %s", dst)
	}
	secNoValue(t, r, state)
}
