package identity

import (
	"strings"
	"testing"
)

func TestParsePasswdLine(t *testing.T) {
	tests := []struct {
		line string
		want Entry
		ok   bool
	}{
		{"root:x:0:0:root:/root:/bin/bash", Entry{"root", 0, 0, "root", "/root", "/bin/bash"}, true},
		{"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin", Entry{"nobody", 65534, 65534, "nobody", "/nonexistent", "/usr/sbin/nologin"}, true},
		{"default:x:1000680000:0::/tmp/nonroot-init/home:/bin/sh", Entry{"default", 1000680000, 0, "", "/tmp/nonroot-init/home", "/bin/sh"}, true},
		{"a::1:2:::", Entry{"a", 1, 2, "", "", ""}, true},
		{"", Entry{}, false},
		{"# comment", Entry{}, false},
		{"+::::::", Entry{}, false},                   // NIS compat line
		{":x:1:1:::", Entry{}, false},                 // empty name
		{"a:x:1:1::/h:/bin/sh:extra", Entry{}, false}, // 8 fields
		{"a:x:1:1::/h", Entry{}, false},               // 6 fields
		{"a:x:-1:1::/h:/bin/sh", Entry{}, false},
		{"a:x:+1:1::/h:/bin/sh", Entry{}, false},
		{"a:x: 1:1::/h:/bin/sh", Entry{}, false},
		{"a:x:0x10:1::/h:/bin/sh", Entry{}, false},
		{"a:x:4294967295:1::/h:/bin/sh", Entry{}, false}, // (uid_t)-1
		{"a:x:4294967296:1::/h:/bin/sh", Entry{}, false},
		{"a:x:1:1::/h\r:/bin/sh", Entry{}, false},
		{"a:x:1:1::/h\x00:/bin/sh", Entry{}, false},
		{"a:x:1:1::/h\x7f:/bin/sh", Entry{}, false},
		{"a:x:1::::", Entry{}, false}, // empty gid
	}
	for _, tt := range tests {
		got, err := parsePasswdLine(tt.line)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parsePasswdLine(%q) = %+v, %v; want %+v, ok=%v", tt.line, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseGroupLine(t *testing.T) {
	tests := []struct {
		line string
		want Group
		ok   bool
	}{
		{"root:x:0:", Group{"root", 0, ""}, true},
		{"sudo:x:27:alice,bob", Group{"sudo", 27, "alice,bob"}, true},
		{"root:x:0", Group{}, false},
		{"root:x:0::", Group{}, false},
		{":x:0:", Group{}, false},
		{"g:x:abc:", Group{}, false},
		{"g:x:1:a\nb", Group{}, false},
	}
	for _, tt := range tests {
		got, err := parseGroupLine(tt.line)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseGroupLine(%q) = %+v, %v; want %+v, ok=%v", tt.line, got, err, tt.want, tt.ok)
		}
	}
}

const imagePasswd = `root:x:0:0:root:/root:/bin/bash
# a comment
broken line
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

app:x:1001:0:app:/home/app:/bin/sh
dup:x:1001:0:dup:/home/dup:/bin/sh
`

func TestLookupUID(t *testing.T) {
	tests := []struct {
		data string
		uid  int
		want string
		ok   bool
	}{
		{imagePasswd, 0, "root", true},
		{imagePasswd, 1001, "app", true}, // the first one, as getpwuid
		{imagePasswd, 1000680000, "", false},
		{"", 0, "", false},
		{"x:x:5:5::/:/bin/sh", 5, "x", true}, // no final newline
	}
	for _, tt := range tests {
		got, ok := LookupUID([]byte(tt.data), tt.uid)
		if ok != tt.ok || got.Name != tt.want {
			t.Errorf("LookupUID(%q, %d) = %q, %v; want %q, %v", tt.data, tt.uid, got.Name, ok, tt.want, tt.ok)
		}
	}
}

func TestNSSFiles(t *testing.T) {
	e := Entry{Name: "default", UID: 1000680000, GID: 0, Gecos: "nonroot-init", Home: "/tmp/h", Shell: "/bin/sh"}
	group := "root:x:0:\nbad\n"
	p, g, dropped, err := nssFiles([]byte(imagePasswd), []byte(group), e, missingGroups([]byte(group), "default", []int{e.GID}), []int{e.GID})
	if err != nil {
		t.Fatalf("nssFiles: %v", err)
	}
	wantP := "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\napp:x:1001:0:app:/home/app:/bin/sh\ndup:x:1001:0:dup:/home/dup:/bin/sh\n" + e.Line() + "\n"
	if string(p) != wantP {
		t.Errorf("passwd = %q; want %q", p, wantP)
	}
	if string(g) != "root:x:0:\n" {
		t.Errorf("group = %q; want only root's line (GID 0 has an entry)", g)
	}
	if dropped != 4 {
		t.Errorf("dropped = %d; want 4 (comment, broken, blank, bad group)", dropped)
	}

	e.GID = 5000
	_, g, _, err = nssFiles([]byte(imagePasswd), []byte(group), e, missingGroups([]byte(group), "default", []int{e.GID}), []int{e.GID})
	if err != nil || string(g) != "root:x:0:\ndefault:x:5000:\n" {
		t.Errorf("group for a new gid = %q, %v; want a default:x:5000: line", g, err)
	}

	for _, bad := range []string{"/tmp/a:b", "/tmp/a\nroot:x:0:0::/:/bin/sh"} {
		e.Home = bad
		if _, _, _, err := nssFiles(nil, nil, e, nil, nil); err == nil {
			t.Errorf("nssFiles with home %q: no error; want the injection refused", bad)
		}
	}
}

func TestAppendPreload(t *testing.T) {
	const lib = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"
	tests := []struct{ existing, want string }{
		{"", lib},
		{"/lib/libjemalloc.so", "/lib/libjemalloc.so:" + lib},
		{"/a.so /b.so", "/a.so /b.so:" + lib},
		{"/a.so:", "/a.so:" + lib},
		{lib, lib},
		{"/a.so " + lib, "/a.so " + lib},
	}
	for _, tt := range tests {
		if got := appendPreload(tt.existing, lib); got != tt.want {
			t.Errorf("appendPreload(%q) = %q; want %q", tt.existing, got, tt.want)
		}
	}
}

func TestGroupName(t *testing.T) {
	group := []byte("root:x:0:\ndefault:x:100:\n")
	if got := groupName(group, "app", 5); got != "app" {
		t.Errorf("groupName(app) = %q; want app", got)
	}
	if got := groupName(group, "default", 5); got != "default-5" {
		t.Errorf("groupName(default) = %q; want default-5", got)
	}
	if !strings.HasPrefix(Group{Name: "default-5", GID: 5}.Line(), "default-5:x:5:") {
		t.Errorf("Group.Line malformed")
	}
}
