package doctor

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// jsonHost lays out a fake machine: /proc with the sysctl, self and PID 1
// (catching SIGTERM), a passwd file, a cgroup v2 with a memory limit.
func jsonHost(t *testing.T) (host.Host, string) {
	t.Helper()
	root := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The status is of a non-root process whatever the test runs as, so
	// that the port decision does not depend on it.
	uid := "1000680000"
	status := "Name:\tnonroot-init\nUid:\t" + strings.Repeat(uid+"\t", 3) + uid + "\nGid:\t0\t0\t0\t0\nGroups:\t0\n" +
		"CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000401\nCapAmb:\t0000000000000000\n" +
		"NoNewPrivs:\t1\nSeccomp:\t2\n"
	write("proc/self/status", status)
	write("proc/self/cgroup", "0::/\n")
	write("proc/sys/net/ipv4/ip_unprivileged_port_start", "1024\n")
	write("proc/1/comm", "nonroot-init\n")
	write("proc/1/status", "SigBlk:\t0000000000000000\nSigIgn:\t0000000000001000\nSigCgt:\t0000000000014000\n")
	write("proc/1/stat", "1 (nonroot-init) S 0 1 1 0")
	write("proc/42/stat", "42 (worker) Z 1 42 42 0")
	write("cgroup/cgroup.controllers", "")
	write("cgroup/memory.max", "536870912\n")
	if err := os.Mkdir(filepath.Join(root, "home"), 0o777); err != nil {
		t.Fatal(err)
	}
	passwd := write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
	h := host.Host{
		PasswdFile: passwd,
		GroupFile:  filepath.Join(root, "etc/group"),
		ProcDir:    filepath.Join(root, "proc"),
		Environ:    []string{"HOME=" + filepath.Join(root, "home"), "PATH=/usr/bin"},
		PID:        7,
		RootDir:    root,
		CgroupDir:  filepath.Join(root, "cgroup"),
	}
	return h, root
}

// TestDoctorJSONTyped: doctor --json is one typed object: schema and
// version, problems of {section, message, fix}, and each section an
// object whose numbers are numbers, booleans booleans and absent facts
// null, under snake_case keys.
func TestDoctorJSONTyped(t *testing.T) {
	h, root := jsonHost(t)
	vol := filepath.Join(root, "data")
	if err := os.Mkdir(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "config")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "app.conf.tmpl"), []byte(`listen {{ port "HTTP_PORT" }}`), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(root, "missing")
	cfg := &config.Config{
		Passwd: config.PasswdAuto, Username: "default", StateDir: filepath.Join(root, "state"),
		Volumes: []string{vol, missing}, VolumeCheck: config.CheckStrict,
		Ports: []config.Port{{Name: "HTTP_PORT", Port: 80}}, PortOffset: 8000,
		Templates: []config.Template{{Src: src, Dst: filepath.Join(root, "out")}},
		Subreaper: config.SubreaperAuto,
	}
	rep := Run(cfg, h, host.ReadCreds(), "v1.2.3")
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode: %v\n%s", err, buf.String())
	}
	if dec.More() {
		t.Errorf("more than one JSON value:\n%s", buf.String())
	}
	uid := os.Getuid()
	for _, tc := range []struct {
		path string
		want any // json.Number as a string, bool, string, nil; "[]" for a list, "{}" for an object
	}{
		{"schema", json.Number("1")},
		{"version", "v1.2.3"},
		{"ok", false},
		{"problems", "[]"},
		{"identity", "{}"},
		{"identity.uid", json.Number(strconv.Itoa(uid))},
		{"identity.gid", json.Number(strconv.Itoa(os.Getgid()))},
		{"identity.groups", "[]"},
		{"identity.passwd_entry", uid == 0},
		{"identity.passwd_file", h.PasswdFile},
		{"identity.home", filepath.Join(root, "home")},
		{"identity.home_writable", true},
		{"identity.capabilities.bounding.0", "cap_chown"},
		{"identity.capabilities.bounding.1", "cap_net_bind_service"},
		{"identity.capabilities.effective", "[]"},
		{"identity.no_new_privs", true},
		{"volumes.0.path", vol},
		{"volumes.0.writable", true},
		{"volumes.0.type", "directory"},
		{"volumes.0.uid", json.Number(strconv.Itoa(uid))},
		{"volumes.0.mode", "0755"},
		{"volumes.0.read_only", false},
		{"volumes.0.privileged_files", "[]"},
		{"volumes.1.path", missing},
		{"volumes.1.writable", false},
		{"volumes.1.type", nil},
		{"volumes.1.uid", nil},
		{"volumes.1.mode", nil},
		{"ports.unprivileged_port_start", json.Number("1024")},
		{"ports.net_bind_service", false},
		{"ports.resolved.0.name", "HTTP_PORT"},
		{"ports.resolved.0.requested", json.Number("80")},
		{"ports.resolved.0.port", json.Number("8080")},
		{"templates.0.src", src},
		{"templates.0.dst", filepath.Join(root, "out")},
		{"templates.0.files", json.Number("1")},
		{"templates.0.problem", nil},
		{"process.pid", json.Number("7")},
		{"process.role", "subreaper"},
		{"process.seccomp", "filter"},
		{"process.read_only_root", false},
		{"process.cgroup", "v2"},
		{"process.memory_limit_bytes", json.Number("536870912")},
		{"process.pid1.name", "nonroot-init"},
		{"process.pid1.sigterm", "caught"},
		{"process.pid1.signals_ignored.0", "SIGPIPE"},
		{"process.pid1.zombies", json.Number("1")},
	} {
		got, ok := lookup(m, tc.path)
		if !ok {
			t.Errorf("doctor --json has no .%s\n%s", tc.path, buf.String())
			continue
		}
		switch tc.want {
		case "[]":
			if _, isList := got.([]any); !isList {
				t.Errorf(".%s = %#v (%T); want a list", tc.path, got, got)
			}
		case "{}":
			if _, isObj := got.(map[string]any); !isObj {
				t.Errorf(".%s = %#v (%T); want an object", tc.path, got, got)
			}
		default:
			if got != tc.want {
				t.Errorf(".%s = %#v (%T); want %#v (%T)", tc.path, got, got, tc.want, tc.want)
			}
		}
	}

	// Every problem is {section, message, fix}; the missing volume is one.
	problems, _ := m["problems"].([]any)
	found := false
	for _, p := range problems {
		pm, _ := p.(map[string]any)
		sec, okS := pm["section"].(string)
		msg, okM := pm["message"].(string)
		fix, hasFix := pm["fix"]
		if _, isStr := fix.(string); !okS || !okM || !hasFix || (fix != nil && !isStr) {
			t.Errorf("problem %#v; want string section and message, and fix a string or null", p)
		}
		if sec == "volumes" && strings.Contains(msg, missing) {
			found = true
		}
	}
	if !found {
		t.Errorf("problems lack the missing volume %s: %v", missing, problems)
	}

	// The text report shows the same facts.
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"uid:", strconv.Itoa(uid), "HTTP_PORT:", "8080: 80 is below", "memory_limit:", "536870912", "pid1_sigterm:", "caught", vol + ":", "mode 0755"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("the text report lacks %q:\n%s", w, text.String())
		}
	}
	if n := strings.Count(text.String(), "PROBLEM:"); n != len(problems) {
		t.Errorf("the text report has %d problems, the JSON %d", n, len(problems))
	}
}

// lookup follows a jq-like path ("a.b.0.c") through decoded JSON.
func lookup(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}
