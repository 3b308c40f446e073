package privileges

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

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
