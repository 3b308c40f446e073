package render

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// configMap lays files out the way the kubelet's atomic writer does: the
// data in ..<timestamp>/, a ..data link to it, and one top-level link per
// top-level name into ..data. files maps a path (which may hold a
// directory, like a projected item's path) to its content.
func configMap(t *testing.T, root string, files map[string]string, mode fs.FileMode) {
	t.Helper()
	ts := "..2026_11_29_10_57_04.1234567890"
	top := map[string]bool{}
	for rel, content := range files {
		path := filepath.Join(root, ts, rel)
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, []byte(content), mode))
		must(t, os.Chmod(path, mode))
		top[strings.Split(rel, "/")[0]] = true
	}
	must(t, os.Symlink(ts, filepath.Join(root, "..data")))
	for name := range top {
		must(t, os.Symlink(filepath.Join("..data", name), filepath.Join(root, name)))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// outputs maps each file's path below base to its content.
func outputs(files []File, base string) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		rel, _ := filepath.Rel(base, f.Path())
		out[rel] = string(f.Content)
	}
	return out
}

func TestRenderConfigMap(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
	binary := "\x00\x01\xff{{ not a template }}\r\n"
	configMap(t, src, map[string]string{
		"app.conf.tmpl":      "port={{ port \"HTTP_PORT\" }}\nuser={{ .User.Name }}\nlevel={{ env \"LOG_LEVEL\" | default \"info\" }}\n",
		"static.txt":         "{{ copied as is }}\n",
		"blob.bin":           binary,
		"conf.d/extra.tmpl":  "home={{ .User.Home }}",
		".hidden":            "dotfile",
		"nested/deep/x.tmpl": `{{ .Env.LOG_LEVEL | upper }}`,
	}, 0o644)
	files, err := Render([]config.Template{{Src: src, Dst: dst}}, testData)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	got := outputs(files, dst)
	want := map[string]string{
		"app.conf":      "port=8080\nuser=default\nlevel=debug\n",
		"static.txt":    "{{ copied as is }}\n",
		"blob.bin":      binary,
		"conf.d/extra":  "home=/tmp/nonroot-init/home",
		".hidden":       "dotfile",
		"nested/deep/x": "DEBUG",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Render(ConfigMap) = %q; want %q", got, want)
	}
	for _, f := range files {
		if strings.Contains(f.Rel, "..") || strings.Contains(f.Source, "..") {
			t.Errorf("file %+v comes from or goes to a .. entry", f)
		}
		if f.Mode != 0o644 {
			t.Errorf("%s: mode %04o; want 0644", f.Rel, f.Mode)
		}
		if f.Rendered != strings.HasSuffix(f.Source, ".tmpl") {
			t.Errorf("%s: Rendered = %v", f.Source, f.Rendered)
		}
	}
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Render created %s (err %v); it must write nothing", dst, err)
	}
}

func TestRenderSingleFile(t *testing.T) {
	src := t.TempDir()
	must(t, os.WriteFile(filepath.Join(src, "nginx.conf.tmpl"), []byte("listen {{ port \"HTTP_PORT\" }};"), 0o640))
	must(t, os.WriteFile(filepath.Join(src, "mime.types"), []byte("types {}"), 0o400))
	existingDir := t.TempDir()
	newDir := filepath.Join(t.TempDir(), "x", "y")
	tests := []struct {
		name     string
		pair     config.Template
		wantPath string
		want     string
		mode     fs.FileMode
	}{
		{"template to a file path", config.Template{Src: filepath.Join(src, "nginx.conf.tmpl"), Dst: filepath.Join(newDir, "nginx.conf")}, filepath.Join(newDir, "nginx.conf"), "listen 8080;", 0o640},
		{"template into an existing directory", config.Template{Src: filepath.Join(src, "nginx.conf.tmpl"), Dst: existingDir}, filepath.Join(existingDir, "nginx.conf"), "listen 8080;", 0o640},
		{"copy of a 0400 secret", config.Template{Src: filepath.Join(src, "mime.types"), Dst: existingDir}, filepath.Join(existingDir, "mime.types"), "types {}", 0o600},
	}
	for _, tt := range tests {
		files, err := Render([]config.Template{tt.pair}, testData)
		if err != nil || len(files) != 1 {
			t.Errorf("%s: Render(%v) = %v, %v; want one file", tt.name, tt.pair, files, err)
			continue
		}
		f := files[0]
		if f.Path() != tt.wantPath || string(f.Content) != tt.want || f.Mode != tt.mode {
			t.Errorf("%s: Render(%v) = %s %q %04o; want %s %q %04o", tt.name, tt.pair, f.Path(), f.Content, f.Mode, tt.wantPath, tt.want, tt.mode)
		}
	}
}

func TestOutputMode(t *testing.T) {
	tests := []struct{ in, want fs.FileMode }{
		{0o644, 0o644}, {0o400, 0o600}, {0o444, 0o644}, {0o666, 0o664}, {0o777, 0o775}, {0o000, 0o600},
		{0o755, 0o755}, {0o640 | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky, 0o640},
	}
	for _, tt := range tests {
		if got := outputMode(tt.in); got != tt.want {
			t.Errorf("outputMode(%v) = %04o; want %04o", tt.in, got, tt.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	configMap(t, src, map[string]string{
		"bad-syntax.conf.tmpl": "ok\n{{ if }}\n",
		"missing.conf.tmpl":    "a\nb\n{{ .Env.NOT_SET }}\n",
		"fine.conf.tmpl":       "fine",
	}, 0o644)
	loop := t.TempDir()
	must(t, os.Mkdir(filepath.Join(loop, "sub"), 0o755))
	must(t, os.Symlink("..", filepath.Join(loop, "sub", "up")))
	fifo := t.TempDir()
	must(t, syscall.Mkfifo(filepath.Join(fifo, "pipe"), 0o644))
	broken := t.TempDir()
	must(t, os.Symlink("/nonexistent/target", filepath.Join(broken, "dangling")))
	outside := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	must(t, os.WriteFile(secret, []byte("token"), 0o600))
	must(t, os.Symlink(secret, filepath.Join(outside, "token")))
	dup := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dup, "a.conf"), []byte("copy"), 0o644))
	must(t, os.WriteFile(filepath.Join(dup, "a.conf.tmpl"), []byte("rendered"), 0o644))
	planted := t.TempDir()
	must(t, os.Symlink("/etc", filepath.Join(planted, "conf.d")))
	nested := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(nested, "conf.d"), 0o755))
	must(t, os.WriteFile(filepath.Join(nested, "conf.d", "a.conf"), []byte("a"), 0o644))
	fileDst := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(fileDst, nil, 0o644))
	dirInWay := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dirInWay, "conf.d", "a.conf"), 0o755))

	tests := []struct {
		name string
		pair config.Template
		want []string
	}{
		{"template errors, all of them", config.Template{Src: src, Dst: dst}, []string{
			filepath.Join(src, "bad-syntax.conf.tmpl") + ":2: missing value for if",
			filepath.Join(src, "missing.conf.tmpl") + `:3:7: at <.Env.NOT_SET>: map has no entry for key "NOT_SET"`}},
		{"missing source", config.Template{Src: "/nonexistent/src", Dst: dst}, []string{"/nonexistent/src does not exist"}},
		{"DST inside SRC", config.Template{Src: src, Dst: filepath.Join(src, "out")}, []string{"DST is inside SRC"}},
		{"DST is SRC", config.Template{Src: src, Dst: src}, []string{"DST is inside SRC"}},
		{"symlink loop", config.Template{Src: loop, Dst: dst}, []string{"symbolic link loop"}},
		{"fifo", config.Template{Src: fifo, Dst: dst}, []string{"pipe is a named pipe, not a file or directory"}},
		{"fifo as SRC", config.Template{Src: filepath.Join(fifo, "pipe"), Dst: dst}, []string{"pipe is a named pipe, not a file or directory"}},
		{"broken link", config.Template{Src: broken, Dst: dst}, []string{"dangling does not exist (a broken symbolic link"}},
		{"link out of SRC", config.Template{Src: outside, Dst: dst}, []string{filepath.Join(outside, "token") + " is a symbolic link out of SRC"}},
		{"two sources, one output", config.Template{Src: dup, Dst: dst}, []string{"would both be written to " + filepath.Join(dst, "a.conf")}},
		{"symlink planted in DST", config.Template{Src: nested, Dst: planted}, []string{filepath.Join(planted, "conf.d") + " is a symbolic link inside DST"}},
		{"DST is a file", config.Template{Src: nested, Dst: fileDst}, []string{"DST " + fileDst + " is not a directory"}},
		{"directory in the way", config.Template{Src: nested, Dst: dirInWay}, []string{"a.conf is a directory in the way"}},
	}
	for _, tt := range tests {
		files, err := Render([]config.Template{tt.pair}, testData)
		var rerr *Error
		if !errors.As(err, &rerr) || files != nil {
			t.Errorf("%s: Render(%v) = %v, %v; want nil, *Error", tt.name, tt.pair, files, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: Render(%v) error\n  %v\nwant it to contain\n  %s", tt.name, tt.pair, err, w)
			}
		}
		if !strings.HasPrefix(err.Error(), "NONROOT_TEMPLATES: nothing was written: ") {
			t.Errorf("%s: error %q does not name the setting", tt.name, err)
		}
	}
}

func TestSourceErrorUnreadable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	must(t, os.WriteFile(path, nil, 0o400))
	err := sourceError(path, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES})
	for _, w := range []string{path + " is not readable by uid ", "mode 0400", "fsGroup", "defaultMode"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("sourceError(EACCES) = %q; want it to contain %q", err, w)
		}
	}
}

func TestCollectSkipsDotDotAndSorts(t *testing.T) {
	src := t.TempDir()
	configMap(t, src, map[string]string{"b": "", "a": "", "c/d": ""}, 0o644)
	must(t, os.WriteFile(filepath.Join(src, "..extra"), nil, 0o644))
	w, err := newWalker()
	must(t, err)
	defer w.close()
	_, err = w.walk(src, walkOpts{})
	must(t, err)
	var rels []string
	errs := collect(w, src, func(s source) error { rels = append(rels, s.rel); return nil })
	if want := []string{"a", "b", "c/d"}; !slices.Equal(rels, want) || errs != nil {
		t.Errorf("collect(ConfigMap) = %v, %v; want %v, nil", rels, errs, want)
	}
}
