package elfinfo

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// build compiles a tiny C program with cc and flags, skipping when cc is
// missing (CI installs gcc and musl-tools).
func build(t *testing.T, cc string, flags ...string) string {
	t.Helper()
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("%s not installed (apt-get install gcc musl-tools): %v", cc, err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "p.c")
	if err := os.WriteFile(src, []byte("#include <stdio.h>\nint main(void){puts(\"hi\");return 0;}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "p")
	args := append(append([]string{}, flags...), "-o", out, src)
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", cc, args, err, b)
	}
	return out
}

func skipMissing(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s missing: %v", path, err)
	}
}

// TestReadRealPrograms reads programs of this machine and ones built
// here, and tells their C library as the identity step will.
func TestReadRealPrograms(t *testing.T) {
	cases := []struct {
		name string
		path func(t *testing.T) string
		want Libc
	}{
		{"glibc dynamic /bin/ls", func(t *testing.T) string { skipMissing(t, "/bin/ls"); return "/bin/ls" }, Glibc},
		{"busybox-static", func(t *testing.T) string { skipMissing(t, "/bin/busybox"); return "/bin/busybox" }, Static},
		{"gcc -static", func(t *testing.T) string { return build(t, "gcc", "-static") }, Static},
		{"gcc -static-pie", func(t *testing.T) string { return build(t, "gcc", "-static-pie") }, Static},
		{"musl-gcc", func(t *testing.T) string { return build(t, "musl-gcc") }, Musl},
		{"musl-gcc -static", func(t *testing.T) string { return build(t, "musl-gcc", "-static") }, Static},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.path(t)
			info, err := Read(p)
			if err != nil {
				t.Fatalf("Read(%s): %v", p, err)
			}
			resolved, _ := filepath.EvalSymlinks(info.Interp)
			if got := ProgramLibc(info, resolved); got != c.want {
				t.Errorf("ProgramLibc(Read(%s) = %+v) = %s; want %s", p, info, got, c.want)
			}
		})
	}
}

// TestReadLibraries tells a glibc build of a shared library from a musl
// one by what it needs.
func TestReadLibraries(t *testing.T) {
	lib := "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"
	t.Run("debian nss_wrapper", func(t *testing.T) {
		skipMissing(t, lib)
		info, err := Read(lib)
		if err != nil {
			t.Fatal(err)
		}
		if info.Type != 3 || info.Interp != "" || !info.Dynamic {
			t.Errorf("Read(%s) = %+v; want ET_DYN, no PT_INTERP, PT_DYNAMIC", lib, info)
		}
		if got := LibraryLibc(info); got != Glibc {
			t.Errorf("LibraryLibc(%+v) = %s; want glibc", info, got)
		}
	})
	t.Run("musl shared object", func(t *testing.T) {
		p := build(t, "musl-gcc", "-shared", "-fPIC")
		info, err := Read(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := LibraryLibc(info); got != Musl {
			t.Errorf("LibraryLibc(%+v) = %s; want musl", info, got)
		}
	})
}

// TestParseHostile: every truncation of a real program, random bytes and
// crafted headers are errors or plain facts, never a panic or a huge read.
func TestParseHostile(t *testing.T) {
	skipMissing(t, "/bin/ls")
	real, err := os.ReadFile("/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 8192 && n < len(real); n++ {
		Parse(bytes.NewReader(real[:n]), int64(n))
	}
	if _, err := Parse(bytes.NewReader(real[:63]), 63); err == nil {
		t.Errorf("Parse(first 63 bytes of /bin/ls) = nil error; want a truncated header")
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.Intn(4096))
		rng.Read(b)
		if len(b) > 6 && i%2 == 0 {
			copy(b, "\x7fELF\x02\x01")
		}
		Parse(bytes.NewReader(b), int64(len(b)))
	}

	hdr := func(mut func(h []byte)) []byte {
		h := make([]byte, 64+56*2)
		copy(h, "\x7fELF\x02\x01\x01")
		le := binary.LittleEndian
		le.PutUint16(h[16:], 3)
		le.PutUint16(h[18:], 62)
		le.PutUint64(h[32:], 64)
		le.PutUint16(h[54:], 56)
		le.PutUint16(h[56:], 1)
		le.PutUint32(h[64:], ptInterp)
		le.PutUint64(h[64+8:], 120)
		le.PutUint64(h[64+32:], 8)
		copy(h[120:], "/lib/ld\x00")
		if mut != nil {
			mut(h)
		}
		return h
	}
	le := binary.LittleEndian
	good, err := Parse(bytes.NewReader(hdr(nil)), int64(len(hdr(nil))))
	if err != nil || good.Interp != "/lib/ld" {
		t.Fatalf("Parse(crafted) = %+v, %v; want Interp /lib/ld", good, err)
	}
	bad := []struct {
		name string
		mut  func(h []byte)
	}{
		{"not ELF", func(h []byte) { h[0] = 0 }},
		{"bad class", func(h []byte) { h[4] = 9 }},
		{"bad encoding", func(h []byte) { h[5] = 9 }},
		{"phoff past the end", func(h []byte) { le.PutUint64(h[32:], 1<<63) }},
		{"phoff wraps", func(h []byte) { le.PutUint64(h[32:], ^uint64(0)-10) }},
		{"small phentsize", func(h []byte) { le.PutUint16(h[54:], 8) }},
		{"huge phnum", func(h []byte) { le.PutUint16(h[56:], 65535) }},
		{"huge PT_INTERP", func(h []byte) { le.PutUint64(h[64+32:], 1<<40) }},
		{"PT_INTERP past the end", func(h []byte) { le.PutUint64(h[64+8:], 1<<62) }},
		{"PT_DYNAMIC past the end", func(h []byte) {
			le.PutUint32(h[64:], ptDynamic)
			le.PutUint64(h[64+8:], 1<<62)
			le.PutUint64(h[64+32:], 16)
		}},
		{"DT_NEEDED without a string table", func(h []byte) {
			le.PutUint32(h[64:], ptDynamic)
			le.PutUint64(h[64+8:], 120)
			le.PutUint64(h[64+32:], 32)
			le.PutUint64(h[120:], dtNeeded)
			le.PutUint64(h[128:], 0)
			le.PutUint64(h[136:], dtNull)
		}},
		{"DT_NEEDED name past the end", func(h []byte) {
			le.PutUint16(h[56:], 2)
			le.PutUint32(h[64:], ptDynamic)
			le.PutUint64(h[64+8:], 200)
			le.PutUint64(h[64+32:], 48)
			le.PutUint32(h[120:], ptLoad)
			le.PutUint64(h[120+32:], ^uint64(0))
		}},
	}
	for _, c := range bad {
		b := hdr(c.mut)
		if c.name == "DT_NEEDED name past the end" {
			b = append(b, make([]byte, 200+48-len(b))...)
			le.PutUint64(b[200:], dtNeeded)
			le.PutUint64(b[208:], ^uint64(0)-4)
			le.PutUint64(b[216:], dtStrtab)
			le.PutUint64(b[224:], 8)
		}
		if got, err := Parse(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("Parse(%s) = %+v, nil; want an error", c.name, got)
		}
	}
}

// TestProgramLibc: the loader's name decides; a symlink to musl's loader
// under glibc's name (Alpine's gcompat) is musl; no loader is static.
func TestProgramLibc(t *testing.T) {
	cases := []struct {
		info     Info
		resolved string
		want     Libc
	}{
		{Info{Interp: "/lib64/ld-linux-x86-64.so.2", Dynamic: true, Needed: []string{"libc.so.6"}}, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", Glibc},
		{Info{Interp: "/lib/ld-linux-aarch64.so.1", Dynamic: true}, "", Glibc},
		{Info{Interp: "/lib64/ld64.so.2", Dynamic: true}, "", Glibc},
		{Info{Interp: "/lib/ld-musl-x86_64.so.1", Dynamic: true, Needed: []string{"libc.musl-x86_64.so.1"}}, "", Musl},
		{Info{Interp: "/lib/ld-musl-x86_64.so.1", Dynamic: true, Needed: []string{"libc.so"}}, "/usr/lib/x86_64-linux-musl/libc.so", Musl},
		{Info{Interp: "/lib64/ld-linux-x86-64.so.2", Dynamic: true, Needed: []string{"libgcompat.so.0"}}, "/lib/ld-musl-x86_64.so.1", Musl},
		{Info{Dynamic: false}, "", Static},
		{Info{Dynamic: true}, "", Static},
		{Info{Interp: "/system/bin/linker64", Dynamic: true, Needed: []string{"libc.so"}}, "", Unknown},
		{Info{Interp: "/lib/ld-uClibc.so.0", Dynamic: true}, "", Unknown},
	}
	for _, c := range cases {
		if got := ProgramLibc(c.info, c.resolved); got != c.want {
			t.Errorf("ProgramLibc(%+v, %q) = %s; want %s", c.info, c.resolved, got, c.want)
		}
	}
}

// TestReadNotRegular: a FIFO, a directory or a device is refused without
// being read (opening a FIFO for reading would block until a writer came).
func TestReadNotRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, t.TempDir(), "/dev/zero", filepath.Join(t.TempDir(), "missing")} {
		if info, err := Read(p); err == nil {
			t.Errorf("Read(%s) = %+v, nil; want an error", p, info)
		}
	}
}
