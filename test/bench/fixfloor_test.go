package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// fixFloor is the least work any tool must do to fix a tree on this
// machine, done in this process: one statx by name per entry and, where
// the group or mode is not right yet, one fchownat and one fchmodat by
// name, on every core, with the names read beforehand (not timed). It
// checks nothing, pins no inode, follows no rule of SPEC.md's
// fix-permissions: it is a bound, not a tool. chgrp+chmod's time over
// this floor's is the largest speed-up any fix-permissions could show
// here, whatever its design.
type fixFloor struct {
	dirs  []string   // every directory, the tree's root first
	names [][]string // the non-directory entries of each
}

// newFixFloor reads the two-level tree fixBenchMakeTree builds.
func newFixFloor(tree string) (*fixFloor, error) {
	f := &fixFloor{dirs: []string{tree}, names: [][]string{nil}}
	subs, err := os.ReadDir(tree)
	if err != nil {
		return nil, err
	}
	for _, s := range subs {
		dir := filepath.Join(tree, s.Name())
		es, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		f.dirs = append(f.dirs, dir)
		f.names = append(f.names, names)
	}
	return f, nil
}

// run fixes the tree to group 0, g+rw (g+x on directories, setgid on
// them) and returns how long it took, or the first error.
func (f *fixFloor) run() (time.Duration, error) {
	next := make(chan int, len(f.dirs))
	for i := range f.dirs {
		next <- i
	}
	close(next)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			for i := range next {
				if err := f.dir(i); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), first
}

// dir fixes directory i itself (by name in its parent) and its entries.
func (f *fixFloor) dir(i int) error {
	if err := floorFix(unix.AT_FDCWD, f.dirs[i]); err != nil {
		return err
	}
	if len(f.names[i]) == 0 {
		return nil
	}
	dfd, err := unix.Open(f.dirs[i], unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	for _, name := range f.names[i] {
		if err := floorFix(dfd, name); err != nil {
			return err
		}
	}
	return nil
}

// floorFix is one entry: a statx, then a chown and a chmod when needed.
func floorFix(dir int, name string) error {
	var st unix.Statx_t
	if err := unix.Statx(dir, name, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE|unix.STATX_MODE|unix.STATX_GID, &st); err != nil {
		return err
	}
	mode := uint32(st.Mode) & 0o7777
	want := mode | 0o060
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		want |= 0o010 | unix.S_ISGID
	} else if mode&0o100 != 0 {
		want |= 0o010
	}
	if st.Gid == 0 && want == mode {
		return nil
	}
	if err := unix.Fchownat(dir, name, -1, 0, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	return unix.Fchmodat(dir, name, want, 0)
}
