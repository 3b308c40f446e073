package fsx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func stageLeftovers(t *testing.T, dir string, want int) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".nonroot-init-") {
			t.Errorf("temporary or backup file left: %s", e.Name())
		}
	}
	if len(entries) != want {
		t.Errorf("%s holds %d entries; want %d", dir, len(entries), want)
	}
}

func stageIno(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Lstat(path, &st))
	return st.Ino
}

// TestStageRestoreFromMemory: a file the kernel will not hard-link (a
// file of another owner under protected_hardlinks: EPERM) is kept in
// memory, and Restore writes back its bytes and mode.
func TestStageRestoreFromMemory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.conf")
	must(t, os.WriteFile(path, []byte("old\n"), 0o640))
	must(t, os.Chmod(path, 0o640))
	dirfd := openDir(t, dir)
	refuse := func(int, string, string) error { return &os.SyscallError{Syscall: "linkat", Err: unix.EPERM} }
	s, err := stage(dirfd, "app.conf", AtomicFile{Path: path, Mode: 0o644, Content: []byte("new\n")}, refuse)
	if err != nil {
		t.Fatalf("stage: %v", err)
	}
	if s.linked || s.old == nil {
		t.Fatalf("stage kept linked=%v old=%q; want the old content in memory", s.linked, s.old)
	}
	if got, _ := os.ReadFile(path); string(got) != "old\n" {
		t.Errorf("after stage %s = %q; want it untouched until Apply", path, got)
	}
	must(t, s.Apply())
	if got, _ := os.ReadFile(path); string(got) != "new\n" {
		t.Errorf("after Apply %s = %q; want new", path, got)
	}
	must(t, s.Restore())
	got, _ := os.ReadFile(path)
	info, _ := os.Lstat(path)
	if string(got) != "old\n" || info.Mode() != 0o640 {
		t.Errorf("after Restore %s = %q mode %v; want %q mode 0640", path, got, info.Mode(), "old\n")
	}
	stageLeftovers(t, dir, 1)
}

// TestStageDiscard: Discard before Apply removes the temporary file and
// the backup link, and the file is as it was (same inode).
func TestStageDiscard(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.conf")
	must(t, os.WriteFile(path, []byte("old\n"), 0o644))
	ino := stageIno(t, path)
	dirfd := openDir(t, dir)
	s, err := Stage(dirfd, "app.conf", AtomicFile{Path: path, Mode: 0o644, Content: []byte("new\n")})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int { e, _ := os.ReadDir(dir); return len(e) }
	if n := count(); n != 3 {
		t.Errorf("after Stage %s holds %d entries; want 3 (file, temporary file, backup link)", dir, n)
	}
	s.Discard()
	if got, _ := os.ReadFile(path); string(got) != "old\n" || stageIno(t, path) != ino {
		t.Errorf("after Discard %s = %q; want the old file, same inode", path, got)
	}
	stageLeftovers(t, dir, 1)
	if err := s.Apply(); err == nil {
		t.Error("Apply after Discard = nil; want an error")
	}
}

// TestStageInPlaceMountPoint: a file bind-mounted on its own (a
// subPath) is written in place at Apply, never before, and Restore
// writes its old content back in place.
func TestStageInPlaceMountPoint(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to bind-mount a file")
	}
	dir, other := t.TempDir(), t.TempDir()
	path, backing := filepath.Join(dir, "sub.conf"), filepath.Join(other, "backing")
	must(t, os.WriteFile(path, nil, 0o644))
	must(t, os.WriteFile(backing, []byte("old\n"), 0o644))
	if err := unix.Mount(backing, path, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mount %s on %s: %v", backing, path, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(path, unix.MNT_DETACH) })
	dirfd := openDir(t, dir)
	s, err := Stage(dirfd, "sub.conf", AtomicFile{Path: path, Mode: 0o644, Content: []byte("new, longer\n")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(backing); string(got) != "old\n" {
		t.Errorf("after Stage the mounted file = %q; want it untouched until Apply", got)
	}
	must(t, s.Apply())
	if got, _ := os.ReadFile(backing); string(got) != "new, longer\n" {
		t.Errorf("after Apply the mounted file = %q; want it written in place", got)
	}
	must(t, s.Restore())
	if got, _ := os.ReadFile(backing); string(got) != "old\n" {
		t.Errorf("after Restore the mounted file = %q; want %q (no tail)", got, "old\n")
	}
	stageLeftovers(t, dir, 1)
}

// TestStageExchange: a file that can be neither linked nor kept in
// memory (here: over MaxBackup, sparse) is exchanged with the new one at
// Apply; Restore brings back the very inode, Commit removes it.
func TestStageExchange(t *testing.T) {
	refuse := func(int, string, string) error { return &os.SyscallError{Syscall: "linkat", Err: unix.EPERM} }
	for _, end := range []string{"restore", "commit"} {
		t.Run(end, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "big.db")
			must(t, os.WriteFile(path, nil, 0o600))
			must(t, os.Truncate(path, MaxBackup+1))
			ino := stageIno(t, path)
			dirfd := openDir(t, dir)
			s, err := stage(dirfd, "big.db", AtomicFile{Path: path, Mode: 0o644, Content: []byte("new\n")}, refuse)
			if err != nil {
				t.Fatalf("stage: %v", err)
			}
			if !s.exchange || s.old != nil {
				t.Fatalf("stage: exchange=%v, %d bytes in memory; want an exchange and nothing read", s.exchange, len(s.old))
			}
			must(t, s.Apply())
			if got, _ := os.ReadFile(path); string(got) != "new\n" {
				t.Errorf("after Apply %s = %q; want new", path, got)
			}
			if end == "restore" {
				must(t, s.Restore())
				info, err := os.Lstat(path)
				if err != nil || info.Size() != MaxBackup+1 || info.Mode() != 0o600 || stageIno(t, path) != ino {
					t.Errorf("after Restore %s: %v, %v; want the old inode %d back, size %d, mode 0600", path, info, err, ino, MaxBackup+1)
				}
			} else {
				must(t, s.Commit())
				if got, _ := os.ReadFile(path); string(got) != "new\n" {
					t.Errorf("after Commit %s = %q; want new", path, got)
				}
			}
			stageLeftovers(t, dir, 1)
		})
	}
}

// TestStageRestoreNeverCopiesForeignOrSetuid: a file that cannot be
// hard-linked and is another user's, or setuid, or a symbolic link of
// another user, is never copied to be put back (a copy would be ours: a
// setuid program of theirs would become root's when the init runs as
// root): Apply exchanges it and Restore brings back the very inode,
// owner and mode.
func TestStageRestoreNeverCopiesForeignOrSetuid(t *testing.T) {
	refuse := func(int, string, string) error { return &os.SyscallError{Syscall: "linkat", Err: unix.EPERM} }
	type planted struct {
		mk    func(t *testing.T, path string)
		owner int
	}
	cases := map[string]planted{
		"own setuid file": {func(t *testing.T, path string) {
			must(t, os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755))
			must(t, os.Chmod(path, 0o755|os.ModeSetuid))
		}, os.Geteuid()},
		"own setgid file": {func(t *testing.T, path string) {
			must(t, os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755))
			must(t, os.Chmod(path, 0o755|os.ModeSetgid))
		}, os.Geteuid()},
	}
	if os.Geteuid() == 0 {
		const other = 12345
		cases["another user's setuid file"] = planted{func(t *testing.T, path string) {
			must(t, os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755))
			must(t, os.Lchown(path, other, other))
			must(t, os.Chmod(path, 0o755|os.ModeSetuid))
		}, other}
		cases["another user's file"] = planted{func(t *testing.T, path string) {
			must(t, os.WriteFile(path, []byte("theirs\n"), 0o644))
			must(t, os.Lchown(path, other, other))
		}, other}
		cases["another user's symbolic link"] = planted{func(t *testing.T, path string) {
			must(t, os.Symlink("/etc/shadow", path))
			must(t, os.Lchown(path, other, other))
		}, other}
	} else {
		t.Log("not root: the cases of another user's file and link need chown; only our own setuid and setgid files are checked")
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.conf")
			c.mk(t, path)
			var before unix.Stat_t
			must(t, unix.Lstat(path, &before))
			dirfd := openDir(t, dir)
			s, err := stage(dirfd, "app.conf", AtomicFile{Path: path, Mode: 0o644, Content: []byte("new\n")}, refuse)
			if err != nil {
				t.Fatalf("stage: %v", err)
			}
			if s.old != nil || s.isLink {
				t.Errorf("stage kept a copy (%d bytes, link %v); want none", len(s.old), s.isLink)
			}
			must(t, s.Apply())
			if got, _ := os.ReadFile(path); string(got) != "new\n" {
				t.Errorf("after Apply %s = %q; want new", path, got)
			}
			must(t, s.Restore())
			var after unix.Stat_t
			must(t, unix.Lstat(path, &after))
			if after.Ino != before.Ino || int(after.Uid) != c.owner || after.Mode != before.Mode {
				t.Errorf("after Restore: inode %d uid %d mode %#o; want the very inode %d back, uid %d, mode %#o", after.Ino, after.Uid, after.Mode, before.Ino, c.owner, before.Mode)
			}
			stageLeftovers(t, dir, 1)
		})
	}
}

// TestStageExchangeRefusedIsAnError: on a filesystem that cannot
// exchange (EINVAL: NFS, CIFS, many FUSE), another user's file is not
// copied to be put back (the copy would be ours, root's when the init
// runs as root): the write fails naming it, and the file is untouched,
// its owner, mode and bytes.
func TestStageExchangeRefusedIsAnError(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a file of another user")
	}
	refuse := func(int, string, string) error { return &os.SyscallError{Syscall: "linkat", Err: unix.EPERM} }
	noExchange := func(int, string, string) error { return &os.SyscallError{Syscall: "renameat2", Err: unix.EINVAL} }
	for _, setuid := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain file", true: "setuid file"}[setuid], func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.conf")
			must(t, os.WriteFile(path, []byte("theirs\n"), 0o755))
			must(t, os.Lchown(path, 12345, 12345))
			mode := os.FileMode(0o755)
			if setuid {
				mode |= os.ModeSetuid
			}
			must(t, os.Chmod(path, mode))
			s, err := stage(openDir(t, dir), "app.conf", AtomicFile{Path: path, Mode: 0o644, Content: []byte("new\n")}, refuse)
			if err != nil {
				t.Fatalf("stage: %v", err)
			}
			s.exchangeCall = noExchange
			err = s.Apply()
			var st unix.Stat_t
			must(t, unix.Lstat(path, &st))
			got, _ := os.ReadFile(path)
			if err == nil || !strings.Contains(err.Error(), path) || st.Uid != 12345 || string(got) != "theirs\n" {
				t.Fatalf("Apply = %v; %s uid %d = %q; want an error naming it, the file untouched (uid 12345)", err, path, st.Uid, got)
			}
			s.Discard()
			stageLeftovers(t, dir, 1)
		})
	}
}

// TestSweepLeftoversOnFullInodes: on a filesystem whose inodes are all
// used (perhaps by leftovers), the file that asks the filesystem's clock
// cannot be made; the sweep then goes by our clock rather than not at
// all, since sweeping is what frees it.
func TestSweepLeftoversOnFullInodes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs with few inodes")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "nr_inodes=8,size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	leftover := filepath.Join(dir, ".nonroot-init-0123456789ab")
	must(t, os.WriteFile(leftover, []byte("half"), 0o600))
	for i := 0; ; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("fill%d", i)), nil, 0o600); err != nil {
			if !errors.Is(err, unix.ENOSPC) {
				t.Fatalf("filling the inodes: %v", err)
			}
			break
		}
	}
	removed, err := SweepLeftovers(openDir(t, dir), dir, -time.Hour)
	if err != nil || len(removed) != 1 {
		t.Fatalf("SweepLeftovers = %v, %v; want the leftover removed", removed, err)
	}
	if _, err := os.Lstat(leftover); err == nil {
		t.Error("the leftover is still there")
	}
}
