package host

import (
	"os"
	"reflect"
	"slices"
	"testing"
)

// TestCredsRead: ReadCreds is the process's real and effective IDs and
// its supplementary groups.
func TestCredsRead(t *testing.T) {
	c := ReadCreds()
	groups, err := os.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) == 0 {
		groups = nil
	}
	want := Creds{UID: os.Getuid(), GID: os.Getgid(), EUID: os.Geteuid(), EGID: os.Getegid(), Groups: groups}
	slices.Sort(c.Groups)
	slices.Sort(want.Groups)
	if !reflect.DeepEqual(c, want) {
		t.Errorf("ReadCreds() = %+v; want %+v", c, want)
	}
}
