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
