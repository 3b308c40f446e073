// Package memtrim gives back to the kernel the memory the init's setup
// left behind, once COMMAND runs: the heap's free pages, and the pages of
// the init's own binary that setup touched.
package memtrim

import (
	"bufio"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// mapping is an address range [start, end) of /proc/self/maps.
type mapping struct{ start, end uintptr }

// Trim returns the heap's free pages to the kernel (debug.FreeOSMemory)
// and drops from the process the pages of its own executable that are
// mapped read-only and private (text and read-only data: the setup code,
// the template engine, the tables of the packages setup used).
// MADV_DONTNEED on such a mapping loses nothing: a page touched again is
// read back from the file (the page cache), as at start. Writable
// mappings, and read-only ones holding a page of their own (a PIE's
// relocated RELRO), are never touched. procDir is "/proc".
func Trim(procDir string) error {
	// First: the collection it runs touches the runtime's tables, pages
	// of the binary that would come back after the madvise.
	debug.FreeOSMemory()
	var st unix.Stat_t
	if err := unix.Stat(procDir+"/self/exe", &st); err != nil {
		return fmt.Errorf("stat %s/self/exe: %w", procDir, err)
	}
	// Read a line at a time: smaps is some hundred KiB, which read whole
	// would stay in the heap the collection above has just emptied.
	fd, err := unix.Open(procDir+"/self/smaps", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s/self/smaps: %w", procDir, err)
	}
	dev := fmt.Sprintf("%02x:%02x", unix.Major(st.Dev), unix.Minor(st.Dev))
	ms, err := readOnlyMappings(fdReader(fd), dev, st.Ino)
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("%s/self/smaps: %w", procDir, err)
	}
	for _, m := range ms {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); e != 0 {
			return fmt.Errorf("madvise(%#x-%#x, MADV_DONTNEED): %w", m.start, m.end, e)
		}
	}
	return nil
}

// fdReader reads a descriptor with read(2) alone: no os.File, whose
// code (and poller) would be touched again after the trim.
type fdReader int

func (fd fdReader) Read(p []byte) (int, error) {
	n, err := fsx.Read(int(fd), p) // EINTR retried
	if err == nil && n == 0 {
		return 0, io.EOF
	}
	return n, err
}

// readOnlyMappings returns the ranges of smaps (the text of
// /proc/self/smaps) that map the file dev:ino (dev as maps writes it,
// "fe:00") read-only and private, permissions r--p or r-xp, and hold no
// page of their own ("Anonymous: 0 kB"). A read-only mapping can hold
// such pages: a PIE's RELRO is relocated by the dynamic loader and then
// made read-only; dropping those would bring back the file's
// unrelocated bytes. A mapping whose Anonymous line is missing is left
// alone too.
func readOnlyMappings(smaps io.Reader, dev string, ino uint64) ([]mapping, error) {
	var out []mapping
	var cur *mapping // the candidate whose fields are being read
	anonZero := false
	flush := func() {
		if cur != nil && anonZero {
			out = append(out, *cur)
		}
		cur, anonZero = nil, false
	}
	sc := bufio.NewScanner(smaps)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") {
			// A mapping's first line: "start-end perms offset dev inode [path]".
			flush()
			if len(f) < 5 || f[1] != "r--p" && f[1] != "r-xp" || f[3] != dev || f[4] != strconv.FormatUint(ino, 10) {
				continue
			}
			lo, hi, ok := strings.Cut(f[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if !ok || err1 != nil || err2 != nil || end <= start {
				return nil, fmt.Errorf("malformed line %q", line)
			}
			cur = &mapping{uintptr(start), uintptr(end)}
			continue
		}
		if cur != nil && f[0] == "Anonymous:" {
			anonZero = len(f) >= 2 && f[1] == "0"
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	flush()
	return out, nil
}
