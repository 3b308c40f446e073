// Package memtrim gives back to the kernel the memory the init's setup
// left behind, once COMMAND runs: the heap's free pages, and the pages of
// the init's own binary that setup touched.
package memtrim

import (
	"bytes"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mapping is an address range [start, end) of /proc/self/maps.
type mapping struct{ start, end uintptr }

// Trim returns the heap's free pages to the kernel (debug.FreeOSMemory)
// and drops from the process the pages of its own executable that are
// mapped read-only and private (text and read-only data: the setup code,
// the template engine, the tables of the packages setup used).
// MADV_DONTNEED on such a mapping loses nothing: a page touched again is
// read back from the file (the page cache), as at start. Writable
// mappings are never touched. procDir is "/proc".
func Trim(procDir string) error {
	debug.FreeOSMemory()
	var st unix.Stat_t
	if err := unix.Stat(procDir+"/self/exe", &st); err != nil {
		return fmt.Errorf("stat %s/self/exe: %w", procDir, err)
	}
	maps, err := readFile(procDir + "/self/maps")
	if err != nil {
		return err
	}
	dev := fmt.Sprintf("%02x:%02x", unix.Major(st.Dev), unix.Minor(st.Dev))
	ms, err := readOnlyMappings(maps, dev, st.Ino)
	if err != nil {
		return fmt.Errorf("%s/self/maps: %w", procDir, err)
	}
	for _, m := range ms {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); e != 0 {
			return fmt.Errorf("madvise(%#x-%#x, MADV_DONTNEED): %w", m.start, m.end, e)
		}
	}
	return nil
}

// readFile reads a /proc file, whose size stat does not tell.
func readFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}

// readOnlyMappings returns the ranges of maps (the text of
// /proc/self/maps) that map the file dev:ino (dev as maps writes it,
// "fe:00") read-only and private: permissions r--p or r-xp.
func readOnlyMappings(maps []byte, dev string, ino uint64) ([]mapping, error) {
	var out []mapping
	for _, line := range bytes.Split(maps, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) < 5 {
			continue
		}
		if f[1] != "r--p" && f[1] != "r-xp" || f[3] != dev || f[4] != strconv.FormatUint(ino, 10) {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			return nil, fmt.Errorf("malformed line %q", line)
		}
		out = append(out, mapping{uintptr(start), uintptr(end)})
	}
	return out, nil
}
