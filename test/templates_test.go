package test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// tmplBase returns a directory under /tmp that UID 1000680000 can enter
// but not write (root-owned, 0755), removed at the end of the test.
func tmplBase(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nonroot-init-templates-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tmplMust(t, os.Chmod(dir, 0o755))
	return dir
}

func tmplMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// tmplConfigMap lays files out as the kubelet does for a ConfigMap
// volume, owned by root and read-only for anyone else: the data in
// ..<timestamp>/, the ..data link, and top-level links into ..data.
func tmplConfigMap(t *testing.T, root string, files map[string]string) {
	t.Helper()
	ts := "..2026_11_29_11_00_00.987654321"
	tmplMust(t, os.MkdirAll(filepath.Join(root, ts), 0o755))
	top := map[string]bool{}
	for rel, content := range files {
		path := filepath.Join(root, ts, rel)
		tmplMust(t, os.MkdirAll(filepath.Dir(path), 0o755))
		tmplMust(t, os.WriteFile(path, []byte(content), 0o644))
		top[strings.Split(rel, "/")[0]] = true
	}
	tmplMust(t, os.Symlink(ts, filepath.Join(root, "..data")))
	for name := range top {
		tmplMust(t, os.Symlink(filepath.Join("..data", name), filepath.Join(root, name)))
	}
}

// tmplWritableDir makes dir owned by the OpenShift UID, as an emptyDir
// is writable by the pod.
func tmplWritableDir(t *testing.T, dir string) string {
	t.Helper()
	tmplMust(t, os.MkdirAll(dir, 0o755))
	tmplMust(t, os.Chown(dir, harness.OpenShiftUID, 0))
	return dir
}

// tmplTree maps every entry below dir to its content ("<dir>" for
// directories), and checks that none is world-writable or a temporary
// file left behind.
func tmplTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o002 != 0 {
			t.Errorf("%s is world-writable: %v", path, info.Mode())
		}
		if strings.Contains(d.Name(), ".nonroot-init-") {
			t.Errorf("temporary file left behind: %s", path)
		}
		if d.IsDir() {
			out[rel] = "<dir>"
			return nil
		}
		b, err := os.ReadFile(path)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tmplUnquote undoes the text log format's quoting of the err value, so
// that messages can be compared with what the user reads.
func tmplUnquote(s string) string { return strings.ReplaceAll(s, `\"`, `"`) }

func tmplOpts(env ...string) harness.Opts {
	return harness.Opts{PID1: true, UID: harness.OpenShiftUID, GID: 0, Env: env}
}

// binaryBlob holds every byte value, CRLF and template-looking text: a
// copy must keep all of it.
func binaryBlob() string {
	var b strings.Builder
	for i := range 256 {
		b.WriteByte(byte(i))
	}
	b.WriteString("\r\n{{ .Env.NOT_A_TEMPLATE }}\n")
	return b.String()
}

func TestTemplatesFromConfigMap(t *testing.T) {
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	tmplConfigMap(t, src, map[string]string{
		"app.conf.tmpl":        "port={{ port \"HTTP_PORT\" }}\nuser={{ .User.UID }}:{{ .User.GID }}\nlevel={{ env \"LOG_LEVEL\" | default \"info\" }}\ngreeting={{ .Env.GREETING | quote }}\n",
		"blob.bin":             binaryBlob(),
		"conf.d/extra.yaml":    "copied: {{ as is }}\n",
		"conf.d/ports.tmpl":    "{{ .Ports | toJSON }}",
		"world-writable-ish":   "mode",
		"nested/dir/deep.tmpl": `{{ split "," "a,b" | join "+" }}`,
	})
	tmplMust(t, os.Chmod(filepath.Join(src, "..2026_11_29_11_00_00.987654321", "world-writable-ish"), 0o666))
	dst := filepath.Join(tmplWritableDir(t, filepath.Join(base, "emptydir")), "etc", "app")

	r := harness.Run(t, 30*time.Second, tmplOpts(
		"NONROOT_TEMPLATES="+src+":"+dst, "NONROOT_PORTS=HTTP_PORT=80", "GREETING=hello \"world\""),
		harness.Child(t), "args")
	if r.Code != 0 {
		t.Fatalf("exit %d; want 0\nstderr: %s", r.Code, r.Stderr)
	}
	got := tmplTree(t, dst)
	want := map[string]string{
		"app.conf":           "port=8080\nuser=1000680000:0\nlevel=info\ngreeting=\"hello \\\"world\\\"\"\n",
		"blob.bin":           binaryBlob(),
		"conf.d":             "<dir>",
		"conf.d/extra.yaml":  "copied: {{ as is }}\n",
		"conf.d/ports":       `{"HTTP_PORT":8080}`,
		"world-writable-ish": "mode",
		"nested":             "<dir>",
		"nested/dir":         "<dir>",
		"nested/dir/deep":    "a+b",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("DST %s = %q; want %q", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("DST has %s, which it should not (a .. entry?)", k)
		}
	}
	info, err := os.Stat(filepath.Join(dst, "world-writable-ish"))
	if err == nil && info.Mode().Perm() != 0o664 {
		t.Errorf("a 0666 source was written %v; want 0664", info.Mode())
	}
	if st, ok := info.Sys().(*syscall.Stat_t); !ok || st.Uid != harness.OpenShiftUID || st.Gid != 0 {
		t.Errorf("output not owned by %d:0: %+v", harness.OpenShiftUID, info.Sys())
	}
	if !strings.Contains(r.Stderr, "templates written") {
		t.Errorf("no info line for the step:\n%s", r.Stderr)
	}
}

func TestTemplatesErrorsWriteNothing(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // in stderr, after the source directory
	}{
		{"missing variable", map[string]string{"a.conf.tmpl": "ok\n{{ .Env.NOT_SET }}\n", "b.conf": "new copy"},
			[]string{`/a.conf.tmpl:2:7: at <.Env.NOT_SET>: map has no entry for key "NOT_SET"`}},
		{"syntax error", map[string]string{"a.conf.tmpl": "{{ if .Env }}\nno end\n", "b.conf": "new copy"},
			[]string{`/a.conf.tmpl:3: unexpected EOF`}},
		{"both, in two files", map[string]string{"a.conf.tmpl": "{{ .Env.NOT_SET }}", "b.conf.tmpl": "\n\n{{ end }}"},
			[]string{`/a.conf.tmpl:1:7: at <.Env.NOT_SET>`, `/b.conf.tmpl:3: unexpected {{end}}`}},
		{"required", map[string]string{"a.conf.tmpl": `{{ env "DATABASE_URL" | required "set DATABASE_URL" }}`},
			[]string{`/a.conf.tmpl:1:24: at <required "set DATABASE_URL">: error calling required: set DATABASE_URL`}},
		{"port not configured", map[string]string{"a.conf.tmpl": `{{ port "ADMIN_PORT" }}`},
			[]string{`/a.conf.tmpl:1:3: at <port "ADMIN_PORT">: error calling port: the name given is not in NONROOT_PORTS`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tmplBase(t)
			src := filepath.Join(base, "config")
			tmplConfigMap(t, src, tt.files)
			dst := tmplWritableDir(t, filepath.Join(base, "dst"))
			// What an earlier, good start left.
			old := map[string]string{"a.conf": "old a", "b.conf": "old b"}
			for name, content := range old {
				tmplMust(t, os.WriteFile(filepath.Join(dst, name), []byte(content), 0o644))
			}
			r := harness.Run(t, 30*time.Second, tmplOpts("NONROOT_TEMPLATES="+src+":"+dst), harness.Child(t), "args", "STARTED")
			if r.Code != 78 || strings.Contains(r.Stdout, "STARTED") {
				t.Errorf("exit %d, stdout %q; want 78 and COMMAND not started\nstderr: %s", r.Code, r.Stdout, r.Stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(tmplUnquote(r.Stderr), src+w) {
					t.Errorf("stderr does not contain %q:\n%s", src+w, r.Stderr)
				}
			}
			if got := tmplTree(t, dst); len(got) != len(old) || got["a.conf"] != old["a.conf"] || got["b.conf"] != old["b.conf"] {
				t.Errorf("DST changed to %q; want the previous content %q", got, old)
			}
		})
	}
}

func TestTemplatesUnreadableSecret(t *testing.T) {
	base := tmplBase(t)
	src := filepath.Join(base, "secret")
	tmplConfigMap(t, src, map[string]string{"token": "s3cret"})
	tmplMust(t, os.Chmod(filepath.Join(src, "..2026_11_29_11_00_00.987654321", "token"), 0o400))
	dst := tmplWritableDir(t, filepath.Join(base, "dst"))
	r := harness.Run(t, 30*time.Second, tmplOpts("NONROOT_TEMPLATES="+src+":"+dst), harness.Child(t), "args")
	want := filepath.Join(src, "token") + " is not readable by uid 1000680000"
	if r.Code != 78 || !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, "mode 0400") || !strings.Contains(r.Stderr, "fsGroup") {
		t.Errorf("exit %d; want 78 and %q with the mode and the fix\nstderr: %s", r.Code, want, r.Stderr)
	}
	if got := tmplTree(t, dst); len(got) != 0 {
		t.Errorf("DST got %v; want nothing", got)
	}
}

func TestTemplatesRefusePlantedSymlink(t *testing.T) {
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	tmplConfigMap(t, src, map[string]string{"conf.d/evil.conf": "x", "ok.conf": "y"})
	dst := tmplWritableDir(t, filepath.Join(base, "dst"))
	victim := tmplWritableDir(t, filepath.Join(base, "victim"))
	tmplMust(t, os.Symlink(victim, filepath.Join(dst, "conf.d")))
	r := harness.Run(t, 30*time.Second, tmplOpts("NONROOT_TEMPLATES="+src+":"+dst), harness.Child(t), "args")
	if r.Code != 78 || !strings.Contains(r.Stderr, filepath.Join(dst, "conf.d")+" is a symbolic link inside DST") {
		t.Errorf("exit %d; want 78 and the link named\nstderr: %s", r.Code, r.Stderr)
	}
	if entries, _ := os.ReadDir(victim); len(entries) != 0 {
		t.Errorf("written through the link: %v", entries)
	}
	if _, err := os.Lstat(filepath.Join(dst, "ok.conf")); err == nil {
		t.Errorf("ok.conf was written although another file failed")
	}
}

// TestTemplatesSubPathFile renders into a single bind-mounted file
// (Kubernetes subPath), where rename fails with EBUSY, so the file is
// written in place: in a directory the UID cannot write (the mount is
// seen before any temporary file), and in one it can (rename's EBUSY).
func TestTemplatesSubPathFile(t *testing.T) {
	harness.NeedTool(t, "mount")
	for _, dirWritable := range []bool{false, true} {
		t.Run(fmt.Sprintf("directory writable %v", dirWritable), func(t *testing.T) {
			base := tmplBase(t)
			src := filepath.Join(base, "config")
			tmplConfigMap(t, src, map[string]string{"app.conf.tmpl": "port={{ port \"HTTP_PORT\" }}\n"})
			etc := filepath.Join(base, "etc")
			tmplMust(t, os.Mkdir(etc, 0o755))
			if dirWritable {
				tmplWritableDir(t, etc)
			}
			target := filepath.Join(etc, "app.conf")
			tmplMust(t, os.WriteFile(target, []byte("image's own config, much longer than the new one\n"), 0o644))
			backing := filepath.Join(tmplWritableDir(t, filepath.Join(base, "emptydir")), "app.conf")
			tmplMust(t, os.WriteFile(backing, []byte("old content that is longer than the rendered one\n"), 0o664))
			tmplMust(t, os.Chown(backing, harness.OpenShiftUID, 0))

			cmd := rootPrelude(t, []string{"--mount", "--propagation", "private", "--pid", "--fork"},
				"mount --bind "+backing+" "+target, harness.OpenShiftUID, nil,
				[]string{"NONROOT_TEMPLATES=" + filepath.Join(src, "app.conf.tmpl") + ":" + target, "NONROOT_PORTS=HTTP_PORT=80"},
				"sh", "-c", "cat "+target)
			r := harness.Wait(t, 30*time.Second, cmd)
			if r.Code != 0 || r.Stdout != "port=8080\n" {
				t.Errorf("exit %d, COMMAND read %q; want 0 and %q\nstderr: %s", r.Code, r.Stdout, "port=8080\n", r.Stderr)
			}
			if got, _ := os.ReadFile(backing); string(got) != "port=8080\n" {
				t.Errorf("the mounted file holds %q; want %q", got, "port=8080\n")
			}
			if got := tmplTree(t, filepath.Dir(backing)); len(got) != 1 {
				t.Errorf("the volume holds %v; want app.conf only", got)
			}
			if got := tmplTree(t, etc); len(got) != 1 {
				t.Errorf("the directory holds %v; want app.conf only", got)
			}
		})
	}
}

func TestTemplatesDoctorWritesNothing(t *testing.T) {
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	tmplConfigMap(t, src, map[string]string{"good.conf.tmpl": "{{ port \"HTTP_PORT\" }}", "bad.conf.tmpl": "{{ .Env.NOT_SET }}"})
	dstParent := tmplWritableDir(t, filepath.Join(base, "emptydir"))
	dst := filepath.Join(dstParent, "out")
	r := harness.Run(t, 30*time.Second, tmplOpts("NONROOT_TEMPLATES="+src+":"+dst, "NONROOT_PORTS=HTTP_PORT=80"), "doctor")
	if r.Code != 1 || !strings.Contains(r.Stdout, "== templates") || !strings.Contains(r.Stdout, filepath.Join(src, "bad.conf.tmpl")+`:1:7: at <.Env.NOT_SET>`) {
		t.Errorf("doctor exit %d; want 1 with the template error in the templates section\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "HTTP_PORT:") || !strings.Contains(r.Stdout, "8080: 80 is below") {
		t.Errorf("doctor does not give the port decision:\n%s", r.Stdout)
	}
	if _, err := os.Lstat(dst); err == nil {
		t.Errorf("doctor created %s", dst)
	}
	if got := tmplTree(t, dstParent); len(got) != 0 {
		t.Errorf("doctor wrote %v", got)
	}
}

// TestExampleTemplates renders the shipped examples as uid 1000680000:
// nginx.conf.tmpl must give a configuration `nginx -t` accepts in each
// variant, app.yaml.tmpl the exact file below, or 78 naming the line of
// the missing DATABASE_URL.
func TestExampleTemplates(t *testing.T) {
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	base := tmplBase(t)
	src := filepath.Join(base, "templates")
	tmplMust(t, os.Mkdir(src, 0o755))
	for _, name := range []string{"nginx.conf.tmpl", "app.yaml.tmpl"} {
		b, err := os.ReadFile(filepath.Join(root, "templates", name))
		tmplMust(t, err)
		tmplMust(t, os.WriteFile(filepath.Join(src, name), b, 0o644))
	}

	t.Run("nginx", func(t *testing.T) {
		harness.NeedTool(t, "nginx")
		for _, extra := range [][]string{nil, {"NGINX_LISTEN_IPV6=true", "NGINX_ACCESS_LOG=off", "NGINX_WORKER_PROCESSES=2"}} {
			run := tmplWritableDir(t, filepath.Join(base, "run"))
			conf := filepath.Join(run, "nginx.conf")
			env := append([]string{"NONROOT_PORTS=HTTP_PORT=80", "NONROOT_TEMPLATES=" + filepath.Join(src, "nginx.conf.tmpl") + ":" + conf,
				"NGINX_RUN_DIR=" + run, "NGINX_ACCESS_LOG=" + filepath.Join(run, "access.log")}, extra...)
			nginx, err := exec.LookPath("nginx")
			tmplMust(t, err)
			r := harness.Run(t, 30*time.Second, tmplOpts(env...), nginx, "-t", "-c", conf)
			b, _ := os.ReadFile(conf)
			if r.Code != 0 || !strings.Contains(r.Stderr, "test is successful") || !strings.Contains(string(b), "listen 8080;") {
				t.Errorf("%v: nginx -t exit %d; want 0 and listen 8080\nstderr: %s\nnginx.conf:\n%s", extra, r.Code, r.Stderr, b)
			}
			tmplMust(t, os.RemoveAll(run))
		}
	})

	t.Run("app", func(t *testing.T) {
		dst := tmplWritableDir(t, filepath.Join(base, "app"))
		pair := "NONROOT_TEMPLATES=" + filepath.Join(src, "app.yaml.tmpl") + ":" + dst
		r := harness.Run(t, 30*time.Second, tmplOpts(pair, "NONROOT_PORTS=HTTP_PORT=80,METRICS_PORT=9090", "NONROOT_HOME=/tmp",
			"DATABASE_URL=postgres://db:5432/app?sslmode=disable", "ALLOWED_ORIGINS=https://a.example,https://b.example",
			"FEATURES=Beta, fast", "LOG_LEVEL=DEBUG"), harness.Child(t), "args")
		got, _ := os.ReadFile(filepath.Join(dst, "app.yaml"))
		want := `# Rendered by nonroot-init; do not edit.
server:
  # A Service's targetPort must name this port: 8080
  port: 8080
  metrics_port: 9090
  allowed_origins: ["https://a.example","https://b.example"]
log:
  level: "debug"
  format: "json"
database:
  url: "postgres://db:5432/app?sslmode=disable"
  # warning: DATABASE_URL disables TLS
features:
  - "beta"
  - "fast"
runtime:
  user: "default"
  uid: 1000680000
  gid: 0
  home: "/tmp"
  cache_dir: "/tmp/.cache/app"
  environment: "PRODUCTION"
  all_ports: {"HTTP_PORT":8080,"METRICS_PORT":9090}
  origins_header: "https://a.example, https://b.example"
`
		if r.Code != 0 || string(got) != want {
			t.Errorf("exit %d; app.yaml =\n%s\nwant\n%s\nstderr: %s", r.Code, got, want, r.Stderr)
		}
		r = harness.Run(t, 30*time.Second, tmplOpts(pair, "NONROOT_PORTS=HTTP_PORT=80,METRICS_PORT=9090"), harness.Child(t), "args")
		if wantErr := filepath.Join(src, "app.yaml.tmpl") + ":29:"; r.Code != 78 || !strings.Contains(r.Stderr, wantErr) || !strings.Contains(r.Stderr, "DATABASE_URL is required") {
			t.Errorf("without DATABASE_URL: exit %d; want 78 and %q\nstderr: %s", r.Code, wantErr, r.Stderr)
		}
	})
}
