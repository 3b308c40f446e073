package render

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// TestTrust2SrcLinkSwapNeverReadsOutside: a link in SRC that another
// user swaps, between pointing inside SRC and pointing at a file outside
// it, while Render runs, never gets the outside file copied: the link
// that was checked is the one that is read. (Render used to check the
// link by name, then open it by name again.) Whatever the interleaving,
// each Render either refuses the link or copies the inside file, so the
// test cannot fail by timing once the hole is closed.
func TestTrust2SrcLinkSwapNeverReadsOutside(t *testing.T) {
	base := t.TempDir()
	src, spare, dst := filepath.Join(base, "src"), filepath.Join(base, "spare"), filepath.Join(base, "dst")
	must(t, os.Mkdir(src, 0o755))
	must(t, os.Mkdir(spare, 0o755))
	must(t, os.WriteFile(filepath.Join(src, "inside"), []byte("ok"), 0o644))
	secret := filepath.Join(base, "secret")
	must(t, os.WriteFile(secret, []byte("SECRET"), 0o600))
	link := filepath.Join(src, "x")
	must(t, os.Symlink("inside", link))

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			target := "inside"
			if i%2 == 1 {
				target = secret
			}
			tmp := filepath.Join(spare, "x")
			if os.Symlink(target, tmp) != nil || os.Rename(tmp, link) != nil {
				return
			}
		}
	}()
	defer func() { stop.Store(true); wg.Wait() }()

	copied := 0
	for range 3000 {
		files, err := Render([]config.Template{{Src: src, Dst: dst}}, testData)
		for _, f := range files {
			if strings.Contains(string(f.Content), "SECRET") {
				t.Fatalf("Render copied the file outside SRC through the swapped link %s to %s", link, f.Path())
			}
		}
		var rerr *Error
		if err != nil && !errors.As(err, &rerr) {
			t.Fatalf("Render = %v; want nil or *Error", err)
		}
		if err == nil {
			copied++
		}
	}
	t.Logf("%d of 3000 renders copied the inside file", copied)
}

// TestTrust2SrcForeignLinkRefused: a symbolic link owned by another user
// on the way to SRC (the SRC directory itself, a link above it, a file
// SRC) is not followed: a user who owns a volume cannot point root's SRC
// at /etc. Render fails naming the link and its owner.
func TestTrust2SrcForeignLinkRefused(t *testing.T) {
	needRootToChown(t)
	v := newVictim(t)
	tests := []struct {
		name  string
		plant func(t *testing.T, vol string) (srcPath, link string)
	}{
		{"SRC directory", func(t *testing.T, vol string) (string, string) {
			link := filepath.Join(vol, "config")
			foreignLink(t, v.dir, link)
			return link, link
		}},
		{"above SRC", func(t *testing.T, vol string) (string, string) {
			link := filepath.Join(vol, "config")
			foreignLink(t, filepath.Dir(v.dir), link)
			return filepath.Join(link, "etc"), link
		}},
		{"file SRC", func(t *testing.T, vol string) (string, string) {
			link := filepath.Join(vol, "app.conf")
			foreignLink(t, v.path, link)
			return link, link
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vol := t.TempDir()
			must(t, os.Chown(vol, foreignUID, foreignUID))
			srcPath, link := tt.plant(t, vol)
			dst := filepath.Join(t.TempDir(), "out")
			files, err := Render([]config.Template{{Src: srcPath, Dst: dst}}, testData)
			wantNothingWritten(t, tt.name, files, err, dst, link+" is a symbolic link owned by uid 1000")
		})
	}
}

// TestTrust2SrcInsideLinksAnyOwner: links that stay inside SRC are
// followed whoever owns them (they can only name what SRC holds), so a
// ConfigMap works with its links owned by root or by anyone; links out of
// SRC are refused whoever owns them, ours included.
func TestTrust2SrcInsideLinksAnyOwner(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
	configMap(t, src, map[string]string{"app.conf": "a", "conf.d/x.conf": "x"}, 0o644)
	must(t, os.Symlink(filepath.Join(src, "..data", "app.conf"), filepath.Join(src, "absolute-inside")))
	if os.Geteuid() == 0 {
		for _, name := range []string{"..data", "app.conf", "conf.d", "absolute-inside"} {
			must(t, os.Lchown(filepath.Join(src, name), foreignUID, foreignUID))
		}
	}
	files, err := Render([]config.Template{{Src: src, Dst: dst}}, testData)
	got := outputs(files, dst)
	if err != nil || got["app.conf"] != "a" || got["conf.d/x.conf"] != "x" || got["absolute-inside"] != "a" || len(got) != 3 {
		t.Errorf("Render(ConfigMap, links owned by uid %d) = %q, %v; want app.conf, conf.d/x.conf, absolute-inside", foreignUID, got, err)
	}

	out := t.TempDir()
	outside := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(outside, []byte("token"), 0o600))
	for _, target := range []string{outside, "../" + filepath.Base(filepath.Dir(outside)) + "/token", "../../../../../../../../../../" + outside} {
		must(t, os.RemoveAll(filepath.Join(out, "token")))
		must(t, os.Symlink(target, filepath.Join(out, "token")))
		files, err := Render([]config.Template{{Src: out, Dst: dst}}, testData)
		wantNothingWritten(t, target, files, err, dst, filepath.Join(out, "token")+" is a symbolic link out of SRC")
	}
}

// TestTrust2SrcHardLinkRefusedAsRoot: running as root, a source file with
// more than one hard link is not read: where fs.protected_hardlinks is 0,
// the user who writes SRC can hard-link /etc/shadow there.
func TestTrust2SrcHardLinkRefusedAsRoot(t *testing.T) {
	needRootToChown(t)
	v := newVictim(t)
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
	must(t, os.WriteFile(filepath.Join(src, "app.conf"), []byte("ok"), 0o644))
	must(t, os.Link(v.path, filepath.Join(src, "shadow")))
	for _, pair := range []config.Template{{Src: src, Dst: dst}, {Src: filepath.Join(src, "shadow"), Dst: dst}} {
		files, err := Render([]config.Template{pair}, testData)
		wantNothingWritten(t, pair.Src, files, err, dst, filepath.Join(src, "shadow")+" has 2 hard links")
	}
}
