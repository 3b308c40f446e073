package render

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// leftovers lists the temporary files Write may leave in dir's tree.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".nonroot-init-") {
			out = append(out, path)
		}
		return nil
	})
	return out
}

func TestWrite(t *testing.T) {
	// Files are written with fchmod, so the umask must not matter.
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dst := filepath.Join(t.TempDir(), "a", "b")
	files := []File{
		{Dir: dst, Rel: "nginx.conf", Mode: 0o644, Content: []byte("listen 8080;\n")},
		{Dir: dst, Rel: "conf.d/x/y.conf", Mode: 0o600, Content: []byte("secret")},
		{Dir: dst, Rel: "group-writable", Mode: 0o664, Content: nil},
	}
	if err := Write(files); err != nil {
		t.Fatalf("Write: %v", err)
	}
	for _, f := range files {
		got, err := os.ReadFile(f.Path())
		if err != nil || string(got) != string(f.Content) {
			t.Errorf("%s = %q, %v; want %q", f.Path(), got, err, f.Content)
		}
		info, err := os.Lstat(f.Path())
		if err != nil || info.Mode() != f.Mode {
			t.Errorf("%s: mode %v, %v; want %v", f.Path(), info.Mode(), err, f.Mode)
		}
	}
	// A second run replaces the content, a shorter one leaving no tail.
	files[0].Content = []byte("x")
	if err := Write(files[:1]); err != nil {
		t.Fatalf("second Write: %v", err)
	}
	if got, _ := os.ReadFile(files[0].Path()); string(got) != "x" {
		t.Errorf("after a second Write %s = %q; want %q", files[0].Path(), got, "x")
	}
	if l := leftovers(t, dst); l != nil {
		t.Errorf("temporary files left: %v", l)
	}
}

func TestWriteReplacesPlantedLinkWithoutFollowing(t *testing.T) {
	dst, victim := t.TempDir(), filepath.Join(t.TempDir(), "victim")
	must(t, os.WriteFile(victim, []byte("untouched"), 0o644))
	must(t, os.Symlink(victim, filepath.Join(dst, "app.conf")))
	if err := Write([]File{{Dir: dst, Rel: "app.conf", Mode: 0o644, Content: []byte("new")}}); err != nil {
		t.Fatalf("Write over a link: %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "untouched" {
		t.Errorf("the link's target was written: %q", got)
	}
	info, err := os.Lstat(filepath.Join(dst, "app.conf"))
	if err != nil || !info.Mode().IsRegular() {
		t.Errorf("app.conf is %v, %v; want a regular file replacing the link", info.Mode(), err)
	}
}

func TestWriteRefusesLinkedDirectory(t *testing.T) {
	dst, victim := t.TempDir(), t.TempDir()
	must(t, os.Symlink(victim, filepath.Join(dst, "conf.d")))
	err := Write([]File{{Dir: dst, Rel: "conf.d/evil.conf", Mode: 0o644, Content: []byte("x")}})
	if err == nil || !strings.Contains(err.Error(), "is a symbolic link inside DST") {
		t.Errorf("Write through a linked directory: err = %v; want a refusal", err)
	}
	if entries, _ := os.ReadDir(victim); len(entries) != 0 {
		t.Errorf("the link's target directory got %v", entries)
	}
}

func TestWriteRefusesEscape(t *testing.T) {
	dst := t.TempDir()
	for _, rel := range []string{"../x", "a/../../x", "./x/../../y"} {
		err := Write([]File{{Dir: dst, Rel: rel, Mode: 0o644}})
		if err == nil {
			t.Errorf("Write(Rel %q) = nil; want a refusal", rel)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dst), "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file was written outside DST: %v", err)
	}
}

func TestWriteFailureLeavesNothing(t *testing.T) {
	if os.Geteuid() == 0 {
		// Root writes into a 0555 directory, so fail the rename instead:
		// a non-empty directory stands where the file goes.
		dst := t.TempDir()
		must(t, os.MkdirAll(filepath.Join(dst, "keep", "inside"), 0o755))
		err := Write([]File{{Dir: dst, Rel: "keep", Mode: 0o644, Content: []byte("new")}})
		if err == nil {
			t.Fatalf("Write over a non-empty directory: err = nil; want an error")
		}
		entries, _ := os.ReadDir(dst)
		if len(entries) != 1 || entries[0].Name() != "keep" || !entries[0].IsDir() {
			t.Errorf("DST holds %v after the failure; want only the untouched keep/", entries)
		}
		return
	}
	dst := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dst, "keep"), []byte("old"), 0o644))
	must(t, os.Chmod(dst, 0o555))
	defer os.Chmod(dst, 0o755)
	err := Write([]File{{Dir: dst, Rel: "keep", Mode: 0o644, Content: []byte("new")}})
	if err == nil || !strings.Contains(err.Error(), "not writable by uid") {
		t.Errorf("Write into a read-only directory: err = %v; want the uid named", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "keep")); string(got) != "old" {
		t.Errorf("keep = %q; want it untouched", got)
	}
}

// TestRenderThenWrite is the round trip of the setup step: a ConfigMap
// tree rendered and written, twice (a restarted container).
func TestRenderThenWrite(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "etc")
	configMap(t, src, map[string]string{"app.yaml.tmpl": "port: {{ port \"HTTP_PORT\" }}\n", "ca.pem": "PEM"}, 0o644)
	for range 2 {
		files, err := Render([]config.Template{{Src: src, Dst: dst}}, testData)
		if err != nil {
			t.Fatal(err)
		}
		if err := Write(files); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dst)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "app.yaml,ca.pem" {
		t.Errorf("DST holds %v; want app.yaml, ca.pem", names)
	}
}
