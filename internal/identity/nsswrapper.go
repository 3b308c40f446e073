package identity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// libNames are the names libnss_wrapper has in the distributions' packages
// (Debian's libnss-wrapper ships the .so itself, Fedora's nss_wrapper-libs
// the .so.0).
var libNames = []string{"libnss_wrapper.so", "libnss_wrapper.so.0"}

// LibDirs returns the directories searched for libnss_wrapper.so on
// goarch: the multiarch directories of Debian and Ubuntu, the lib64 of
// Fedora, RHEL and UBI, and the plain lib of Alpine.
func LibDirs(goarch string) []string {
	var triplet string
	switch goarch {
	case "amd64":
		triplet = "x86_64-linux-gnu"
	case "arm64":
		triplet = "aarch64-linux-gnu"
	}
	var dirs []string
	if triplet != "" {
		dirs = append(dirs, "/usr/lib/"+triplet, "/lib/"+triplet)
	}
	return append(dirs, "/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/local/lib64", "/usr/local/lib")
}

// ELF machine numbers (e_machine) of the architectures Go builds for.
const (
	emNone    = 0
	em386     = 3
	emARM     = 40
	emX86_64  = 62
	emAArch64 = 183
	emPPC64   = 21
	emS390    = 22
	emRISCV   = 243
)

// elfMachine is the ELF machine a library must be built for to be loaded
// into COMMAND on goarch; 0 when unknown (no check).
func elfMachine(goarch string) uint16 {
	switch goarch {
	case "amd64":
		return emX86_64
	case "arm64":
		return emAArch64
	case "386":
		return em386
	case "arm":
		return emARM
	case "ppc64le", "ppc64":
		return emPPC64
	case "s390x":
		return emS390
	case "riscv64":
		return emRISCV
	}
	return emNone
}

// FindLib returns the resolved path of libnss_wrapper: explicit if set,
// else the first of libNames in dirs. A library built for another
// architecture than goarch is skipped, as ld.so would refuse it. The
// error lists what was tried.
func FindLib(explicit string, dirs []string, goarch string) (string, error) {
	var candidates []string
	if explicit != "" {
		candidates = []string{explicit}
	} else {
		for _, d := range dirs {
			for _, n := range libNames {
				candidates = append(candidates, filepath.Join(d, n))
			}
		}
	}
	var wrongArch []string
	for _, c := range candidates {
		resolved, err := filepath.EvalSymlinks(c)
		if err != nil {
			if explicit != "" {
				return "", fmt.Errorf("NONROOT_NSS_WRAPPER_LIB=%s: %w", explicit, err)
			}
			continue
		}
		if err := checkELF(resolved, elfMachine(goarch)); err != nil {
			if explicit != "" {
				return "", fmt.Errorf("NONROOT_NSS_WRAPPER_LIB=%s: %w", explicit, err)
			}
			wrongArch = append(wrongArch, fmt.Sprintf("%s (%v)", resolved, err))
			continue
		}
		return resolved, nil
	}
	msg := fmt.Sprintf("libnss_wrapper.so not found in %s", strings.Join(dirs, ", "))
	if len(wrongArch) > 0 {
		msg += "; skipped " + strings.Join(wrongArch, ", ")
	}
	return "", errors.New(msg + "; install libnss-wrapper (Debian), nss_wrapper-libs (Fedora, UBI) or nss_wrapper (Alpine), or set NONROOT_NSS_WRAPPER_LIB")
}

// checkELF accepts a regular file that is a shared object for machine.
// Only the ELF header is read (debug/elf would add a quarter of a
// megabyte to the binary for these two fields).
func checkELF(path string, machine uint16) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var hdr [20]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return fmt.Errorf("not an ELF library: %w", err)
	}
	typ, mach, err := parseELFHeader(hdr[:])
	if err != nil {
		return err
	}
	if typ != 3 { // ET_DYN
		return fmt.Errorf("ELF type %d, not a shared object", typ)
	}
	if machine != emNone && mach != machine {
		return fmt.Errorf("built for ELF machine %d, not %d", mach, machine)
	}
	return nil
}

// parseELFHeader returns e_type and e_machine from the first 20 bytes of
// an ELF file, in the byte order its header declares.
func parseELFHeader(h []byte) (typ, machine uint16, err error) {
	if len(h) < 20 || string(h[:4]) != "\x7fELF" {
		return 0, 0, errors.New("not an ELF library: bad magic")
	}
	var order binary.ByteOrder
	switch h[5] {
	case 1:
		order = binary.LittleEndian
	case 2:
		order = binary.BigEndian
	default:
		return 0, 0, fmt.Errorf("not an ELF library: bad data encoding %d", h[5])
	}
	return order.Uint16(h[16:18]), order.Uint16(h[18:20]), nil
}

// appendPreload adds lib to an LD_PRELOAD value, keeping what is there.
// ld.so splits LD_PRELOAD on spaces and colons; lib is not added twice.
func appendPreload(existing, lib string) string {
	for _, p := range strings.FieldsFunc(existing, func(r rune) bool { return r == ' ' || r == ':' }) {
		if p == lib {
			return existing
		}
	}
	existing = strings.TrimRight(existing, ": ")
	if existing == "" {
		return lib
	}
	return existing + ":" + lib
}

// nssFiles builds the passwd and group files nss_wrapper will read: the
// image's valid lines with the entry e in the place of the first line of
// its name or its UID (an image user taken over, an entry copied with
// another home) or else at the end, other lines of its name dropped so
// that lookups by name and by UID agree; and the image's groups plus
// groups (those we hold that it lacks). Both are validated before they
// are returned.
func nssFiles(passwd, group []byte, e Entry, groups []Group) (p, g []byte, dropped int, err error) {
	kept, dp := validLines(passwd, validPasswd)
	gl, dg := validLines(group, validGroup)
	pl := make([]string, 0, len(kept)+1)
	placed := false
	for _, l := range kept {
		old, _ := parsePasswdLine(l) // validLines kept only lines that parse
		if !placed && (old.Name == e.Name || old.UID == e.UID) {
			pl, placed = append(pl, e.Line()), true
		}
		if old.Name != e.Name {
			pl = append(pl, l)
		}
	}
	if !placed {
		pl = append(pl, e.Line())
	}
	for _, grp := range groups {
		gl = append(gl, grp.Line())
	}
	p = []byte(strings.Join(pl, "\n") + "\n")
	g = []byte(strings.Join(gl, "\n") + "\n")
	if err := validateFile(p, validPasswd); err != nil {
		return nil, nil, 0, err
	}
	if err := validateFile(g, validGroup); err != nil {
		return nil, nil, 0, err
	}
	return p, g, dp + dg, nil
}
