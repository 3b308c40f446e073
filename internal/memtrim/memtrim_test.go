package memtrim

import (
	"github.com/nonroot-init/nonroot-init/internal/emu"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// smapsEntry is one mapping of /proc/self/smaps: its maps line, then
// the fields readOnlyMappings looks at.
func smapsEntry(line string, anonKB int) string {
	return line + "\nSize:               2180 kB\nRss:                 100 kB\nAnonymous:        " + strconv.Itoa(anonKB) + " kB\nVmFlags: rd ex mr mw me dw"
}

func TestReadOnlyMappingsOfExeOnly(t *testing.T) {
	maps := strings.Join([]string{
		smapsEntry("00400000-00621000 r-xp 00000000 fe:00 247026                     /bin/init", 0),
		smapsEntry("00621000-00880000 r--p 00221000 fe:00 247026                     /bin/init", 0),
		smapsEntry("00880000-008a0000 rw-p 00480000 fe:00 247026                     /bin/init", 0),
		smapsEntry("008a0000-008d7000 rw-p 00000000 00:00 0 ", 0),
		smapsEntry("7f0c36518000-7f0c3651a000 r-xp 00000000 00:00 0                  [vdso]", 0),
		smapsEntry("7f0c36600000-7f0c36700000 r--p 00000000 fe:00 999                /usr/lib/locale/x", 0),
		smapsEntry("7f0c36700000-7f0c36800000 r--p 00000000 fe:01 247026             /other/dev/same/inode", 0),
		smapsEntry("7f0c36800000-7f0c36900000 r--s 00000000 fe:00 247026             /bin/init", 0),
		"",
	}, "\n")
	got, err := readOnlyMappings(strings.NewReader(maps), "fe:00", 247026)
	if err != nil {
		t.Fatal(err)
	}
	want := []mapping{{0x00400000, 0x00621000}, {0x00621000, 0x00880000}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mappings %x; want %x", got, want)
	}
}

// A read-only mapping of the binary that holds pages of its own (a
// PIE's RELRO: relocated by the dynamic loader, then made read-only) is
// not the file's: MADV_DONTNEED would bring back the file's unrelocated
// bytes, and the init crashed (a -buildmode=pie build, SIGSEGV in the
// runtime 200 ms into COMMAND). Only mappings with no anonymous page are
// trimmed.
func TestReadOnlyMappingsSkipsOwnPages(t *testing.T) {
	maps := strings.Join([]string{
		smapsEntry("5600bdc00000-5600bdf21000 r--p 00000000 fe:00 247026           /bin/init", 0),
		smapsEntry("5600bdf21000-5600be300000 r-xp 00321000 fe:00 247026           /bin/init", 0),
		smapsEntry("5600be300000-5600be3bb000 r--p 00700000 fe:00 247026           /bin/init", 748),
		smapsEntry("5600be3bb000-5600be3fb000 rw-p 007bb000 fe:00 247026           /bin/init", 12),
		"",
	}, "\n")
	got, err := readOnlyMappings(strings.NewReader(maps), "fe:00", 247026)
	if err != nil {
		t.Fatal(err)
	}
	want := []mapping{{0x5600bdc00000, 0x5600bdf21000}, {0x5600bdf21000, 0x5600be300000}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mappings %x; want %x (the RELRO mapping, with anonymous pages, left alone)", got, want)
	}
}

func TestReadOnlyMappingsBadLine(t *testing.T) {
	if _, err := readOnlyMappings(strings.NewReader("zz-00621000 r-xp 00000000 fe:00 247026 /bin/init\n"), "fe:00", 247026); err == nil {
		t.Fatal("no error for a malformed line")
	}
}

func rssFileKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.Fields(v)[0])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// The binary's read-only pages leave the process (they come back from
// the file when touched).
func TestTrimDropsFilePages(t *testing.T) {
	before := rssFileKB(t)
	if err := Trim("/proc"); err != nil {
		t.Fatal(err)
	}
	after := rssFileKB(t)
	if qemu, under := emu.QEMU(); under {
		// qemu user emulation answers madvise(MADV_DONTNEED) on a file
		// mapping with success and does nothing (it passes the call to
		// the kernel only for anonymous mappings), so there is nothing
		// to measure: Trim's success is all that is checked here.
		t.Logf("under %s: RssFile %d kB before Trim, %d kB after; qemu ignores MADV_DONTNEED on file mappings, so the drop is not checked", qemu, before, after)
		return
	}
	if after >= before {
		t.Fatalf("RssFile %d kB after Trim, %d kB before; want less", after, before)
	}
}
