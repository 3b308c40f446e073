package render

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// foreignUID owns the links another user plants.
const foreignUID = 1000

// needRootToChown skips a test that must make a file owned by another
// user.
func needRootToChown(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs as root): makes a symbolic link owned by uid 1000 with lchown")
	}
}

// foreignLink makes path a symbolic link to target owned by uid 1000.
func foreignLink(t *testing.T, target, path string) {
	t.Helper()
	must(t, os.Symlink(target, path))
	must(t, os.Lchown(path, foreignUID, foreignUID))
}

// victim is a root-only file the links point at: /etc/shadow.
type victim struct{ dir, path string }

func newVictim(t *testing.T) victim {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "etc")
	must(t, os.Mkdir(dir, 0o755))
	path := filepath.Join(dir, "shadow")
	must(t, os.WriteFile(path, []byte("root:$6$secret:20000::::::\n"), 0o600))
	return victim{dir, path}
}

// untouched fails unless the victim still holds its content and mode,
// and its directory holds nothing else.
func (v victim) untouched(t *testing.T, what string) {
	t.Helper()
	got, err := os.ReadFile(v.path)
	info, serr := os.Lstat(v.path)
	if err != nil || serr != nil || string(got) != "root:$6$secret:20000::::::\n" || info.Mode() != 0o600 {
		t.Errorf("%s: %s = %q mode %v (%v, %v); want it untouched, mode 0600", what, v.path, got, info.Mode(), err, serr)
	}
	if entries, _ := os.ReadDir(v.dir); len(entries) != 1 {
		t.Errorf("%s: %s holds %v; want shadow only", what, v.dir, entries)
	}
}

// TestTrust2DstForeignLinkRefused: a symbolic link owned by another user
// anywhere on the way to DST (the review's `ln -s /mnt/etc
// /mnt/vol/conf`, deeper in the path, relative, or as the target of a
// root-owned link) is not followed by Write nor
// by Render's check: the pair fails naming the link, its owner and the
// fix, and the link's target is untouched (it used to be replaced, its
// mode going from 0600 to 0644).
func TestTrust2DstForeignLinkRefused(t *testing.T) {
	needRootToChown(t)
	tests := []struct {
		name string
		// plant lays out base and returns DST and the link to name.
		plant func(t *testing.T, base string, v victim) (dst, link string)
	}{
		{"DST is the link", func(t *testing.T, base string, v victim) (string, string) {
			link := filepath.Join(base, "vol", "conf")
			foreignLink(t, v.dir, link)
			return link, link
		}},
		{"a link above DST", func(t *testing.T, base string, v victim) (string, string) {
			link := filepath.Join(base, "vol", "conf")
			foreignLink(t, filepath.Dir(v.dir), link)
			return filepath.Join(link, "etc"), link
		}},
		{"a relative link", func(t *testing.T, base string, v victim) (string, string) {
			link := filepath.Join(base, "vol", "conf")
			rel, err := filepath.Rel(filepath.Dir(link), v.dir)
			must(t, err)
			foreignLink(t, rel, link)
			return link, link
		}},
		{"behind a root-owned link", func(t *testing.T, base string, v victim) (string, string) {
			link := filepath.Join(base, "vol", "conf")
			foreignLink(t, v.dir, link)
			must(t, os.Symlink(link, filepath.Join(base, "run")))
			return filepath.Join(base, "run"), link
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, v := t.TempDir(), newVictim(t)
			must(t, os.Mkdir(filepath.Join(base, "vol"), 0o755))
			must(t, os.Chown(filepath.Join(base, "vol"), foreignUID, foreignUID))
			dst, link := tt.plant(t, base, v)
			wants := []string{link + " is a symbolic link owned by uid 1000", "remove the link"}

			err := Write([]File{{Dir: dst, Rel: "shadow", Source: "src/shadow", Mode: 0o644, Content: []byte("pwned\n")}})
			if err == nil {
				t.Errorf("Write through %s = nil; want a refusal", link)
			}
			for _, w := range wants {
				if err != nil && !strings.Contains(err.Error(), w) {
					t.Errorf("Write error\n  %v\nwant it to contain\n  %s", err, w)
				}
			}
			v.untouched(t, "Write")

			src := t.TempDir()
			must(t, os.WriteFile(filepath.Join(src, "shadow"), []byte("pwned\n"), 0o644))
			files, err := Render([]config.Template{{Src: src, Dst: dst}}, testData)
			var rerr *Error
			if !errors.As(err, &rerr) || files != nil {
				t.Fatalf("Render(DST %s) = %v, %v; want nil, *Error", dst, files, err)
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Render error\n  %v\nwant it to contain\n  %s", err, w)
				}
			}
			v.untouched(t, "Render")
		})
	}
}

// TestTrust2DstOwnedLinkFollowed: a link owned by root or by our own
// user (Debian's /var/run -> /run, an image's /etc/app -> /tmp/app) is
// followed, absolute or relative, through ".." too, and a missing
// directory is created at its target.
func TestTrust2DstOwnedLinkFollowed(t *testing.T) {
	tests := []struct {
		name    string
		target  func(base string) string
		dst     func(base string) string
		written string // below base
	}{
		{"absolute", func(b string) string { return filepath.Join(b, "real") }, func(b string) string { return filepath.Join(b, "link") }, "real/app.conf"},
		{"relative", func(string) string { return "real" }, func(b string) string { return filepath.Join(b, "link") }, "real/app.conf"},
		{"through ..", func(string) string { return "real/../real/sub/.." }, func(b string) string { return filepath.Join(b, "link", "x") }, "real/x/app.conf"},
		{"to a missing directory", func(string) string { return "real/new" }, func(b string) string { return filepath.Join(b, "link", "deeper") }, "real/new/deeper/app.conf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			must(t, os.MkdirAll(filepath.Join(base, "real", "sub"), 0o755))
			must(t, os.Symlink(tt.target(base), filepath.Join(base, "link")))
			f := File{Dir: tt.dst(base), Rel: "app.conf", Mode: 0o644, Content: []byte("new")}
			if err := checkDest(f); err != nil {
				t.Errorf("checkDest(%s) = %v; want nil", f.Path(), err)
			}
			if err := Write([]File{f}); err != nil {
				t.Fatalf("Write(%s) = %v; want nil", f.Path(), err)
			}
			if got, err := os.ReadFile(filepath.Join(base, tt.written)); string(got) != "new" {
				t.Errorf("%s = %q, %v; want %q", tt.written, got, err, "new")
			}
			if info, err := os.Lstat(filepath.Join(base, "link")); err != nil || info.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("the link was replaced: %v, %v", info, err)
			}
		})
	}
}

// TestTrust2DstRelNeverFollowsLinks: below DST, even a link of our own
// is never followed (as before), and Render names it.
func TestTrust2DstRelNeverFollowsLinks(t *testing.T) {
	dst, elsewhere := t.TempDir(), t.TempDir()
	must(t, os.Symlink(elsewhere, filepath.Join(dst, "conf.d")))
	f := File{Dir: dst, Rel: "conf.d/a.conf", Source: "src/conf.d/a.conf", Mode: 0o644, Content: []byte("x")}
	want := filepath.Join(dst, "conf.d") + " is a symbolic link inside DST " + dst
	if err := checkDest(f); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("checkDest = %v; want it to contain %q", err, want)
	}
	if err := Write([]File{f}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Write = %v; want it to contain %q", err, want)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("written through the link: %v", entries)
	}
}

// TestTrust2DstHardLinkedRootLinkRefused: root's own link hard-linked
// into another user's directory (where fs.protected_hardlinks is 0, any
// user can: `ln /var/run /data/conf` names root's /var/run -> /run link
// there) is not followed by root, since root did not put it there.
func TestTrust2DstHardLinkedRootLinkRefused(t *testing.T) {
	needRootToChown(t)
	base, v := t.TempDir(), newVictim(t)
	vol := filepath.Join(base, "vol")
	must(t, os.Mkdir(vol, 0o755))
	must(t, os.Chown(vol, foreignUID, foreignUID))
	rootLink := filepath.Join(base, "run")
	must(t, os.Symlink(v.dir, rootLink))
	link := filepath.Join(vol, "conf")
	must(t, os.Link(rootLink, link)) // linkat without AT_SYMLINK_FOLLOW: the link itself
	want := link + " is a symbolic link owned by root with 2 hard links"

	err := Write([]File{{Dir: link, Rel: "shadow", Mode: 0o644, Content: []byte("pwned\n")}})
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Write through %s = %v; want it to contain %q", link, err, want)
	}
	v.untouched(t, "Write")
	if err := checkDest(File{Dir: link, Rel: "shadow", Source: "src/shadow"}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("checkDest through %s = %v; want it to contain %q", link, err, want)
	}
	// Root's own link, with its one name, is followed.
	if err := Write([]File{{Dir: rootLink, Rel: "new", Mode: 0o644, Content: []byte("x")}}); err == nil {
		t.Errorf("Write through root's link while it has 2 names = nil; want a refusal")
	}
	must(t, os.Remove(link))
	if err := Write([]File{{Dir: rootLink, Rel: "new", Mode: 0o644, Content: []byte("x")}}); err != nil {
		t.Errorf("Write through root's own link = %v; want nil", err)
	}
}
