package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDiagnoseAdviceFitsWhatWasSeen: the fix names a file as a file, a
// symbolic link's target instead of the link, and never proposes
// fsGroup: 0 (OpenShift's restricted profile refuses it).
func TestDiagnoseAdviceFitsWhatWasSeen(t *testing.T) {
	openshift := Identity{UID: 1000680000, GID: 0}
	dir := func(uid, gid int, mode uint32) facts {
		return facts{isDir: true, kind: "directory", uid: uid, gid: gid, mode: mode}
	}
	mounted := func(f facts) facts { f.mountRoot = true; return f }
	linked := func(f facts) facts { f.link, f.linkTarget, f.realPath = true, "../mnt/real", "/mnt/real"; return f }
	tests := []struct {
		name            string
		who             Identity
		f               facts
		err             error
		wantWhat        []string
		wantFix, notFix []string
	}{
		{"regular file", openshift, facts{kind: "regular file", mode: 0o644}, unix.ENOTDIR,
			[]string{"is a regular file, not a directory"}, []string{"/data is a file"}, []string{"mkdir"}},
		{"a component is a file", openshift, facts{statErr: unix.ENOTDIR}, unix.ENOTDIR,
			[]string{"a component of the path is not a directory"}, []string{"is a file"}, []string{"mkdir"}},
		{"mounted, no supplementary groups", openshift, mounted(dir(0, 0, 0o755)), unix.EACCES,
			nil, []string{"securityContext.fsGroup", "namespace's range", "fix-permissions /data"}, []string{"fsGroup: 0"}},
		{"image directory", openshift, dir(0, 0, 0o755), unix.EACCES,
			nil, []string{"chgrp -R 0 /data", "securityContext.fsGroup"}, []string{"fsGroup: 0"}},
		{"group 0 may write, we are not in it", Identity{UID: 1001, GID: 1001}, mounted(dir(0, 0, 0o775)), unix.EACCES,
			nil, []string{"supplementalGroups: [0]"}, []string{"fsGroup: 0"}},
		{"mounted, fsGroup ignored", Identity{UID: 1000680000, GID: 0, Groups: []int{0, 1000680000}}, mounted(dir(0, 0, 0o755)), unix.EACCES,
			nil, []string{"ignore fsGroup", "fix-permissions --group 1000680000 /data"}, []string{"fsGroup: 0"}},
		{"symlinked image directory", openshift, linked(dir(0, 0, 0o755)), unix.EACCES,
			[]string{"symbolic link to ../mnt/real (/mnt/real)"}, []string{"chgrp -R 0 /mnt/real && chmod -R g+rwX /mnt/real", "fix-permissions /mnt/real"}, []string{"/data "}},
		{"symlinked mount", openshift, mounted(linked(dir(0, 0, 0o755))), unix.EACCES,
			[]string{"symbolic link"}, []string{"fix-permissions /mnt/real"}, []string{"fix-permissions /data"}},
		{"dangling symbolic link", openshift, facts{statErr: unix.ENOENT, link: true, linkTarget: "/mnt/gone"}, unix.ENOENT,
			[]string{"symbolic link to /mnt/gone, which does not exist"}, []string{"mkdir -p /mnt/gone"}, []string{"mkdir -p /data"}},
	}
	for _, tt := range tests {
		p := diagnose("/data", tt.who, tt.f, tt.err)
		for _, w := range tt.wantWhat {
			if !strings.Contains(p.What, w) {
				t.Errorf("%s: diagnose(/data, %+v, %+v, %v).What = %q; want it to contain %q", tt.name, tt.who, tt.f, tt.err, p.What, w)
			}
		}
		for _, w := range tt.wantFix {
			if !strings.Contains(p.Fix, w) {
				t.Errorf("%s: diagnose(...).Fix = %q; want it to contain %q", tt.name, p.Fix, w)
			}
		}
		for _, w := range tt.notFix {
			if strings.Contains(p.Fix, w) {
				t.Errorf("%s: diagnose(...).Fix = %q; want no %q in it", tt.name, p.Fix, w)
			}
		}
	}
}

// TestGatherSymlink: gather sees the link, its target and the real path.
func TestGatherSymlink(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	mustMkdir(t, real, 0o755)
	link := filepath.Join(base, "link")
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	f := gather(link)
	if !f.link || f.linkTarget != "real" || f.realPath != real || !f.isDir {
		t.Errorf("gather(%s) = %+v; want a link to real resolving to %s", link, f, real)
	}
	if f := gather(real); f.link || f.realPath != "" {
		t.Errorf("gather(%s) = %+v; want no link, no real path", real, f)
	}
}
