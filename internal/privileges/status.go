package privileges

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Status is the credential part of a /proc/<pid>/status or
// /proc/<pid>/task/<tid>/status file.
type Status struct {
	UIDs       [4]int // real, effective, saved, filesystem
	GIDs       [4]int
	Groups     []int
	CapInh     uint64
	CapPrm     uint64
	CapEff     uint64
	CapBnd     uint64
	CapAmb     uint64
	NoNewPrivs bool
}

// ReadStatus reads and parses a status file.
func ReadStatus(path string) (Status, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Status{}, fmt.Errorf("read %s: %w", path, err)
	}
	st, err := ParseStatus(string(b))
	if err != nil {
		return Status{}, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// ParseStatus parses the Uid, Gid, Groups, Cap* and NoNewPrivs lines of a
// status file. Uid, Gid and the five capability sets must be present;
// NoNewPrivs appeared in Linux 4.10 and reads as false when absent.
func ParseStatus(s string) (Status, error) {
	var st Status
	seen := map[string]bool{}
	for _, line := range strings.Split(s, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		var err error
		switch key {
		case "Uid":
			st.UIDs, err = parseFour(val)
		case "Gid":
			st.GIDs, err = parseFour(val)
		case "Groups":
			st.Groups, err = parseInts(val)
		case "CapInh":
			st.CapInh, err = strconv.ParseUint(val, 16, 64)
		case "CapPrm":
			st.CapPrm, err = strconv.ParseUint(val, 16, 64)
		case "CapEff":
			st.CapEff, err = strconv.ParseUint(val, 16, 64)
		case "CapBnd":
			st.CapBnd, err = strconv.ParseUint(val, 16, 64)
		case "CapAmb":
			st.CapAmb, err = strconv.ParseUint(val, 16, 64)
		case "NoNewPrivs":
			st.NoNewPrivs = val == "1"
		default:
			continue
		}
		if err != nil {
			return Status{}, fmt.Errorf("bad %s line %q: %w", key, line, err)
		}
		seen[key] = true
	}
	for _, k := range []string{"Uid", "Gid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if !seen[k] {
			return Status{}, fmt.Errorf("no %s line", k)
		}
	}
	return st, nil
}

func parseFour(val string) ([4]int, error) {
	var out [4]int
	ids, err := parseInts(val)
	if err != nil {
		return out, err
	}
	if len(ids) != 4 {
		return out, fmt.Errorf("%d ids, want 4", len(ids))
	}
	copy(out[:], ids)
	return out, nil
}

func parseInts(val string) ([]int, error) {
	var out []int
	for _, f := range strings.Fields(val) {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not an id", f)
		}
		out = append(out, int(n))
	}
	return out, nil
}

// capNames are the capabilities' names by number (linux/capability.h).
var capNames = []string{
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
	"setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service",
	"net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
	"sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
	"sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
	"sys_tty_config", "mknod", "lease", "audit_write", "audit_control",
	"setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
	"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
}

// CapNames returns the names of the capabilities in set, e.g.
// "cap_net_bind_service", "none", or "all" for every capability Linux 5.9
// and later know.
func CapNames(set uint64) string {
	if all := uint64(1)<<len(capNames) - 1; set&all == all {
		if set == all {
			return "all"
		}
		return fmt.Sprintf("all, plus %016x", set&^all)
	}
	var names []string
	for c := 0; c < 64; c++ {
		if set&(1<<c) == 0 {
			continue
		}
		if c < len(capNames) {
			names = append(names, "cap_"+capNames[c])
		} else {
			names = append(names, "cap_"+strconv.Itoa(c))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// sameGroups reports whether a and b hold the same IDs, in any order.
func sameGroups(a, b []int) bool {
	x, y := sortedUnique(a), sortedUnique(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

func sortedUnique(ids []int) []int {
	out := append([]int(nil), ids...)
	sort.Ints(out)
	n := 0
	for i, v := range out {
		if i == 0 || v != out[n-1] {
			out[n] = v
			n++
		}
	}
	return out[:n]
}
