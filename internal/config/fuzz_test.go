package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// The fuzz targets check the parsers of NONROOT_PORTS, NONROOT_TEMPLATES,
// NONROOT_REWRITE_SIGNALS and NONROOT_REMAP_EXIT: no input panics, every
// accepted value is in range, and printing an accepted value and parsing
// it again gives the same value. `go test` runs the seeds (f.Add and
// testdata/fuzz); `go test -fuzz FuzzParsePorts ./internal/config` explores.

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"", "HTTP_PORT=80", "HTTP_PORT=80,HTTPS_PORT=443", " A = 1 , B=65535 ", "A=0", "A=65536",
		"A=80,A=81", "1A=80", "A=+80", "A=0x50", "=80", "A=", "A", ",,,", "A=80=81", "A=-1", "É=80", "A=٨٠"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := ParsePorts(s)
		if err != nil {
			if ports != nil && len(ports) == len(List(s)) {
				t.Errorf("ParsePorts(%q) = %v with error %v: every item accepted and an error", s, ports, err)
			}
			return
		}
		seen := map[string]bool{}
		var parts []string
		for _, p := range ports {
			if p.Port < 1 || p.Port > 65535 || !validEnvName(p.Name) || seen[p.Name] {
				t.Fatalf("ParsePorts(%q) accepted %+v", s, p)
			}
			seen[p.Name] = true
			parts = append(parts, fmt.Sprintf("%s=%d", p.Name, p.Port))
		}
		again, err := ParsePorts(strings.Join(parts, ","))
		if err != nil || !reflect.DeepEqual(again, ports) {
			t.Errorf("ParsePorts(%q) = %v; printed and parsed again: %v, %v", s, ports, again, err)
		}
	})
}

func FuzzParseTemplates(f *testing.F) {
	for _, s := range []string{"", "/etc/config:/tmp/config", "/a/b.tmpl:/tmp/b, /c:/d", "a:/b", "/a:b", "/a", "/a:/b:/c",
		"/a/../b:/c/./d/", " /a : /b ", "/:/", "/a:/b,,/c:/d", "/a\x00:/b", "/a\n:/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pairs, err := ParseTemplates(s)
		if err != nil {
			return
		}
		var parts []string
		for _, p := range pairs {
			for _, path := range []string{p.Src, p.Dst} {
				if !filepath.IsAbs(path) || filepath.Clean(path) != path || strings.ContainsAny(path, ",") {
					t.Fatalf("ParseTemplates(%q) accepted %+v: %q is not a clean absolute path", s, p, path)
				}
			}
			if strings.Contains(p.Src, ":") || strings.Contains(p.Dst, ":") {
				t.Fatalf("ParseTemplates(%q) accepted %+v with a ':' left in it", s, p)
			}
			parts = append(parts, p.Src+":"+p.Dst)
		}
		again, err := ParseTemplates(strings.Join(parts, ","))
		if err != nil || !reflect.DeepEqual(again, pairs) {
			t.Errorf("ParseTemplates(%q) = %v; printed and parsed again: %v, %v", s, pairs, again, err)
		}
	})
}

func FuzzParseSignalPairs(f *testing.F) {
	for _, s := range []string{"", "TERM:QUIT", "SIGTERM:SIGQUIT,INT:15", "15:3", "RTMIN+2:RTMAX-1", "rtmin:rtmax", "KILL:TERM",
		"TERM:KILL", "STOP:CONT", "TERM:QUIT,TERM:INT", "0:1", "65:1", "TERM", "TERM:", ":QUIT", "RTMIN+31:TERM", "sigusr1:usr2",
		"TERM:QUIT:INT", "ſigterm:quit"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseSignalPairs(s)
		if err != nil {
			return
		}
		keys := make([]int, 0, len(m))
		for from, to := range m {
			if from < 1 || from > 64 || to < 1 || to > 64 || from == syscall.SIGKILL || from == syscall.SIGSTOP {
				t.Fatalf("ParseSignalPairs(%q) accepted %d:%d", s, from, to)
			}
			keys = append(keys, int(from))
		}
		sort.Ints(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%d:%d", k, int(m[syscall.Signal(k)])))
		}
		again, err := ParseSignalPairs(strings.Join(parts, ","))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Errorf("ParseSignalPairs(%q) = %v; printed and parsed again: %v, %v", s, m, again, err)
		}
	})
}

func FuzzParseExitPairs(f *testing.F) {
	for _, s := range []string{"", "143:0", "143:0, 130:0", "256:0", "0:256", "-1:0", "1:1,1:2", "a:b", "1", "1:", ":1", "+1:0", "01:00", "1:2:3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseExitPairs(s)
		if err != nil {
			return
		}
		keys := make([]int, 0, len(m))
		for from, to := range m {
			if from < 0 || from > 255 || to < 0 || to > 255 {
				t.Fatalf("ParseExitPairs(%q) accepted %d:%d", s, from, to)
			}
			keys = append(keys, from)
		}
		sort.Ints(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%d:%d", k, m[k]))
		}
		again, err := ParseExitPairs(strings.Join(parts, ","))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Errorf("ParseExitPairs(%q) = %v; printed and parsed again: %v, %v", s, m, again, err)
		}
	})
}
