package privileges

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

// alpineGroup is Alpine's /etc/group, which grants root a dozen groups by
// name; runc gives root exactly those as supplementary groups.
const alpineGroup = `root:x:0:root
bin:x:1:root,bin,daemon
daemon:x:2:root,bin,daemon
sys:x:3:root,bin,adm
adm:x:4:root,adm,daemon
tty:x:5:
disk:x:6:root,adm
wheel:x:10:root
floppy:x:11:root
dialout:x:20:root
tape:x:26:root
video:x:27:root
nobody:x:65534:
`

func TestRootGroups(t *testing.T) {
	const passwd = "root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/sbin/nologin\n"
	tests := []struct {
		name          string
		passwd, group string
		want          string
	}{
		{"alpine", passwd, alpineGroup, "0 1 2 3 4 6 10 11 20 26 27"},
		{"debian: none by name", passwd, "root:x:0:\ndisk:x:6:\nsudo:x:27:\n", ""},
		{"CRLF, blanks, comments, junk", passwd, "disk:x:6:root\r\n\n# sudo:x:27:root\nbroken line\nops:x:3000: alice , root \r\nbad:x:notanumber:root\n", "6 3000"},
		{"a name only containing root", passwd, "a:x:1:rooty\nb:x:2:xroot\nc:x:3:ro ot\n", ""},
		{"uid 0 under another name", passwd + "toor:x:0:0::/root:/bin/sh\n", "wheel:x:10:toor\n", "10"},
		{"a passwd entry named root with another uid still counts", "root:x:5:5::/:/bin/sh\n", "disk:x:6:root\n", "6"},
		{"no passwd at all", "", "disk:x:6:root\n", "6"},
		{"duplicates once, sorted", passwd, "b:x:9:root\na:x:9:root\nc:x:3:root\n", "3 9"},
	}
	for _, tt := range tests {
		got := strings.Trim(fmt.Sprint(RootGroups([]byte(tt.passwd), []byte(tt.group))), "[]")
		if got != tt.want {
			t.Errorf("%s: RootGroups(%q, %q) = %q; want %q", tt.name, tt.passwd, tt.group, got, tt.want)
		}
	}
}

func TestMakePlanHygiene(t *testing.T) {
	root, _ := procfs.ParseStatus(statusRoot, procfs.Credentials) // groups 0 1 2 3 4 6 10 11 20 26 27
	root.Groups = append(root.Groups, 2000)
	noSetpcap := root
	noSetpcap.CapEff &^= 1 << capSetpcap
	rootGroups := RootGroups(nil, []byte(alpineGroup))
	tests := []struct {
		name          string
		st            procfs.Status
		t             Target
		groups, drop  string
		boundingKept  uint64
		droppedBounds int
	}{
		{"root's groups dropped, fsGroup and target kept", root, Target{UID: 1001, GID: 5000, DropGroups: rootGroups}, "2000 5000", "0 1 2 3 4 6 10 11 20 26 27", 0, 14},
		{"the target gid is kept even when root's", root, Target{UID: 1001, GID: 0, DropGroups: rootGroups}, "0 2000", "1 2 3 4 6 10 11 20 26 27", 0, 14},
		{"nothing to drop", root, Target{UID: 1001, GID: 5000}, "0 1 2 3 4 6 10 11 20 26 27 2000 5000", "", 0, 14},
		{"no setpcap: bounding set kept and said", noSetpcap, Target{UID: 1001, GID: 5000}, "0 1 2 3 4 6 10 11 20 26 27 2000 5000", "", root.CapBnd, 0},
		{"no setpcap, bind kept: the rest is kept", noSetpcap, Target{UID: 1001, GID: 5000, KeepBindService: true}, "0 1 2 3 4 6 10 11 20 26 27 2000 5000", "", root.CapBnd &^ (1 << capNetBindService), 0},
	}
	for _, tt := range tests {
		p, err := MakePlan(tt.st, tt.t)
		if err != nil {
			t.Errorf("%s: MakePlan(%+v): %v", tt.name, tt.t, err)
			continue
		}
		groups := strings.Trim(fmt.Sprint(p.Groups), "[]")
		drop := strings.Trim(fmt.Sprint(p.DroppedGroups), "[]")
		if groups != tt.groups || drop != tt.drop || p.BoundingKept != tt.boundingKept || len(p.DropBounding) != tt.droppedBounds {
			t.Errorf("%s: MakePlan(%+v) = groups %q dropped %q bounding kept %x, %d dropped; want %q %q %x %d",
				tt.name, tt.t, groups, drop, p.BoundingKept, len(p.DropBounding), tt.groups, tt.drop, tt.boundingKept, tt.droppedBounds)
		}
	}
}

func TestCheckStatusNoNewPrivs(t *testing.T) {
	st, _ := procfs.ParseStatus(statusOpenShift, procfs.Credentials)
	if err := checkNoNewPrivs(st); err != nil {
		t.Errorf("checkNoNewPrivs(no_new_privs set): %v", err)
	}
	st.NoNewPrivs = false
	if err := checkNoNewPrivs(st); err == nil {
		t.Errorf("checkNoNewPrivs(no_new_privs unset) = nil; want an error")
	}
}
