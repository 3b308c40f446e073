package identity

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/nonroot-init/nonroot-init/internal/elfinfo"
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
	return findLib(explicit, dirs, goarch, command{libc: elfinfo.Unknown})
}

// LibcMismatchError is a COMMAND whose C library has no build of
// nss_wrapper: preloading another build would stop it from starting (the
// musl loader refuses glibc's library: "Error relocating ...
// __snprintf_chk: symbol not found").
type LibcMismatchError struct {
	Command string // COMMAND, and the program that runs it
	Libc    elfinfo.Libc
	Skipped []string // the builds found, with their C library
}

func (e *LibcMismatchError) Error() string {
	msg := fmt.Sprintf("no %s build of libnss_wrapper.so for COMMAND %s, so its own lookups by uid will fail (another C library's build would stop it from starting)", e.Libc, e.Command)
	if len(e.Skipped) > 0 {
		msg += "; skipped " + strings.Join(e.Skipped, ", ")
	}
	return msg + "; install Alpine's nss_wrapper (apk add nss_wrapper) or set NONROOT_NSS_WRAPPER_LIB to a musl build"
}

// libAccepts says whether a build of nss_wrapper for the C library lib
// may be preloaded into cmd: a glibc program takes any build but musl's,
// a musl program only musl's; for a static program, whose children are
// unknown, or an unknown one, the first build found serves.
func libAccepts(cmd elfinfo.Libc, lib elfinfo.Libc) bool {
	switch cmd {
	case elfinfo.Glibc:
		return lib != elfinfo.Musl
	case elfinfo.Musl:
		return lib == elfinfo.Musl
	}
	return true
}

// findLib is FindLib for COMMAND cmd: a build for another C library than
// cmd's is skipped (libAccepts). Each library is judged once, however
// many names and directories lead to it (Debian's /lib is /usr/lib).
func findLib(explicit string, dirs []string, goarch string, cmd command) (string, error) {
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
	var wrongArch, wrongLibc []string
	seen := map[string]bool{}
	for _, c := range candidates {
		resolved, err := filepath.EvalSymlinks(c)
		if err != nil {
			if explicit != "" {
				return "", fmt.Errorf("NONROOT_NSS_WRAPPER_LIB=%s: %w", explicit, err)
			}
			continue
		}
		if seen[resolved] {
			continue
		}
		seen[resolved] = true
		info, err := checkELF(resolved, elfMachine(goarch))
		if err != nil {
			if explicit != "" {
				return "", fmt.Errorf("NONROOT_NSS_WRAPPER_LIB=%s: %w", explicit, err)
			}
			wrongArch = append(wrongArch, fmt.Sprintf("%s (%v)", resolved, err))
			continue
		}
		if lc := elfinfo.LibraryLibc(info); !libAccepts(cmd.libc, lc) {
			built := "built for " + string(lc)
			if lc == elfinfo.Unknown {
				built = "built for a C library not known"
			}
			wrongLibc = append(wrongLibc, fmt.Sprintf("%s (%s)", resolved, built))
			continue
		}
		return resolved, nil
	}
	if len(wrongLibc) > 0 || cmd.libc == elfinfo.Musl {
		err := &LibcMismatchError{Command: cmd.String(), Libc: cmd.libc, Skipped: append(wrongLibc, wrongArch...)}
		if explicit != "" {
			return "", fmt.Errorf("NONROOT_NSS_WRAPPER_LIB=%s: %w", explicit, err)
		}
		return "", err
	}
	msg := fmt.Sprintf("libnss_wrapper.so not found in %s", strings.Join(dirs, ", "))
	if len(wrongArch) > 0 {
		msg = fmt.Sprintf("no usable libnss_wrapper.so in %s; skipped %s", strings.Join(dirs, ", "), strings.Join(wrongArch, ", "))
	}
	return "", errors.New(msg + "; install libnss-wrapper (Debian), nss_wrapper-libs (Fedora, UBI) or nss_wrapper (Alpine), or set NONROOT_NSS_WRAPPER_LIB")
}

// checkELF accepts a regular file that is a shared object for machine
// and returns what elfinfo read of it.
func checkELF(path string, machine uint16) (elfinfo.Info, error) {
	info, err := elfinfo.Read(path)
	if err != nil {
		return elfinfo.Info{}, fmt.Errorf("not an ELF library: %w", err)
	}
	if info.Type != 3 { // ET_DYN
		return elfinfo.Info{}, fmt.Errorf("ELF type %d, not a shared object", info.Type)
	}
	if machine != emNone && info.Machine != machine {
		return elfinfo.Info{}, fmt.Errorf("built for ELF machine %d, not %d", info.Machine, machine)
	}
	return info, nil
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
func nssFiles(passwd, group []byte, e Entry, groups []Group, ours []int) (p, g []byte, dropped int, err error) {
	kept, dp := validLines(passwd, validPasswd)
	gl, dg := validLines(group, validGroup)
	mine := make(map[int]bool, len(ours))
	for _, gid := range ours {
		mine[gid] = true
	}
	for i, l := range gl {
		gl[i] = withoutMember(l, e.Name, mine)
	}
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

// withoutMember drops name from the member list of line, a valid group
// line, unless the group's GID is one of ours. In the copy, the groups
// the provided name belongs to are the ones the kernel gave us: a
// taken-over postgres must not look like a member of the image's shadow,
// disk or sudo to programs that read member lists (getgrouplist, `id
// postgres`), when the process is in none of them.
func withoutMember(line, name string, ours map[int]bool) string {
	g, err := parseGroupLine(line)
	if err != nil || ours[g.GID] || g.Members == "" {
		return line
	}
	members := strings.Split(g.Members, ",")
	kept := make([]string, 0, len(members))
	for _, m := range members {
		if strings.TrimSpace(m) != name {
			kept = append(kept, m)
		}
	}
	if len(kept) == len(members) {
		return line
	}
	f := strings.SplitN(line, ":", 4)
	return f[0] + ":" + f[1] + ":" + f[2] + ":" + strings.Join(kept, ",")
}
