package privileges

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

// statusRoot is a real /proc/self/status of root in a Docker container
// (trimmed to the lines that matter plus a few around them).
const statusRoot = `Name:	nonroot-init
Umask:	0022
State:	R (running)
Tgid:	1
Pid:	1
PPid:	0
Uid:	0	0	0	0
Gid:	0	0	0	0
FDSize:	64
Groups:	0 1 2 3 4 6 10 11 20 26 27 
NStgid:	1
CapInh:	0000000000000000
CapPrm:	00000000a80425fb
CapEff:	00000000a80425fb
CapBnd:	00000000a80425fb
CapAmb:	0000000000000000
NoNewPrivs:	0
Seccomp:	2
`

// statusOpenShift is a thread of a process started by OpenShift's
// restricted profile: random UID, GID 0, no capabilities, no_new_privs.
const statusOpenShift = `Name:	sh
Uid:	1000680000	1000680000	1000680000	1000680000
Gid:	0	0	0	0
Groups:	1000680000
CapInh:	0000000000000000
CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	0000000000000000
CapAmb:	0000000000000000
NoNewPrivs:	1
`

func TestMakePlan(t *testing.T) {
	root, _ := procfs.ParseStatus(statusRoot, procfs.Credentials)
	noSetuid := root
	noSetuid.CapEff &^= 1 << capSetuid
	noBoth := noSetuid
	noBoth.CapEff &^= 1 << capSetgid
	noBind := root
	noBind.CapPrm &^= 1 << capNetBindService
	noSetpcap := root
	noSetpcap.CapEff &^= 1 << capSetpcap

	tests := []struct {
		name    string
		st      procfs.Status
		t       Target
		groups  string
		caps    uint64
		bound   int // how many bounding capabilities are dropped
		wantErr string
	}{
		{"root", root, Target{UID: 1001, GID: 0}, "0 1 2 3 4 6 10 11 20 26 27", 0, 14, ""},
		{"new gid added", root, Target{UID: 1001, GID: 5000}, "0 1 2 3 4 6 10 11 20 26 27 5000", 0, 14, ""},
		{"bind kept", root, Target{UID: 1001, GID: 0, KeepBindService: true}, "0 1 2 3 4 6 10 11 20 26 27", 1 << capNetBindService, 13, ""},
		{"no setpcap: bounding set left", noSetpcap, Target{UID: 1001}, "0 1 2 3 4 6 10 11 20 26 27", 0, 0, ""},
		{"no setuid", noSetuid, Target{UID: 1001}, "", 0, 0, "lacks CAP_SETUID;"},
		{"no setuid nor setgid", noBoth, Target{UID: 1001}, "", 0, 0, "lacks CAP_SETUID and CAP_SETGID"},
		{"bind not permitted", noBind, Target{UID: 1001, KeepBindService: true}, "", 0, 0, "lacks CAP_NET_BIND_SERVICE"},
	}
	for _, tt := range tests {
		p, err := MakePlan(tt.st, tt.t)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: MakePlan(%+v) err = %v; want one containing %q", tt.name, tt.t, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: MakePlan(%+v): %v", tt.name, tt.t, err)
			continue
		}
		groups := strings.Trim(fmt.Sprint(p.Groups), "[]")
		if groups != tt.groups || p.Caps != tt.caps || len(p.DropBounding) != tt.bound {
			t.Errorf("%s: MakePlan(%+v) = groups %q caps %x drop %d; want %q %x %d", tt.name, tt.t, groups, p.Caps, len(p.DropBounding), tt.groups, tt.caps, tt.bound)
		}
	}
}

func TestCheckStatus(t *testing.T) {
	after, _ := procfs.ParseStatus(statusOpenShift, procfs.Credentials)
	target := Target{UID: 1000680000, GID: 0}
	plan := Plan{Groups: []int{1000680000}, DropBounding: []int{0, 10}}
	if err := checkStatus(after, target, plan); err != nil {
		t.Errorf("checkStatus(dropped thread): %v", err)
	}
	mutate := []struct {
		name string
		f    func(*procfs.Status)
	}{
		{"saved uid still root", func(s *procfs.Status) { s.UIDs[2] = 0 }},
		{"fs gid other", func(s *procfs.Status) { s.GIDs[3] = 5 }},
		{"extra group", func(s *procfs.Status) { s.Groups = append(s.Groups, 0) }},
		{"inheritable left", func(s *procfs.Status) { s.CapInh = 1 << capNetBindService }},
		{"ambient left", func(s *procfs.Status) { s.CapAmb = 1 }},
		{"bounding left", func(s *procfs.Status) { s.CapBnd = 1 << 10 }},
	}
	for _, m := range mutate {
		st := after
		st.Groups = append([]int(nil), after.Groups...)
		m.f(&st)
		if err := checkStatus(st, target, plan); err == nil {
			t.Errorf("checkStatus(%s) = nil; want an error", m.name)
		}
	}
}

func TestCapNames(t *testing.T) {
	tests := []struct {
		set  uint64
		want string
	}{
		{0, "none"},
		{1 << 10, "cap_net_bind_service"},
		{1<<6 | 1<<7, "cap_setgid,cap_setuid"},
		{1 << 50, "cap_50"},
		{1<<41 - 1, "all"},
	}
	for _, tt := range tests {
		if got := CapNames(tt.set); got != tt.want {
			t.Errorf("CapNames(%x) = %q; want %q", tt.set, got, tt.want)
		}
	}
}
