package volumes

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDiagnose(t *testing.T) {
	openshift := Identity{UID: 1000680000, GID: 0}
	dir := func(uid, gid int, mode uint32) facts {
		return facts{isDir: true, kind: "directory", uid: uid, gid: gid, mode: mode, statfsOK: true, freeBytes: 0, sizeBytes: 64 << 10}
	}
	mounted := func(f facts) facts { f.mountRoot = true; return f }
	readOnly := func(f facts) facts { f.readOnly = true; return f }
	tests := []struct {
		name     string
		who      Identity
		f        facts
		err      error
		wantWhat []string
		wantFix  []string
	}{
		{"missing", openshift, facts{statErr: unix.ENOENT}, unix.ENOENT,
			[]string{"does not exist"}, []string{"mount a volume at /data", "mkdir -p /data"}},
		{"regular file", openshift, facts{kind: "regular file", mode: 0o644}, unix.ENOTDIR,
			[]string{"is a regular file, not a directory"}, []string{"/data is a file"}},
		{"read-only mount", openshift, readOnly(mounted(dir(0, 0, 0o777))), unix.EROFS,
			[]string{"read-only filesystem"}, []string{"readOnly: true"}},
		{"read-only root filesystem", openshift, readOnly(dir(0, 0, 0o777)), unix.EROFS,
			[]string{"read-only filesystem"}, []string{"emptyDir at /data"}},
		{"full", openshift, dir(0, 0, 0o777), unix.ENOSPC,
			[]string{"no space left", "0 bytes free of 64 KiB"}, []string{"sizeLimit"}},
		{"quota", openshift, dir(0, 0, 0o777), unix.EDQUOT,
			[]string{"quota"}, []string{"raise the quota"}},
		{"root-owned 0755 volume", openshift, mounted(dir(0, 0, 0o755)), unix.EACCES,
			[]string{"not writable by uid 1000680000 (groups 0)", "owner root:root mode 0755"},
			[]string{"securityContext.fsGroup", "nonroot-init fix-permissions /data"}},
		{"root-owned 0755 image directory", openshift, dir(0, 0, 0o755), unix.EACCES,
			[]string{"owner root:root mode 0755"}, []string{"build time", "chgrp -R 0 /data && chmod -R g+rwX /data"}},
		{"group-writable by a group we lack", Identity{UID: 1001, GID: 1001, Groups: []int{1001}}, mounted(dir(0, 2000, 0o2775)), unix.EACCES,
			[]string{"owner root:2000 mode 2775"}, []string{"runAsGroup: 2000", "supplementalGroups: [2000]"}},
		{"non-zero gid in the fix command", Identity{UID: 1001, GID: 1001}, mounted(dir(0, 0, 0o755)), unix.EACCES,
			[]string{"groups 1001"}, []string{"fsGroup: 1001", "fix-permissions --group 1001 /data"}},
		{"fsGroup set but ignored by the volume", Identity{UID: 1000680000, GID: 0, Groups: []int{0, 1000680000}}, mounted(dir(0, 0, 0o755)), unix.EACCES,
			[]string{"owner root:root mode 0755"}, []string{"already in groups 1000680000", "ignore fsGroup", "fix-permissions --group 1000680000 /data"}},
		{"owner without write", Identity{UID: 1001, GID: 0}, dir(1001, 0, 0o555), unix.EACCES,
			[]string{"owner 1001:root mode 0555"}, []string{"chmod u+rwx /data"}},
		{"mode allows: LSM", openshift, dir(0, 0, 0o777), unix.EACCES,
			[]string{"although its mode bits allow it", "SELinux"}, []string{"relabel", ":z"}},
		{"supplementary group allows: LSM", Identity{UID: 1001, GID: 1001, Groups: []int{2000}}, dir(0, 2000, 0o2770), unix.EACCES,
			[]string{"groups 1001,2000", "although its mode bits allow it"}, []string{"relabel"}},
		{"parent not searchable", openshift, facts{statErr: unix.EACCES}, unix.EACCES,
			[]string{"parent directory is not searchable"}, []string{"g+x"}},
		{"other errno", openshift, dir(0, 0, 0o777), unix.EIO,
			[]string{"not writable: input/output error"}, nil},
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
				t.Errorf("%s: diagnose(/data, %+v, %+v, %v).Fix = %q; want it to contain %q", tt.name, tt.who, tt.f, tt.err, p.Fix, w)
			}
		}
		if !errors.Is(p, tt.err) {
			t.Errorf("%s: errors.Is(diagnose(...), %v) = false; want true", tt.name, tt.err)
		}
		if !strings.HasPrefix(p.Error(), "NONROOT_VOLUMES: /data ") {
			t.Errorf("%s: Error() = %q; want it to start with %q", tt.name, p.Error(), "NONROOT_VOLUMES: /data ")
		}
	}
}

func TestWanted(t *testing.T) {
	const dir, reg, lnk, fifo, chr = unix.S_IFDIR, unix.S_IFREG, unix.S_IFLNK, unix.S_IFIFO, unix.S_IFCHR
	tests := []struct {
		mode       uint32
		oldGID     int
		gid        int
		wantGID    int
		wantMode   uint32
		wantChange bool
	}{
		{dir | 0o755, 1234, 0, 0, 0o2775, true},
		{dir | 0o2775, 0, 0, 0, 0o2775, false},
		{dir | 0o700, 0, 0, 0, 0o2770, true},
		{dir | 0o1777, 5, 0, 0, 0o3777, true},
		{reg | 0o644, 1234, 0, 0, 0o664, true},
		{reg | 0o664, 0, 0, 0, 0o664, false},
		{reg | 0o755, 1234, 0, 0, 0o775, true},
		{reg | 0o600, 0, 0, 0, 0o660, true},
		{reg | 0o644, 0, 1000, 1000, 0o664, true},
		{reg | 0o4755, 1234, 0, 0, 0o775, true},    // setuid dropped when the group changes
		{reg | 0o4775, 0, 0, 0, 0o4775, false},     // group already right: left as it is
		{reg | 0o2755, 1234, 0, 0, 0o775, true},    // setgid dropped too
		{fifo | 0o600, 1234, 0, 0, 0o660, true},    // named pipes get group read-write
		{lnk | 0o777, 1234, 0, 1234, 0o777, false}, // never a symbolic link
		{chr | 0o600, 1234, 0, 1234, 0o600, false}, // never a device
	}
	for _, tt := range tests {
		gid, mode, change := wanted(uint16(tt.mode), tt.oldGID, tt.gid)
		if gid != tt.wantGID || mode != tt.wantMode || change != tt.wantChange {
			t.Errorf("wanted(%#o, %d, %d) = %d, %#o, %v; want %d, %#o, %v", tt.mode, tt.oldGID, tt.gid, gid, mode, change, tt.wantGID, tt.wantMode, tt.wantChange)
		}
	}
}

func TestModeAllows(t *testing.T) {
	tests := []struct {
		who  Identity
		f    facts
		want bool
	}{
		{Identity{UID: 0}, facts{uid: 5, gid: 5, mode: 0o000}, true},
		{Identity{UID: 1000, GID: 0}, facts{uid: 0, gid: 0, mode: 0o775}, true},
		{Identity{UID: 1000, GID: 0}, facts{uid: 0, gid: 0, mode: 0o755}, false},
		{Identity{UID: 1000, GID: 1000, Groups: []int{7}}, facts{uid: 0, gid: 7, mode: 0o770}, true},
		{Identity{UID: 1000, GID: 1000}, facts{uid: 0, gid: 7, mode: 0o770}, false},
		{Identity{UID: 1000, GID: 1000}, facts{uid: 1000, gid: 7, mode: 0o077}, false}, // the owner class wins
		{Identity{UID: 1000, GID: 1000}, facts{uid: 1000, gid: 7, mode: 0o300}, true},
		{Identity{UID: 1000, GID: 1000}, facts{uid: 0, gid: 0, mode: 0o1777}, true},
		{Identity{UID: 1000, GID: 1000}, facts{uid: 0, gid: 0, mode: 0o772}, false}, // write without search
	}
	for _, tt := range tests {
		if got := modeAllows(tt.f, tt.who); got != tt.want {
			t.Errorf("modeAllows(%+v, %+v) = %v; want %v", tt.f, tt.who, got, tt.want)
		}
	}
}
