package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// atomicSet is five files in dst, a.conf to e.conf, each holding
// "old <name>\n" with mode 0640 on disk before the test.
func atomicSet(t *testing.T, dst string) []File {
	t.Helper()
	var files []File
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		name := n + ".conf"
		path := filepath.Join(dst, name)
		must(t, os.WriteFile(path, []byte("old "+name+"\n"), 0o640))
		must(t, os.Chmod(path, 0o640))
		files = append(files, File{Dir: dst, Rel: name, Source: "src/" + name, Mode: 0o644, Content: []byte("new " + name + "\n")})
	}
	return files
}

// atomicOld fails unless every file of the set holds its old bytes and
// mode, and dst holds nothing else.
func atomicOld(t *testing.T, dst string, files []File) {
	t.Helper()
	for _, f := range files {
		got, err := os.ReadFile(f.Path())
		info, serr := os.Lstat(f.Path())
		want := "old " + f.Rel + "\n"
		if err != nil || serr != nil || string(got) != want || info.Mode() != 0o640 {
			t.Errorf("%s = %q (%v, %v); want %q mode 0640, as it was", f.Path(), got, err, serr, want)
			continue
		}
		if info.Mode() != 0o640 {
			t.Errorf("%s: mode %v; want 0640, as it was", f.Path(), info.Mode())
		}
	}
	atomicNoLeftovers(t, dst, len(files))
}

func atomicNoLeftovers(t *testing.T, dst string, want int) {
	t.Helper()
	if l := leftovers(t, dst); l != nil {
		t.Errorf("temporary or backup files left: %v", l)
	}
	if entries, _ := os.ReadDir(dst); len(entries) != want {
		t.Errorf("%s holds %d entries; want %d", dst, len(entries), want)
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Lstat(path, &st))
	return st.Ino
}

// TestAtomicENOSPCOnThirdOfFive: a filesystem too small for the third
// file: no DST changes, no temporary file stays, and the error names the
// file and ENOSPC.
func TestAtomicENOSPCOnThirdOfFive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dst := t.TempDir()
	if err := unix.Mount("tmpfs", dst, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=64k,mode=0755"); err != nil {
		t.Fatalf("mount a tmpfs on %s: %v", dst, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dst, unix.MNT_DETACH) })
	files := atomicSet(t, dst)
	files[2].Content = []byte(strings.Repeat("x", 256<<10))
	err := Write(files)
	if err == nil {
		t.Fatal("Write of a file larger than the filesystem = nil; want ENOSPC")
	}
	if !errors.Is(err, unix.ENOSPC) || !strings.Contains(err.Error(), files[2].Path()) || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("err = %v; want ENOSPC naming %s", err, files[2].Path())
	}
	if strings.Contains(err.Error(), ".nonroot-init-") {
		t.Errorf("err = %v; names a temporary file", err)
	}
	atomicOld(t, dst, files)
}

// TestAtomicRestore: Restore after a successful WriteSet gives back the
// old bytes and modes (the very inodes, linked), and removes the files
// that were new.
func TestAtomicRestore(t *testing.T) {
	dst := t.TempDir()
	files := atomicSet(t, dst)
	oldIno := inode(t, files[0].Path())
	files = append(files, File{Dir: dst, Rel: "sub/new.conf", Mode: 0o600, Content: []byte("new\n")})
	a, err := WriteSet(files)
	if err != nil {
		t.Fatalf("WriteSet: %v", err)
	}
	if a.Unchanged() {
		t.Error("Unchanged() = true after writing new content")
	}
	for _, f := range files {
		if got, _ := os.ReadFile(f.Path()); string(got) != string(f.Content) {
			t.Errorf("after WriteSet %s = %q; want %q", f.Path(), got, f.Content)
		}
	}
	if err := a.Restore(); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if _, err := os.Lstat(files[5].Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the new file %s after Restore: %v; want it removed", files[5].Path(), err)
	}
	must(t, os.Remove(filepath.Join(dst, "sub")))
	atomicOld(t, dst, files[:5])
	if got := inode(t, files[0].Path()); got != oldIno {
		t.Errorf("inode of %s after Restore = %d; want the old one, %d", files[0].Path(), got, oldIno)
	}
	if err := a.Restore(); err == nil {
		t.Error("a second Restore = nil; want an error")
	}
	if err := a.Commit(); err == nil {
		t.Error("Commit after Restore = nil; want an error")
	}
}

// TestAtomicRestoreSymlink: a symbolic link standing where a file goes
// is replaced without being followed, and Restore makes it again.
func TestAtomicRestoreSymlink(t *testing.T) {
	dst := t.TempDir()
	must(t, os.Symlink("/nonexistent/target", filepath.Join(dst, "link.conf")))
	a, err := WriteSet([]File{{Dir: dst, Rel: "link.conf", Mode: 0o644, Content: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(filepath.Join(dst, "link.conf")); err != nil || !info.Mode().IsRegular() {
		t.Fatalf("link.conf after WriteSet: %v %v; want a regular file", info, err)
	}
	must(t, a.Restore())
	if target, err := os.Readlink(filepath.Join(dst, "link.conf")); err != nil || target != "/nonexistent/target" {
		t.Errorf("link.conf after Restore: %q, %v; want the old link", target, err)
	}
	atomicNoLeftovers(t, dst, 1)
}

// TestAtomicCommit: Commit keeps the new files and leaves no backup; a
// Restore after it is an error and changes nothing.
func TestAtomicCommit(t *testing.T) {
	dst := t.TempDir()
	files := atomicSet(t, dst)
	a, err := WriteSet(files)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := a.Restore(); err == nil {
		t.Error("Restore after Commit = nil; want an error")
	}
	for _, f := range files {
		got, _ := os.ReadFile(f.Path())
		info, _ := os.Lstat(f.Path())
		if string(got) != string(f.Content) || info.Mode() != f.Mode {
			t.Errorf("%s = %q mode %v; want %q mode %v", f.Path(), got, info.Mode(), f.Content, f.Mode)
		}
	}
	atomicNoLeftovers(t, dst, len(files))
}

// TestAtomicUnchanged: rendering the same content twice writes nothing
// the second time (same inodes) and says so; a changed mode alone is a
// change.
func TestAtomicUnchanged(t *testing.T) {
	dst := t.TempDir()
	files := atomicSet(t, dst)
	must(t, Write(files))
	inodes := map[string]uint64{}
	for _, f := range files {
		inodes[f.Path()] = inode(t, f.Path())
	}
	a, err := WriteSet(files)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Unchanged() {
		t.Error("Unchanged() = false for the same content and modes")
	}
	must(t, a.Commit())
	for _, f := range files {
		if got := inode(t, f.Path()); got != inodes[f.Path()] {
			t.Errorf("%s: inode %d after an unchanged WriteSet; want %d (not rewritten)", f.Path(), got, inodes[f.Path()])
		}
	}
	atomicNoLeftovers(t, dst, len(files))

	files[3].Mode = 0o600
	a, err = WriteSet(files)
	if err != nil {
		t.Fatal(err)
	}
	if a.Unchanged() {
		t.Error("Unchanged() = true after a mode change")
	}
	must(t, a.Restore())
	if info, _ := os.Lstat(files[3].Path()); info.Mode() != 0o644 {
		t.Errorf("%s: mode %v after Restore; want 0644", files[3].Path(), info.Mode())
	}
	if got := inode(t, files[0].Path()); got != inodes[files[0].Path()] {
		t.Errorf("%s was rewritten by a set where only %s changed", files[0].Path(), files[3].Path())
	}
}

// TestAtomicRenamePhaseRollback: a rename that fails after two files
// were renamed (the third DST became a directory between the phases)
// puts the first two back and leaves the rest unwritten.
func TestAtomicRenamePhaseRollback(t *testing.T) {
	dst := t.TempDir()
	files := atomicSet(t, dst)
	files = append(files, File{Dir: dst, Rel: "f.conf", Mode: 0o644, Content: []byte("new f\n")})
	a, err := writeSet(files, func() {
		must(t, os.Remove(files[2].Path()))
		must(t, os.MkdirAll(filepath.Join(files[2].Path(), "inside"), 0o755))
	})
	if err == nil || a != nil {
		t.Fatalf("writeSet over a directory = %v, %v; want an error and no set", a, err)
	}
	if !strings.Contains(err.Error(), files[2].Path()) {
		t.Errorf("err = %v; want it to name %s", err, files[2].Path())
	}
	for _, i := range []int{0, 1, 3, 4} {
		f := files[i]
		got, _ := os.ReadFile(f.Path())
		info, _ := os.Lstat(f.Path())
		if want := fmt.Sprintf("old %s\n", f.Rel); string(got) != want || info.Mode() != 0o640 {
			t.Errorf("%s = %q mode %v; want %q mode 0640, as it was", f.Path(), got, info.Mode(), want)
		}
	}
	if info, err := os.Lstat(files[2].Path()); err != nil || !info.IsDir() {
		t.Errorf("%s: %v, %v; want the directory left alone", files[2].Path(), info, err)
	}
	if _, err := os.Lstat(files[5].Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s (new) after the rollback: %v; want it absent", files[5].Path(), err)
	}
	atomicNoLeftovers(t, dst, 5)
}

// TestAtomicStageFailureWritesNothing: a directory in the way of the
// fourth file is found while staging: nothing is renamed.
func TestAtomicStageFailureWritesNothing(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dst := t.TempDir()
	files := atomicSet(t, dst)
	must(t, os.Remove(files[3].Path()))
	must(t, os.Mkdir(files[3].Path(), 0o755))
	_, err := WriteSet(files)
	if err == nil || !strings.Contains(err.Error(), "directory is in the way") {
		t.Fatalf("WriteSet = %v; want the directory in the way named", err)
	}
	for _, i := range []int{0, 1, 2, 4} {
		if got, _ := os.ReadFile(files[i].Path()); string(got) != "old "+files[i].Rel+"\n" {
			t.Errorf("%s = %q; want it as it was", files[i].Path(), got)
		}
	}
	atomicNoLeftovers(t, dst, 5)
}

// TestWriteSetSweepsLeftovers: the temporary files and backup links of
// a write killed between its steps (ours, named as fsx names them) are
// removed by the next write to the directory; anything else stays: a
// file named differently, a directory, another user's entry.
func TestWriteSetSweepsLeftovers(t *testing.T) {
	dst := t.TempDir()
	files := atomicSet(t, dst)
	ours := []string{".nonroot-init-0123456789ab", ".nonroot-init-ffffffffffff"}
	must(t, os.WriteFile(filepath.Join(dst, ours[0]), []byte("half a temp file"), 0o600))
	must(t, os.Link(filepath.Join(dst, "a.conf"), filepath.Join(dst, ours[1]))) // a backup link
	kept := []string{".nonroot-init-notours", ".nonroot-init-0123456789abc", "app.nonroot-init-0123456789ab", ".nonroot-init-aaaaaaaaaaaa"}
	for _, n := range kept[:3] {
		must(t, os.WriteFile(filepath.Join(dst, n), nil, 0o600))
	}
	must(t, os.Mkdir(filepath.Join(dst, kept[3]), 0o700))
	if os.Geteuid() == 0 {
		theirs := ".nonroot-init-bbbbbbbbbbbb"
		must(t, os.WriteFile(filepath.Join(dst, theirs), nil, 0o600))
		must(t, os.Chown(filepath.Join(dst, theirs), 12345, 12345))
		kept = append(kept, theirs)
	} else {
		t.Log("not root: the case of another user's entry needs chown")
	}
	// A negative age: every leftover is old enough to be swept.
	a, err := writeSetAged(files, nil, -time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	must(t, a.Commit())
	for _, n := range ours {
		if _, err := os.Lstat(filepath.Join(dst, n)); err == nil {
			t.Errorf("%s, left by an interrupted write of ours, is still there", n)
		}
	}
	for _, n := range kept {
		if _, err := os.Lstat(filepath.Join(dst, n)); err != nil {
			t.Errorf("%s was removed: %v; want it left alone", n, err)
		}
	}
	if got := len(a.Swept()); got != len(ours) {
		t.Errorf("Swept = %v; want the %d leftovers of ours", a.Swept(), len(ours))
	}
}

// TestWriteSetSweepsNothingRecent: a leftover made less than sweepAge
// ago may be another writer's, still at work: WriteSet leaves it.
func TestWriteSetSweepsNothingRecent(t *testing.T) {
	dst := t.TempDir()
	files := atomicSet(t, dst)
	recent := filepath.Join(dst, ".nonroot-init-0123456789ab")
	must(t, os.WriteFile(recent, nil, 0o600))
	a, err := WriteSet(files)
	if err != nil {
		t.Fatal(err)
	}
	must(t, a.Commit())
	if _, err := os.Lstat(recent); err != nil || len(a.Swept()) != 0 {
		t.Errorf("a leftover made just now was swept (%v, swept %v); want it left for %v", err, a.Swept(), sweepAge)
	}
}

// TestWriteSetOneDirectoryTwoNames: two pairs that reach one directory
// under two names (a SRC directory's subdirectory, and a file pair into
// it) are written together: the directory is swept once, before
// either is staged, so that the sweep never takes this set's own
// temporary files, even with every leftover old enough.
func TestWriteSetOneDirectoryTwoNames(t *testing.T) {
	dst := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dst, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dst, "sub", "x.conf"), []byte("old x\n"), 0o644))
	files := []File{
		{Dir: dst, Rel: "sub/x.conf", Source: "src/sub/x.conf", Mode: 0o644, Content: []byte("new x\n")},
		{Dir: filepath.Join(dst, "sub"), Rel: "one.conf", Source: "one.conf", Mode: 0o644, Content: []byte("one\n")},
	}
	a, err := writeSetAged(files, nil, -time.Hour)
	if err != nil {
		t.Fatalf("WriteSet of two pairs into one directory: %v", err)
	}
	must(t, a.Commit())
	for path, want := range map[string]string{filepath.Join(dst, "sub", "x.conf"): "new x\n", filepath.Join(dst, "sub", "one.conf"): "one\n"} {
		if got, err := os.ReadFile(path); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", path, got, err, want)
		}
	}
	atomicNoLeftovers(t, filepath.Join(dst, "sub"), 2)
}

// TestWriteSetOneFileTwoPairs: two pairs that write one file under two
// names (a DST reached through a link as well) are an error naming both
// when their contents differ, and nothing is written (before, the last
// one won silently, and a reload could flip between the two); with the
// same bytes and mode the file is written once.
func TestWriteSetOneFileTwoPairs(t *testing.T) {
	dst := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dst, "cfg"), 0o755))
	must(t, os.Symlink("cfg", filepath.Join(dst, "app")))
	pairs := func(second string) []File {
		return []File{
			{Dir: filepath.Join(dst, "cfg"), Rel: "x.conf", Source: "/t/a.conf", Mode: 0o644, Content: []byte("one\n")},
			{Dir: filepath.Join(dst, "app"), Rel: "x.conf", Source: "/t/b.conf", Mode: 0o644, Content: []byte(second)},
		}
	}
	_, err := WriteSet(pairs("two\n"))
	if err == nil || !strings.Contains(err.Error(), "are one file") || !strings.Contains(err.Error(), "/t/a.conf") || !strings.Contains(err.Error(), "/t/b.conf") {
		t.Fatalf("WriteSet = %v; want an error naming both sources", err)
	}
	atomicNoLeftovers(t, filepath.Join(dst, "cfg"), 0)
	a, err := WriteSet(pairs("one\n"))
	if err != nil {
		t.Fatalf("WriteSet of the same bytes twice = %v; want it written once", err)
	}
	must(t, a.Commit())
	if got, _ := os.ReadFile(filepath.Join(dst, "cfg", "x.conf")); string(got) != "one\n" {
		t.Errorf("x.conf = %q; want one", got)
	}
	atomicNoLeftovers(t, filepath.Join(dst, "cfg"), 1)
}
