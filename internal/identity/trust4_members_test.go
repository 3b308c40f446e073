package identity

import (
	"strings"
	"testing"
)

// TestTrust4TakenNameLosesImageGroups: taking over postgres does not take
// over its image memberships (disk, shadow, sudo) in the group copy, since
// the process holds none of them; a group we do hold (a supplementary 5555
// listing postgres) keeps it, and other members stay. Found by the review
// of issue #11: `id postgres` under nss_wrapper listed disk, sudo, shadow.
func TestTrust4TakenNameLosesImageGroups(t *testing.T) {
	passwd := []byte("root:x:0:0:root:/root:/bin/sh\npostgres:x:101:104:PostgreSQL:/var/lib/postgresql:/bin/bash\n")
	group := []byte("root:x:0:\ndisk:x:6:postgres\nshadow:x:42:postgres,backup\nsudo:x:27:alice,postgres,bob\npostgres:x:104:\nvol:x:5555:postgres\n")
	e := Entry{Name: "postgres", UID: 1000680000, GID: 0, Gecos: "PostgreSQL", Home: "/tmp/h", Shell: "/bin/bash"}
	_, g, _, err := nssFiles(passwd, group, e, nil, []int{0, 5555})
	if err != nil {
		t.Fatal(err)
	}
	want := "root:x:0:\ndisk:x:6:\nshadow:x:42:backup\nsudo:x:27:alice,bob\npostgres:x:104:\nvol:x:5555:postgres\n"
	if string(g) != want {
		t.Errorf("group copy =\n%s\nwant\n%s", g, want)
	}
	for _, l := range strings.Split(string(g), "\n") {
		if strings.HasPrefix(l, "shadow:") && strings.Contains(l, "postgres") {
			t.Errorf("the taken-over name is still a member of shadow: %q", l)
		}
	}
}
