// Package elfinfo reads what the identity step needs from an ELF file:
// whether it is loaded by a dynamic loader (PT_INTERP) and which one,
// whether it is dynamically linked at all (PT_DYNAMIC), and the libraries
// it needs (DT_NEEDED), from which its C library follows. It reads only
// the header, the program headers, the dynamic section and the needed
// names, each bounded, with encoding/binary: debug/elf would add a
// quarter of a megabyte to a static init for these few fields.
package elfinfo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Libc is the C library a program or library is built for.
type Libc string

// C libraries.
const (
	Glibc   Libc = "glibc"
	Musl    Libc = "musl"
	Static  Libc = "static"  // no dynamic loader: LD_PRELOAD is never read
	Unknown Libc = "unknown" // another C library, or nothing says
)

// Bounds on what is read, so that a hostile file costs little.
const (
	maxPhnum   = 256     // program headers
	maxDynamic = 1 << 16 // bytes of the dynamic section
	maxNeeded  = 64      // DT_NEEDED entries
	maxName    = 256     // bytes of one needed name or of PT_INTERP
)

// Info is what was read from one ELF file.
type Info struct {
	Type    uint16   // e_type: 2 ET_EXEC, 3 ET_DYN
	Machine uint16   // e_machine
	Interp  string   // PT_INTERP, the loader; empty without one
	Dynamic bool     // a PT_DYNAMIC segment: linked against shared objects (or static-pie)
	Needed  []string // DT_NEEDED names, in order
}

// Read reads the ELF facts of the file at path. It follows symbolic
// links, as exec and ld.so do. Only a regular file is opened, and with
// O_NONBLOCK, so that a FIFO put in its place between the two checks
// cannot hang the init.
func Read(path string) (Info, error) {
	if fi, err := os.Stat(path); err != nil {
		return Info{}, err
	} else if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("%s: not a regular file", path)
	}
	info, err := Parse(f, fi.Size())
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
}

// ErrNotELF is a file that does not start with the ELF magic.
var ErrNotELF = errors.New("not an ELF file")

// Parse reads the ELF facts from r, a file of size bytes. Every offset
// and count is checked against size and the bounds above; a truncated or
// inconsistent file is an error, never a panic.
func Parse(r io.ReaderAt, size int64) (Info, error) {
	var ident [16]byte
	if err := readAt(r, size, ident[:], 0); err != nil {
		return Info{}, ErrNotELF
	}
	if string(ident[:4]) != "\x7fELF" {
		return Info{}, ErrNotELF
	}
	var order binary.ByteOrder
	switch ident[5] {
	case 1:
		order = binary.LittleEndian
	case 2:
		order = binary.BigEndian
	default:
		return Info{}, fmt.Errorf("bad ELF data encoding %d", ident[5])
	}
	var is64 bool
	switch ident[4] {
	case 1:
	case 2:
		is64 = true
	default:
		return Info{}, fmt.Errorf("bad ELF class %d", ident[4])
	}
	e := file{r: r, size: size, order: order, is64: is64}
	return e.parse()
}

type file struct {
	r     io.ReaderAt
	size  int64
	order binary.ByteOrder
	is64  bool
}

type segment struct {
	typ                uint32
	off, vaddr, filesz uint64
}

const (
	ptLoad    = 1
	ptDynamic = 2
	ptInterp  = 3
	dtNull    = 0
	dtNeeded  = 1
	dtStrtab  = 5
)

func (e file) parse() (Info, error) {
	hsize := 52
	if e.is64 {
		hsize = 64
	}
	h := make([]byte, hsize)
	if err := readAt(e.r, e.size, h, 0); err != nil {
		return Info{}, fmt.Errorf("truncated ELF header: %w", err)
	}
	info := Info{Type: e.order.Uint16(h[16:]), Machine: e.order.Uint16(h[18:])}
	var phoff uint64
	var phentsize, phnum uint16
	if e.is64 {
		phoff = e.order.Uint64(h[32:])
		phentsize, phnum = e.order.Uint16(h[54:]), e.order.Uint16(h[56:])
	} else {
		phoff = uint64(e.order.Uint32(h[28:]))
		phentsize, phnum = e.order.Uint16(h[42:]), e.order.Uint16(h[44:])
	}
	want := uint16(32)
	if e.is64 {
		want = 56
	}
	if phnum == 0 {
		return info, nil
	}
	if phentsize < want {
		return Info{}, fmt.Errorf("program header size %d, want at least %d", phentsize, want)
	}
	if phnum > maxPhnum {
		return Info{}, fmt.Errorf("%d program headers, more than %d", phnum, maxPhnum)
	}
	ph := make([]byte, int(phentsize)*int(phnum))
	if err := readAt(e.r, e.size, ph, phoff); err != nil {
		return Info{}, fmt.Errorf("truncated program headers: %w", err)
	}
	var segs []segment
	var dyn *segment
	for i := 0; i < int(phnum); i++ {
		s := e.segment(ph[i*int(phentsize):])
		segs = append(segs, s)
		switch s.typ {
		case ptInterp:
			if s.filesz == 0 || s.filesz > maxName {
				return Info{}, fmt.Errorf("PT_INTERP of %d bytes", s.filesz)
			}
			b := make([]byte, s.filesz)
			if err := readAt(e.r, e.size, b, s.off); err != nil {
				return Info{}, fmt.Errorf("truncated PT_INTERP: %w", err)
			}
			info.Interp, _, _ = strings.Cut(string(b), "\x00")
		case ptDynamic:
			info.Dynamic = true
			d := s
			dyn = &d
		}
	}
	if dyn != nil {
		needed, err := e.needed(*dyn, segs)
		if err != nil {
			return Info{}, err
		}
		info.Needed = needed
	}
	return info, nil
}

func (e file) segment(b []byte) segment {
	if e.is64 {
		return segment{typ: e.order.Uint32(b), off: e.order.Uint64(b[8:]), vaddr: e.order.Uint64(b[16:]), filesz: e.order.Uint64(b[32:])}
	}
	return segment{typ: e.order.Uint32(b), off: uint64(e.order.Uint32(b[4:])), vaddr: uint64(e.order.Uint32(b[8:])), filesz: uint64(e.order.Uint32(b[16:]))}
}

// needed reads the DT_NEEDED names of the dynamic segment dyn. DT_STRTAB
// is an address; the PT_LOAD segment holding it gives its file offset.
func (e file) needed(dyn segment, segs []segment) ([]string, error) {
	n := min(dyn.filesz, maxDynamic)
	b := make([]byte, n)
	if err := readAt(e.r, e.size, b, dyn.off); err != nil {
		return nil, fmt.Errorf("truncated dynamic section: %w", err)
	}
	ent := 8
	if e.is64 {
		ent = 16
	}
	var strtab uint64
	haveStrtab := false
	var offs []uint64
	for i := 0; i+ent <= len(b); i += ent {
		var tag, val uint64
		if e.is64 {
			tag, val = e.order.Uint64(b[i:]), e.order.Uint64(b[i+8:])
		} else {
			tag, val = uint64(e.order.Uint32(b[i:])), uint64(e.order.Uint32(b[i+4:]))
		}
		if tag == dtNull {
			break
		}
		switch tag {
		case dtNeeded:
			if len(offs) == maxNeeded {
				return nil, fmt.Errorf("more than %d DT_NEEDED entries", maxNeeded)
			}
			offs = append(offs, val)
		case dtStrtab:
			strtab, haveStrtab = val, true
		}
	}
	if len(offs) == 0 {
		return nil, nil
	}
	if !haveStrtab {
		return nil, errors.New("DT_NEEDED without DT_STRTAB")
	}
	base, ok := fileOffset(strtab, segs)
	if !ok {
		return nil, fmt.Errorf("DT_STRTAB %#x is in no PT_LOAD segment", strtab)
	}
	names := make([]string, 0, len(offs))
	for _, o := range offs {
		if o > uint64(e.size) || base > uint64(e.size)-o {
			return nil, fmt.Errorf("DT_NEEDED name at %#x is past the end of the file", o)
		}
		at := base + o
		buf := make([]byte, min(maxName, uint64(e.size)-at))
		if err := readAt(e.r, e.size, buf, at); err != nil {
			return nil, fmt.Errorf("DT_NEEDED name: %w", err)
		}
		name, _, found := strings.Cut(string(buf), "\x00")
		if !found {
			return nil, fmt.Errorf("DT_NEEDED name at %#x is not terminated within %d bytes", at, maxName)
		}
		names = append(names, name)
	}
	return names, nil
}

// fileOffset maps the address addr to a file offset through the PT_LOAD
// segment whose file image holds it.
func fileOffset(addr uint64, segs []segment) (uint64, bool) {
	for _, s := range segs {
		if s.typ == ptLoad && addr >= s.vaddr && addr-s.vaddr < s.filesz {
			return s.off + (addr - s.vaddr), true
		}
	}
	return 0, false
}

// readAt fills b from offset off of r, a file of size bytes.
func readAt(r io.ReaderAt, size int64, b []byte, off uint64) error {
	if off > uint64(size) || uint64(len(b)) > uint64(size)-off {
		return io.ErrUnexpectedEOF
	}
	_, err := r.ReadAt(b, int64(off))
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ProgramLibc is the C library of a program whose facts are info: static
// without a loader (a static-pie has PT_DYNAMIC but no PT_INTERP, and
// the kernel starts it without ld.so, so LD_PRELOAD is never read);
// otherwise the loader's name says, and, when that is ambiguous, the
// libc it needs. resolvedInterp is PT_INTERP with symbolic links
// resolved ("" when unknown): Alpine's gcompat names musl's loader
// ld-linux-x86-64.so.2.
func ProgramLibc(info Info, resolvedInterp string) Libc {
	if info.Interp == "" {
		return Static
	}
	for _, p := range []string{resolvedInterp, info.Interp} {
		if p == "" {
			continue
		}
		base := filepath.Base(p)
		switch {
		case strings.Contains(base, "musl"):
			return Musl
		case strings.HasPrefix(base, "ld-linux") || strings.HasPrefix(base, "ld64.so.") || base == "ld.so.1":
			if l := LibraryLibc(info); l != Unknown {
				return l
			}
			return Glibc
		}
	}
	// Another loader (bionic's linker64, uClibc's): its libc.so is no
	// musl, so the names it needs say nothing.
	return Unknown
}

// LibraryLibc is the C library a shared object was linked against, from
// its DT_NEEDED names: glibc's is libc.so.6; musl's is
// libc.musl-ARCH.so.1 (Alpine) or libc.so (Debian's musl).
func LibraryLibc(info Info) Libc {
	for _, n := range info.Needed {
		switch {
		case n == "libc.so.6":
			return Glibc
		case strings.HasPrefix(n, "libc.musl-") || n == "libc.so":
			return Musl
		}
	}
	return Unknown
}
