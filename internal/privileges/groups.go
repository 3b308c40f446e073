package privileges

import (
	"strconv"
	"strings"
)

// RootGroups returns, sorted, the GIDs that the image's group file grants
// to root by name: groups whose member list names "root" or another
// passwd entry with UID 0. A runtime started as root gives it these as
// supplementary groups (runc reads the image's /etc/group: Alpine grants
// root disk, wheel, adm and more); they are root's, not the pod's, so
// RUN_AS drops them. CRLF line ends, blanks around members, comments and
// malformed lines are tolerated; a missing file is empty input.
func RootGroups(passwd, group []byte) []int {
	names := map[string]bool{"root": true}
	for _, line := range lines(passwd) {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] != "" && strings.TrimSpace(f[2]) == "0" {
			names[f[0]] = true
		}
	}
	var gids []int
	for _, line := range lines(group) {
		f := strings.Split(line, ":")
		if len(f) < 4 {
			continue
		}
		gid, err := strconv.ParseUint(strings.TrimSpace(f[2]), 10, 32)
		if err != nil {
			continue
		}
		for _, m := range strings.Split(f[3], ",") {
			if names[strings.TrimSpace(m)] {
				gids = append(gids, int(gid))
				break
			}
		}
	}
	return sortedUnique(gids)
}

// lines splits a passwd or group file into lines without their CR, and
// without blank lines or comments.
func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// RootPrimaryGroups returns, sorted, root's primary groups: the GIDs of
// the passwd entries with UID 0, or 0 when there is none. A runtime
// gives root its primary group as a supplementary group too (containerd's
// ensureAdditionalGids), though Debian's root:x:0: names no member; it is
// root's, so RUN_AS drops it unless it is the target GID.
func RootPrimaryGroups(passwd []byte) []int {
	var gids []int
	for _, line := range lines(passwd) {
		f := strings.Split(line, ":")
		if len(f) < 4 || strings.TrimSpace(f[2]) != "0" {
			continue
		}
		if gid, err := strconv.ParseUint(strings.TrimSpace(f[3]), 10, 32); err == nil {
			gids = append(gids, int(gid))
		}
	}
	if len(gids) == 0 {
		return []int{0}
	}
	return sortedUnique(gids)
}

// primaryGID is the GID of uid's entry in passwd, read as leniently as
// RootGroups reads it.
func primaryGID(passwd []byte, uid int) (int, bool) {
	for _, line := range lines(passwd) {
		f := strings.Split(line, ":")
		if len(f) < 4 {
			continue
		}
		u, err := strconv.ParseUint(strings.TrimSpace(f[2]), 10, 32)
		if err != nil || int(u) != uid {
			continue
		}
		if g, err := strconv.ParseUint(strings.TrimSpace(f[3]), 10, 32); err == nil {
			return int(g), true
		}
	}
	return 0, false
}

// FormatGroups writes a group list for the log and doctor: "0,2000", or
// "none".
func FormatGroups(ids []int) string {
	if len(ids) == 0 {
		return "none"
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return strings.Join(parts, ",")
}
