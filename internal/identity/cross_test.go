package identity

import (
	"debug/elf"
	"path/filepath"
	"runtime"
	"testing"
)

// ccGOARCH returns the GOARCH that the fixture's nss_wrapper, built by the
// host's gcc, is for. Under qemu user emulation (GOARCH=arm64 go test
// -exec qemu-aarch64-static) the test binary is foreign while gcc builds
// for the host: the library choice is then checked for gcc's architecture,
// and the test log says so. The architecture check itself has its own
// tests (TestFindLib), with explicit architectures.
func ccGOARCH(t *testing.T, f fixture) string {
	t.Helper()
	lib := filepath.Join(f.libDir, "libnss_wrapper.so")
	ef, err := elf.Open(lib)
	if err != nil {
		t.Fatalf("read the gcc-built library: %v", err)
	}
	defer ef.Close()
	goarch := map[elf.Machine]string{
		elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x",
	}[ef.Machine]
	if goarch == "" {
		t.Fatalf("%s is built for ELF machine %v, which this test does not know", lib, ef.Machine)
	}
	if goarch != runtime.GOARCH {
		t.Logf("the test runs as %s (qemu user emulation?) but gcc builds for %s: the nss_wrapper choice is checked for %s", runtime.GOARCH, goarch, goarch)
	}
	return goarch
}
