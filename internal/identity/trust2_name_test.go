package identity

import (
	"errors"
	"strings"
	"testing"
)

// Second review of issue #9, hole 6: a C library reads passwd lines more
// leniently than parsePasswdLine. A line that glibc (getent), musl or Go's
// os/user reads as UID 0 under a name must make that name a usage error,
// and a line of that name that we cannot read strictly is refused too.

func TestTrust2CheckUsernameLenientLines(t *testing.T) {
	tests := []struct {
		line  string
		uid0  bool // the message says uid 0 (else: cannot be read safely)
		usage bool
	}{
		{"toor:x:0:0:Root\tAdmin:/root:/bin/sh", true, true}, // glibc: a tab in GECOS is fine
		{"toor:x: 0:0::/root:/bin/sh", true, true},           // glibc: strtoul skips white space
		{"toor:x:\t0:0::/root:/bin/sh", true, true},
		{"toor:x:+0:0::/root:/bin/sh", true, true}, // glibc: a sign
		{"toor:x:-0:0::/root:/bin/sh", true, true},
		{"toor:x:00:0::/root:/bin/sh", true, true},         // strict too
		{"  toor:x:0:0::/root:/bin/sh", true, true},        // glibc and Go skip leading white space
		{"\ttoor:x:0:0::/root:/bin/sh", true, true},        //
		{"\u00a0toor:x:0:0::/root:/bin/sh", true, true},    // Go's os/user trims Unicode space
		{"toor:x:0:0", true, true},                         // glibc: missing trailing fields
		{"toor:x:0:0:a:/root:/bin/sh:extra", true, true},   // glibc: the shell is the rest
		{"toor:x::0::/root:/bin/sh", true, true},           // musl: an empty UID reads as 0
		{"toor:x:4294967296:0::/root:/bin/sh", true, true}, // musl: 2^32 wraps to 0
		{"toor:x:0:0::/root:/bin/sh\x00junk", true, true},  // C strings end at NUL
		{"toor:x:5:0:a\tb:/root:/bin/sh", false, true},     // not uid 0 anywhere, but not read strictly
		{"toor:x:abc:0::/root:/bin/sh", false, true},
		{"toor:x:5", false, true},
		{"toor:x:5:0::/home/toor:/bin/sh", false, false}, // strict, uid 5 for everyone
		{"#toor:x:0:0::/root:/bin/sh", false, false},     // a comment; musl's name is #toor
		{"toorx:x:0:0::/root:/bin/sh", false, false},
		{"xtoor:x:0:0::/root:/bin/sh", false, false},
		{"toor :x:0:0::/root:/bin/sh", false, false}, // the name is "toor " for every reader
	}
	for _, tt := range tests {
		data := imagePasswd + tt.line + "\n"
		err := checkUsername([]byte(data), "toor", "/etc/passwd")
		var ue *UsageError
		if got := errors.As(err, &ue); got != tt.usage {
			t.Errorf("checkUsername(passwd + %q, toor) = %v; want a UsageError: %v", tt.line, err, tt.usage)
			continue
		}
		if err == nil {
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "NONROOT_USERNAME=toor") || !strings.Contains(msg, "/etc/passwd") {
			t.Errorf("checkUsername(passwd + %q, toor) = %v; want it to name NONROOT_USERNAME=toor and /etc/passwd", tt.line, err)
		}
		if got := strings.Contains(msg, "uid 0"); got != tt.uid0 {
			t.Errorf("checkUsername(passwd + %q, toor) = %v; says uid 0: %v, want %v", tt.line, err, got, tt.uid0)
		}
		if !tt.uid0 && !strings.Contains(msg, "cannot be read safely") {
			t.Errorf("checkUsername(passwd + %q, toor) = %v; want it to say the entry cannot be read safely", tt.line, err)
		}
	}
}

// TestTrust2LookupUIDAsGlibc: whether our UID has an entry is what
// getpwuid (glibc's files backend) says: a line glibc reads is found (no
// duplicate is added for it), a comment or a +/- line (which glibc's
// getpwuid skips) is not.
func TestTrust2LookupUIDAsGlibc(t *testing.T) {
	tests := []struct {
		data string
		ok   bool
		want Entry
	}{
		{"app:x:1000680000:0:App\tUser:/home/app:/bin/sh\n", true, Entry{"app", 1000680000, 0, "App\tUser", "/home/app", "/bin/sh"}},
		{"app:x: 1000680000:0::/home/app:/bin/sh\n", true, Entry{"app", 1000680000, 0, "", "/home/app", "/bin/sh"}},
		{"  app:x:1000680000:0::/home/app:/bin/sh\n", true, Entry{"app", 1000680000, 0, "", "/home/app", "/bin/sh"}},
		{"app:x:1000680000:0\n", true, Entry{"app", 1000680000, 0, "", "", ""}},
		{"app:x:1000680000:+0::/home/app:/bin/sh:x\n", true, Entry{"app", 1000680000, 0, "", "/home/app", "/bin/sh:x"}},
		{"odd:x: 1000680000:0::/odd:/bin/sh\napp:x:1000680000:0::/home/app:/bin/sh\n", true, Entry{"odd", 1000680000, 0, "", "/odd", "/bin/sh"}}, // the first, as getpwuid
		{"#app:x:1000680000:0::/home/app:/bin/sh\n", false, Entry{}},
		{"+app:x:1000680000:0::/home/app:/bin/sh\n", false, Entry{}},
		{"-app:x:1000680000:0::/home/app:/bin/sh\n", false, Entry{}},
		{"app:x:1000680000:-1::/home/app:/bin/sh\n", false, Entry{}}, // glibc refuses it (getent)
		{"app:x:1000680000 :0::/home/app:/bin/sh\n", false, Entry{}},
		{"app:x:01000680000:0::/home/app:/bin/sh\n", true, Entry{"app", 1000680000, 0, "", "/home/app", "/bin/sh"}},
	}
	for _, tt := range tests {
		got, ok := LookupUID([]byte(tt.data), 1000680000)
		if ok != tt.ok || got != tt.want {
			t.Errorf("LookupUID(%q, 1000680000) = %+v, %v; want %+v, %v", tt.data, got, ok, tt.want, tt.ok)
		}
	}
}

// TestTrust2NameTakenLenient: a name is taken when any C library reads a
// line of that name, so etc-passwd mode never appends a second one and a
// generated group never repeats one.
func TestTrust2NameTakenLenient(t *testing.T) {
	for _, line := range []string{
		"default:x: 5:0::/:/bin/sh",
		"default:x:5:0:a\tb:/:/bin/sh",
		" default:x:5:0::/:/bin/sh",
		"default:x:5:0",
	} {
		if err := nameTaken([]byte(line+"\n"), "default", "/etc/passwd"); err == nil || !strings.Contains(err.Error(), "default") {
			t.Errorf("nameTaken(%q, default) = %v; want the name taken", line, err)
		}
	}
	if err := nameTaken([]byte("#default:x:5:0::/:/bin/sh\n"), "default", "/etc/passwd"); err != nil {
		t.Errorf("nameTaken(a comment, default) = %v; want nil", err)
	}
	for _, line := range []string{"default:x: 100:", " default:x:100:", "default:x:100:a\tb"} {
		if got := groupName([]byte(line+"\n"), "default", 4242); got != "default-4242" {
			t.Errorf("groupName(%q, default, 4242) = %q; want default-4242", line, got)
		}
	}
}

// TestTrust2NSSFilesAsGlibc: nss_wrapper's copies keep only lines that
// glibc reads as we do; nss_wrapper would take a comment for a user.
func TestTrust2NSSFilesAsGlibc(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/sh\n#app:x:1000680000:0::/home/app:/bin/sh\n+nis:x:5:5::/:/bin/sh\n  sp:x:6:6::/:/bin/sh\n"
	group := "root:x:0:\n#grp:x:5:\n+nis:x:6:\n sp:x:7:\n"
	e := Entry{Name: "default", UID: 1000680000, GID: 0, Gecos: "nonroot-init", Home: "/h", Shell: "/bin/sh"}
	p, g, dropped, err := nssFiles([]byte(passwd), []byte(group), e, missingGroups([]byte(group), "default", []int{e.GID}), []int{e.GID})
	wantP := "root:x:0:0:root:/root:/bin/sh\n" + e.Line() + "\n"
	if err != nil || string(p) != wantP || string(g) != "root:x:0:\n" || dropped != 6 {
		t.Errorf("nssFiles(comments, +/- and indented lines) = %q, %q, %d, %v; want %q, %q, 6, nil", p, g, dropped, err, wantP, "root:x:0:\n")
	}
}
