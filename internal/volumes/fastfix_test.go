package volumes

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fastfixOddNames returns n distinct names that use every byte a name may
// hold (1 to 255 but '/'), alone, repeated up to NAME_MAX, and mixed.
func fastfixOddNames(n int) []string {
	var names []string
	seen := map[string]bool{".": true, "..": true}
	add := func(s string) {
		if len(names) < n && !seen[s] {
			seen[s] = true
			names = append(names, s)
		}
	}
	for b := 1; b < 256; b++ {
		if b == '/' {
			continue
		}
		add(string([]byte{byte(b)}))
		add(strings.Repeat(string([]byte{byte(b)}), 255))
	}
	for i := 0; len(names) < n; i++ {
		first := rune(1 + i%126)
		if first == '/' {
			first = '\\'
		}
		add(fmt.Sprintf("%c%d\n\xff %c", first, i, rune(0x80+i%0x700)))
	}
	return names
}

// TestFastfixGetdentsOddNames: a directory of 10,000 entries, named with
// every byte a name may hold and names of NAME_MAX bytes (many getdents64
// buffers' worth), is read whole: each entry is counted once, fixed, and
// named exactly in --check's list.
func TestFastfixGetdentsOddNames(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "d")
	mustMkdir(t, dir, 0o755)
	names := fastfixOddNames(10000)
	for _, name := range names {
		fd, err := unix.Open(dir+"/"+name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err != nil {
			t.Fatalf("create %q: %v", name, err)
		}
		unix.Close(fd)
		if err := unix.Fchmodat(unix.AT_FDCWD, dir+"/"+name, 0o644, 0); err != nil {
			t.Fatal(err)
		}
	}
	opts := FixOptions{EUID: os.Geteuid(), GID: os.Getegid(), Check: true}
	r, err := FixPermissions([]string{dir}, opts)
	if err != nil || r.Scanned != int64(len(names))+1 || r.Changed != int64(len(names))+1 || r.Failed != 0 {
		t.Fatalf("check: %d scanned, %d changed, %d failed, %v; want %d scanned and changed, no failure", r.Scanned, r.Changed, r.Failed, err, len(names)+1)
	}
	listed := map[string]int{}
	for _, c := range r.Changes {
		listed[c.Path]++
	}
	for _, name := range append([]string{""}, names...) {
		p := dir
		if name != "" {
			p = dir + "/" + name
		}
		if listed[p] != 1 {
			t.Fatalf("check listed %q %d times; want once", p, listed[p])
		}
	}
	opts.Check = false
	r, err = FixPermissions([]string{dir}, opts)
	if err != nil || r.Scanned != int64(len(names))+1 || r.Changed != int64(len(names))+1 {
		t.Fatalf("fix: %+v, %v; want every entry changed", r.Changed, err)
	}
	for _, name := range names {
		if got := modeOf(t, dir+"/"+name); got != 0o664 {
			t.Fatalf("%q: mode %#o; want 0664", name, got)
		}
	}
	r, err = FixPermissions([]string{dir}, opts)
	if err != nil || r.Scanned != int64(len(names))+1 || r.Changed != 0 {
		t.Fatalf("again: %d scanned, %d changed, %v; want %d scanned, none changed", r.Scanned, r.Changed, err, len(names)+1)
	}
}

// TestFastfixDeepTree: a chain of 600 directories (more than the queue
// and the workers, and deeper than PATH_MAX by name) with a file at every
// level, and a wide level beside it, are fixed to the last entry.
func TestFastfixDeepTree(t *testing.T) {
	const depth = 600
	base := t.TempDir()
	top := filepath.Join(base, "top")
	mustMkdir(t, top, 0o755)
	for i := range 700 {
		mustMkdir(t, filepath.Join(top, fmt.Sprintf("w%d", i)), 0o755)
	}
	fd, err := unix.Open(top, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range depth {
		if err := unix.Mkdirat(fd, "deepdir", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Fchmodat(fd, "deepdir", 0o755, 0); err != nil {
			t.Fatal(err)
		}
		f, err := unix.Openat(fd, "file", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(f)
		if err := unix.Fchmodat(fd, "file", 0o644, 0); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, "deepdir", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	unix.Close(fd)
	want := int64(1 + 700 + 2*depth)
	r, err := FixPermissions([]string{top}, FixOptions{EUID: os.Geteuid(), GID: os.Getegid()})
	if err != nil || r.Scanned != want || r.Changed != want || r.Failed != 0 {
		t.Fatalf("FixPermissions = %d scanned, %d changed, %d failed, %v; want %d scanned and changed", r.Scanned, r.Changed, r.Failed, err, want)
	}
	fd, err = unix.Open(top, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { unix.Close(fd) }()
	for level := range depth {
		var st unix.Stat_t
		for name, mode := range map[string]uint32{"deepdir": 0o2775, "file": 0o664} {
			if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				t.Fatal(err)
			}
			if st.Mode&0o7777 != mode || int(st.Gid) != os.Getegid() {
				t.Fatalf("level %d %s: mode %#o group %d; want %#o, group %d", level, name, st.Mode&0o7777, st.Gid, mode, os.Getegid())
			}
		}
		next, err := unix.Openat(fd, "deepdir", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
		fd = next
	}
}

// TestFastfixDirectorySwappedForSymlink replaces a directory of the tree
// by a symbolic link to a directory outside it, between the walk's statx
// of the name and its open, on the already-fixed path (no descriptor yet)
// and on the fresh one: the outside directory and its file never change,
// and the replaced entry is counted as skipped.
func TestFastfixDirectorySwappedForSymlink(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		t.Run(fmt.Sprintf("fresh=%v", fresh), func(t *testing.T) {
			base := t.TempDir()
			tree, outside := filepath.Join(base, "tree"), filepath.Join(base, "outside")
			mustMkdir(t, filepath.Join(tree, "sub"), 0o755)
			mustWrite(t, filepath.Join(tree, "sub", "f"), 0o644)
			mustMkdir(t, outside, 0o755)
			mustWrite(t, filepath.Join(outside, "secret"), 0o600)
			gid := os.Getegid()
			opts := FixOptions{EUID: os.Geteuid(), GID: gid}
			if !fresh {
				if _, err := FixPermissions([]string{tree}, opts); err != nil {
					t.Fatal(err)
				}
			} else {
				// Changes beside sub may make the walk open it first.
				mustWrite(t, filepath.Join(tree, "a"), 0o644)
			}
			swapped := 0
			opts.afterLook = func(path string) {
				if path != filepath.Join(tree, "sub") {
					return
				}
				swapped++
				if err := os.Rename(path, filepath.Join(base, "moved")); err != nil {
					t.Error(err)
				}
				if err := os.Symlink(outside, path); err != nil {
					t.Error(err)
				}
			}
			r, err := FixPermissions([]string{tree}, opts)
			if swapped != 1 {
				t.Fatalf("the hook swapped %d times; want once", swapped)
			}
			// Looked at by name (statx), the swapped entry is refused
			// at its open; opened first (eager), the walk keeps the
			// directory it pinned, wherever it was moved.
			if err != nil || (!fresh && r.Skipped != 1) {
				t.Errorf("FixPermissions = %+v, %v; want the swapped entry skipped, no error", r, err)
			}
			for p, mode := range map[string]uint32{outside: 0o755, filepath.Join(outside, "secret"): 0o600} {
				if got := modeOf(t, p); got != mode {
					t.Errorf("%s: mode %#o; want %#o untouched", p, got, mode)
				}
			}
		})
	}
}

// TestFastfixCapabilitiesWithoutExecBit (root): a file carrying file
// capabilities and no execute bit whose group is already right would get
// group write and keep its capabilities: it is left alone and listed. One
// whose group changes is fixed: chown(2) itself strips its capabilities
// (as it does for chgrp) before chmod adds group write, so nothing
// privileged is ever group-writable, and no getxattr is needed for it.
func TestFastfixCapabilitiesWithoutExecBit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to set security.capability")
	}
	// VFS_CAP_REVISION_2 with CAP_NET_RAW (13) permitted, effective.
	capv := []byte{0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	root := t.TempDir()
	keep, change := filepath.Join(root, "keep"), filepath.Join(root, "change")
	for _, p := range []string{keep, change} {
		mustWrite(t, p, 0o644)
	}
	if err := os.Lchown(change, 0, 1234); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{keep, change} {
		if err := unix.Setxattr(p, "security.capability", capv, 0); err != nil {
			t.Fatalf("setxattr %s: %v", p, err)
		}
	}
	r, err := FixPermissions([]string{root}, FixOptions{EUID: 0, GID: 0})
	if err != nil || len(r.Privileged) != 1 || r.Privileged[0].Path != keep || r.Privileged[0].Reason != "file capabilities" {
		t.Fatalf("FixPermissions = %+v, %v; want only %s left alone for its capabilities", r, err, keep)
	}
	if got := modeOf(t, keep); got != 0o644 {
		t.Errorf("keep: mode %#o; want 0644", got)
	}
	if _, err := unix.Getxattr(keep, "security.capability", make([]byte, 64)); err != nil {
		t.Errorf("keep lost its capabilities: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(change, &st); err != nil || st.Gid != 0 || st.Mode&0o7777 != 0o664 {
		t.Errorf("change: group %d mode %#o (%v); want 0 and 0664", st.Gid, st.Mode&0o7777, err)
	}
	if _, err := unix.Getxattr(change, "security.capability", make([]byte, 64)); err != unix.ENODATA {
		t.Errorf("change: getxattr security.capability = %v; want ENODATA (chown strips it)", err)
	}
}

// TestFastfixNextDirent: a linux_dirent64 record is split off at its
// d_reclen with its name up to the NUL; a record shorter than its header,
// with a d_reclen past the buffer or no larger than the header, or with
// no NUL, is an error, never a read past the record.
func TestFastfixNextDirent(t *testing.T) {
	rec := func(reclen int, name string, pad int) []byte {
		b := make([]byte, 19, 19+len(name)+pad)
		binary.NativeEndian.PutUint16(b[16:18], uint16(reclen)) // d_reclen, in the kernel's byte order
		b = append(b, name...)
		return append(b, make([]byte, pad)...)
	}
	two := append(rec(24, "ab", 3), rec(24, "cd\x00", 2)...)
	name, rest, err := nextDirent(two)
	if err != nil || string(name) != "ab" || len(rest) != 24 {
		t.Fatalf("first record: %q, %d bytes left, %v; want \"ab\" and 24", name, len(rest), err)
	}
	if name, rest, err = nextDirent(rest); err != nil || string(name) != "cd" || len(rest) != 0 {
		t.Fatalf("second record: %q, %d bytes left, %v; want \"cd\" and 0", name, len(rest), err)
	}
	for what, b := range map[string][]byte{
		"short header":    make([]byte, 18),
		"reclen too long": rec(64, "ab", 3),
		"reclen header":   rec(19, "ab", 3),
		"no NUL":          append(rec(24, "abcde", 0), 'x'),
		"empty name":      rec(24, "", 5),
	} {
		if _, _, err := nextDirent(b); err != errBadDirent {
			t.Errorf("%s: err = %v; want errBadDirent", what, err)
		}
	}
	for name, want := range map[string]bool{".": true, "..": true, "...": false, ".a": false, "a": false} {
		if got := isDot([]byte(name)); got != want {
			t.Errorf("isDot(%q) = %v; want %v", name, got, want)
		}
	}
}
