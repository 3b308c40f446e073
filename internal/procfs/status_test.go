package procfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// statusReal is a real /proc/self/status of a root process (Linux 6.x),
// whole.
const statusReal = `Name:	cat
Umask:	0022
State:	R (running)
Tgid:	25318
Ngid:	0
Pid:	25318
PPid:	25316
TracerPid:	0
Uid:	0	0	0	0
Gid:	0	0	0	0
FDSize:	256
Groups:	 
NStgid:	25318
NSpid:	25318
NSpgid:	25316
NSsid:	25138
Kthread:	0
VmPeak:	    3060 kB
VmSize:	    3060 kB
VmRSS:	    1760 kB
Threads:	1
SigQ:	1/96363
SigPnd:	0000000000000000
ShdPnd:	0000000000000000
SigBlk:	0000000000000000
SigIgn:	0000000000000000
SigCgt:	0000000000000000
CapInh:	0000000000000000
CapPrm:	000001fffeffffff
CapEff:	000001fffeffffff
CapBnd:	000001fffeffffff
CapAmb:	0000000000000000
NoNewPrivs:	0
Seccomp:	0
Seccomp_filters:	0
Speculation_Store_Bypass:	vulnerable
Cpus_allowed_list:	0-1
voluntary_ctxt_switches:	0
nonvoluntary_ctxt_switches:	1
`

// statusOpenShift is a thread of a process started by OpenShift's
// restricted profile: random UID, GID 0, no capabilities, no_new_privs,
// seccomp filter, seen from the host (two NSpid numbers), nginx-like
// signal handling.
const statusOpenShift = `Name:	nginx
Uid:	1000680000	1000680000	1000680000	1000680000
Gid:	0	0	0	0
Groups:	1000680000
NSpid:	4242	1
SigBlk:	0000000000000000
SigIgn:	0000000000001000
SigCgt:	0000000180014a07
CapInh:	0000000000000000
CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	0000000000000000
CapAmb:	0000000000000000
NoNewPrivs:	1
Seccomp:	2
`

// statusPre43 is of a kernel before 4.3: no CapAmb, NoNewPrivs nor NSpid.
const statusPre43 = `Name:	sh
Uid:	5	5	5	5
Gid:	5	5	5	5
Groups:	5
SigBlk:	0000000000000000
SigIgn:	0000000000000000
SigCgt:	0000000000000000
CapInh:	0000000000000000
CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	0000003fffffffff
Seccomp:	0
`

func TestParseStatus(t *testing.T) {
	all := Credentials | LineGroups | LineCapAmb | LineNoNewPrivs | LineSeccomp | LineNSpid | LineSigBlk | LineSigIgn | LineSigCgt
	tests := []struct {
		name string
		in   string
		need Line
		want Status // compared without has; nil when an error is wanted
		err  string // a part of the error; "" for none
	}{
		{"real", statusReal, all, Status{CapPrm: 0x1fffeffffff, CapEff: 0x1fffeffffff, CapBnd: 0x1fffeffffff, NSpid: []int{25318}}, ""},
		{"root in docker, groups with a trailing blank", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t0 1 2 3 4 6 10 11 20 26 27 \nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\n",
			Credentials, Status{Groups: []int{0, 1, 2, 3, 4, 6, 10, 11, 20, 26, 27}, CapPrm: 0xa80425fb, CapEff: 0xa80425fb, CapBnd: 0xa80425fb}, ""},
		{"openshift", statusOpenShift, all, Status{
			UIDs: [4]int{1000680000, 1000680000, 1000680000, 1000680000}, Groups: []int{1000680000},
			NoNewPrivs: true, Seccomp: 2, NSpid: []int{4242, 1}, SigIgn: 0x1000, SigCgt: 0x180014a07,
		}, ""},
		// The one rule for a missing CapAmb: an empty ambient set.
		{"kernel before 4.3: no CapAmb reads as empty", statusPre43, Credentials, Status{
			UIDs: [4]int{5, 5, 5, 5}, GIDs: [4]int{5, 5, 5, 5}, Groups: []int{5}, CapBnd: 0x3fffffffff,
		}, ""},
		{"kernel before 4.3: NSpid required", statusPre43, LineNSpid, Status{}, "no NSpid line"},
		{"nothing needed of nothing", "", 0, Status{}, ""},
		{"empty", "", Credentials, Status{}, "no Uid line"},
		{"a capability set missing", strings.Replace(statusOpenShift, "CapPrm:", "CapXxx:", 1), Credentials, Status{}, "no CapPrm line"},
		{"Gid missing", strings.Replace(statusOpenShift, "Gid:", "Xid:", 1), Credentials, Status{}, "no Gid line"},
		{"Gid not needed", "Uid:\t1\t2\t3\t4\n", LineUid, Status{UIDs: [4]int{1, 2, 3, 4}}, ""},
		{"three ids", strings.Replace(statusOpenShift, "Uid:\t1000680000\t", "Uid:\t", 1), 0, Status{}, "3 ids, want 4"},
		{"five ids", "Gid:\t0 0 0 0 0\n", 0, Status{}, "5 ids, want 4"},
		{"truncated Uid", "Uid:\n", 0, Status{}, "0 ids"},
		{"truncated line without colon", "Uid\t0\t0\t0\t0\n", LineUid, Status{}, "no Uid line"},
		{"negative uid", "Uid:\t0\t-1\t0\t0\n", 0, Status{}, "bad Uid line"},
		{"uid above 32 bits", "Uid:\t0\t4294967296\t0\t0\n", 0, Status{}, "bad Uid line"},
		{"largest 32-bit uid", "Uid:\t0\t4294967295\t0\t0\n", 0, Status{UIDs: [4]int{0, 4294967295, 0, 0}}, ""},
		{"uid with a sign", "Uid:\t+0\t0\t0\t0\n", 0, Status{}, "bad Uid line"},
		{"group not a number", "Groups:\t0 wheel\n", 0, Status{}, "bad Groups line"},
		{"negative group", "Groups:\t-1\n", 0, Status{}, "bad Groups line"},
		{"no groups", "Groups:\t\n", LineGroups, Status{}, ""},
		{"not hex", strings.Replace(statusOpenShift, "CapEff:\t0000", "CapEff:\tzz00", 1), 0, Status{}, "bad CapEff line"},
		{"set above 64 bits", "CapBnd:\t10000000000000000\n", 0, Status{}, "bad CapBnd line"},
		{"all 64 bits", "CapBnd:\tffffffffffffffff\nSigBlk:\tffffffffffffffff\n", LineCapBnd | LineSigBlk, Status{CapBnd: ^uint64(0), SigBlk: ^uint64(0)}, ""},
		{"empty set", "CapAmb:\t\n", 0, Status{}, "bad CapAmb line"},
		{"hex with 0x", "SigCgt:\t0x4000\n", 0, Status{}, "bad SigCgt line"},
		{"mask not hex", "SigIgn:\tzz\n", 0, Status{}, "bad SigIgn line"},
		{"NoNewPrivs 2", "NoNewPrivs:\t2\n", 0, Status{}, "bad NoNewPrivs line"},
		{"Seccomp not a number", "Seccomp:\tfilter\n", 0, Status{}, "bad Seccomp line"},
		{"unknown Seccomp mode", "Seccomp:\t3\n", LineSeccomp, Status{Seccomp: 3}, ""},
		{"NSpid empty", "NSpid:\t\n", 0, Status{}, "bad NSpid line"},
		{"NSpid garbage", "NSpid:\tx\n", 0, Status{}, "bad NSpid line"},
		{"NSpid huge", "NSpid:\t99999999999999999999\n", 0, Status{}, "bad NSpid line"},
		{"NSpid nested", "NSpid:\t9000\t300\t2\nNSpgid:\t1\n", LineNSpid, Status{NSpid: []int{9000, 300, 2}}, ""},
		{"two Uid lines", "Uid:\t0\t0\t0\t0\nUid:\t5\t5\t5\t5\n", 0, Status{}, "two Uid lines"},
		{"a name that looks like a key", "Name:\tUid: 0\nSigBlk:\t0000000000000001", LineSigBlk, Status{SigBlk: 1}, ""},
		{"a key that only starts like one", "SigBlkX:\t1\nCapAmbient:\tzz\nSeccomp_filters:\t9\n", 0, Status{}, ""},
		{"SigIgn is not SigBlk", "SigIgn:\t0000000000000001\n", LineSigBlk, Status{}, "no SigBlk line"},
		{"last line without newline", "SigBlk:\t0000000000004200", LineSigBlk, Status{SigBlk: 0x4200}, ""},
		{"CRLF is not the kernel's", "SigBlk:\t0000000000000001\r\n", LineSigBlk, Status{SigBlk: 1}, ""},
	}
	for _, tt := range tests {
		got, err := ParseStatus(tt.in, tt.need)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: ParseStatus(%q, %#x) = %+v, %v; want an error containing %q", tt.name, tt.in, tt.need, got, err, tt.err)
			}
			continue
		}
		got.has = 0
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ParseStatus(%q, %#x) = %+v, %v; want %+v, nil", tt.name, tt.in, tt.need, got, err, tt.want)
		}
	}
}

func TestStatusHas(t *testing.T) {
	st, err := ParseStatus(statusPre43, Credentials)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		l    Line
		want bool
	}{
		{Credentials, true},
		{LineSeccomp | LineSigCgt, true},
		{LineCapAmb, false},
		{Credentials | LineCapAmb, false},
		{LineNoNewPrivs, false},
		{LineNSpid, false},
	} {
		if got := st.Has(tc.l); got != tc.want {
			t.Errorf("Has(%#x) = %v; want %v", tc.l, got, tc.want)
		}
	}
	if err := st.Require(lineEnd); err == nil {
		t.Errorf("Require(%#x) of a line ParseStatus does not read = nil; want an error", lineEnd)
	}
}

func TestReadStatus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	if _, err := ReadStatus(path, 0); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadStatus(missing) = %v; want ErrNotExist naming %s", err, path)
	}
	if err := os.WriteFile(path, []byte("Name:\tx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadStatus(path, LineUid); err == nil || !strings.Contains(err.Error(), path+": no Uid line") {
		t.Errorf("ReadStatus(no Uid) = %v; want %s: no Uid line", err, path)
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	st, err := ReadStatus("/proc/self/status", Credentials|LineSigBlk|LineSigIgn|LineSigCgt)
	if err != nil {
		t.Fatal(err)
	}
	if st.UIDs[0] != os.Getuid() || st.GIDs[1] != os.Getegid() {
		t.Errorf("ReadStatus(/proc/self/status) uids %v gids %v; want uid %d, egid %d", st.UIDs, st.GIDs, os.Getuid(), os.Getegid())
	}
}
