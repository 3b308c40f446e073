// Package ports decides which port COMMAND can bind for each NAME=PORT of
// NONROOT_PORTS: the port itself when the kernel lets COMMAND bind it,
// otherwise the port plus NONROOT_PORT_OFFSET (80 to 8080).
package ports

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/go-multierror"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

// DefaultUnprivilegedStart is the kernel's default for
// net.ipv4.ip_unprivileged_port_start, and the value assumed when the
// sysctl file is missing (kernels before 4.11 have no such sysctl and use
// the fixed PROT_SOCK of 1024).
const DefaultUnprivilegedStart = 1024

// UnprivilegedStart reads net.ipv4.ip_unprivileged_port_start under procDir
// ("/proc" on a real host). The sysctl is per network namespace, and
// /proc/sys/net shows the namespace of the reading process, so the value
// is the container's own. A missing file counts as 1024.
func UnprivilegedStart(procDir string) (int, error) {
	path := procDir + "/sys/net/ipv4/ip_unprivileged_port_start"
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultUnprivilegedStart, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the unprivileged port start: %w", err)
	}
	n, err := parseUnprivilegedStart(string(b))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// parseUnprivilegedStart parses the sysctl file's content: one decimal
// number from 0 to 65535 and a newline. The kernel clamps the sysctl to
// that range, so anything else is not the file we meant to read.
func parseUnprivilegedStart(s string) (int, error) {
	v := strings.TrimSpace(s)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port number from 0 to 65535", v)
	}
	return n, nil
}

// capNetBindService is CAP_NET_BIND_SERVICE's bit number (linux/capability.h).
const capNetBindService = 10

// Caps is the part of /proc/PID/status that decides which capabilities a
// program this process executes will hold.
type Caps struct {
	EUID        int
	Inheritable uint64
	Permitted   uint64
	Effective   uint64
	Bounding    uint64
	Ambient     uint64
}

// ReadCaps reads the init's own capability sets and effective UID from
// procDir/self/status. The file describes the thread group leader; the
// privileges step applies its changes to every thread, so the leader
// speaks for the thread that will start COMMAND. A status without CapAmb
// (Linux before 4.3) has an empty ambient set (procfs.Capabilities).
func ReadCaps(procDir string) (Caps, error) {
	st, err := procfs.ReadStatus(procDir+"/self/status", procfs.LineUid|procfs.Capabilities)
	if err != nil {
		return Caps{}, fmt.Errorf("read the capability sets: %w", err)
	}
	return capsOf(st), nil
}

// capsOf takes the effective UID and the capability sets of a status.
func capsOf(st procfs.Status) Caps {
	return Caps{EUID: st.UIDs[1], Inheritable: st.CapInh, Permitted: st.CapPrm, Effective: st.CapEff, Bounding: st.CapBnd, Ambient: st.CapAmb}
}

// BindForCommand reports whether a program this process executes will
// hold CAP_NET_BIND_SERVICE, and why. It applies the execve rules of
// capabilities(7) to a COMMAND without file capabilities and without the
// set-user-ID bit (the common case; the init cannot know which binary a
// shell COMMAND will end up running):
//
//   - as (effective) UID 0, the new permitted set is the inheritable set
//     plus the bounding set, and all of it is effective;
//   - as any other UID, only the ambient set survives; a capability the
//     init holds in its effective or permitted set alone is lost.
func (c Caps) BindForCommand() (bool, string) {
	bit := uint64(1) << capNetBindService
	switch {
	case c.EUID == 0 && (c.Bounding|c.Inheritable)&bit != 0:
		return true, "COMMAND runs as root with CAP_NET_BIND_SERVICE in the bounding set"
	case c.EUID == 0:
		return false, "COMMAND runs as root but CAP_NET_BIND_SERVICE is not in the bounding set (dropped by the runtime)"
	case c.Ambient&bit != 0:
		return true, "CAP_NET_BIND_SERVICE is in the ambient set, which COMMAND keeps across exec"
	case c.Effective&bit != 0 || c.Permitted&bit != 0:
		return false, fmt.Sprintf("the init holds CAP_NET_BIND_SERVICE but not as an ambient capability, so COMMAND (uid %d) loses it at exec", c.EUID)
	}
	return false, fmt.Sprintf("COMMAND (uid %d) does not hold CAP_NET_BIND_SERVICE", c.EUID)
}

// Facts are what the port decision depends on.
type Facts struct {
	UnprivilegedStart int    // net.ipv4.ip_unprivileged_port_start
	BindCap           bool   // COMMAND will hold CAP_NET_BIND_SERVICE
	BindCapReason     string // why or why not, from Caps.BindForCommand
}

// Decision is the resolved port of one NAME=PORT pair.
type Decision struct {
	Name   string
	Asked  int    // the PORT of NAME=PORT
	Port   int    // what COMMAND gets as NAME; the containerPort
	Reason string // why, for the log and doctor
}

// Remapped reports whether the port was moved by the offset.
func (d Decision) Remapped() bool { return d.Port != d.Asked }

// Resolve decides each port of want: kept when COMMAND can bind it (at or
// above the unprivileged start, or with CAP_NET_BIND_SERVICE), otherwise
// moved up by offset. Every problem is reported together: a result above
// 65535, and two names ending on the same port (the second would fail to
// bind with EADDRINUSE, far from the cause).
func Resolve(want []config.Port, offset int, f Facts) ([]Decision, error) {
	var errs *multierror.Error
	out := make([]Decision, 0, len(want))
	owner := map[int]Decision{}
	for _, w := range want {
		d := decide(w, offset, f)
		if d.Port > 65535 {
			errs = multierror.Append(errs, fmt.Errorf("%s=%d cannot be bound by COMMAND and %d+NONROOT_PORT_OFFSET (%d) = %d is above 65535; lower NONROOT_PORT_OFFSET or ask for a port at or above %d",
				w.Name, w.Port, w.Port, offset, d.Port, f.UnprivilegedStart))
			continue
		}
		if first, dup := owner[d.Port]; dup {
			errs = multierror.Append(errs, fmt.Errorf("%s=%d and %s=%d both end on port %d; change one of them or NONROOT_PORT_OFFSET",
				first.Name, first.Asked, d.Name, d.Asked, d.Port))
			continue
		}
		owner[d.Port] = d
		out = append(out, d)
	}
	if err := errlist.OrNil(errs); err != nil {
		return nil, fmt.Errorf("NONROOT_PORTS: %w", err)
	}
	return out, nil
}

// decide is the decision for one port, without the cross-port checks.
func decide(w config.Port, offset int, f Facts) Decision {
	d := Decision{Name: w.Name, Asked: w.Port, Port: w.Port}
	switch {
	case !needsBindCap(w.Port, f.UnprivilegedStart):
		d.Reason = fmt.Sprintf("%d is at or above net.ipv4.ip_unprivileged_port_start (%d), so any uid can bind it", w.Port, f.UnprivilegedStart)
	case f.BindCap:
		d.Reason = fmt.Sprintf("%d is below net.ipv4.ip_unprivileged_port_start (%d) but %s", w.Port, f.UnprivilegedStart, f.BindCapReason)
	default:
		d.Port = w.Port + offset
		d.Reason = fmt.Sprintf("%d is below net.ipv4.ip_unprivileged_port_start (%d) and %s, so %d+NONROOT_PORT_OFFSET (%d)", w.Port, f.UnprivilegedStart, f.BindCapReason, w.Port, offset)
	}
	return d
}

// NeedsBindCap reports whether any of the ports is below start, i.e.
// whether COMMAND needs CAP_NET_BIND_SERVICE to bind every port as asked.
func NeedsBindCap(want []config.Port, start int) bool {
	for _, w := range want {
		if needsBindCap(w.Port, start) {
			return true
		}
	}
	return false
}

// needsBindCap is the kernel's rule (inet_bind): binding a port below
// net.ipv4.ip_unprivileged_port_start needs CAP_NET_BIND_SERVICE.
func needsBindCap(port, start int) bool { return port < start }

// RunAsNeedsBindCap reports whether step 1's switch from root must keep
// CAP_NET_BIND_SERVICE for COMMAND: whether a port of want is below the
// unprivileged start read under procDir. Nothing is read when want is
// empty.
func RunAsNeedsBindCap(procDir string, want []config.Port) (bool, error) {
	if len(want) == 0 {
		return false, nil
	}
	start, err := UnprivilegedStart(procDir)
	if err != nil {
		return false, err
	}
	return NeedsBindCap(want, start), nil
}

// ReadFacts reads what the decision depends on from procDir: the
// unprivileged start of the init's network namespace (which COMMAND
// shares) and whether COMMAND will hold CAP_NET_BIND_SERVICE.
func ReadFacts(procDir string) (Facts, error) {
	start, err := UnprivilegedStart(procDir)
	if err != nil {
		return Facts{}, err
	}
	caps, err := ReadCaps(procDir)
	if err != nil {
		return Facts{}, err
	}
	bind, why := caps.BindForCommand()
	return Facts{UnprivilegedStart: start, BindCap: bind, BindCapReason: why}, nil
}
