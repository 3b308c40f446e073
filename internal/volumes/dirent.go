package volumes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The walk's system calls on names read by getdents64. x/sys/unix takes
// names as Go strings and copies each into a new NUL-terminated buffer;
// a name in a getdents64 buffer is already NUL-terminated, so these pass
// it to the kernel where it lies: a walk of a million entries makes no
// garbage per entry. Each retries on EINTR and returns a failure's errno
// in an *os.SyscallError naming the call, as internal/fsx does.

// direntBufSize is the getdents64 buffer of one directory being read:
// about 2,000 entries of short names per call (os.ReadDir reads 8 KiB).
const direntBufSize = 64 << 10

// emptyName is the "" of an AT_EMPTY_PATH call.
var emptyName = [1]byte{0}

func syscallErr(name string, e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return &os.SyscallError{Syscall: name, Err: e}
}

// getdents reads directory entries of fd into buf and returns the bytes
// filled; 0 at the end.
func getdents(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Getdents(fd, buf)
		if !errors.Is(err, unix.EINTR) {
			if err != nil {
				return 0, &os.SyscallError{Syscall: "getdents64", Err: err}
			}
			return n, nil
		}
	}
}

// errBadDirent is a getdents64 record that does not fit its buffer or
// has no NUL after its name: the kernel never writes one.
var errBadDirent = errors.New("malformed getdents64 record")

// nextDirent splits the first linux_dirent64 record off buf: d_ino (8
// bytes), d_off (8), d_reclen (2), d_type (1), then the name and its NUL
// within d_reclen. The returned name excludes the NUL, which stays right
// after it in buf.
func nextDirent(buf []byte) (name, rest []byte, err error) {
	const nameOff = 19
	if len(buf) < nameOff {
		return nil, nil, errBadDirent
	}
	reclen := int(binary.NativeEndian.Uint16(buf[16:18]))
	if reclen <= nameOff || reclen > len(buf) {
		return nil, nil, errBadDirent
	}
	end := bytes.IndexByte(buf[nameOff:reclen], 0)
	if end < 1 {
		return nil, nil, errBadDirent
	}
	return buf[nameOff : nameOff+end], buf[reclen:], nil
}

// isDot reports "." and "..".
func isDot(name []byte) bool {
	return name[0] == '.' && (len(name) == 1 || len(name) == 2 && name[1] == '.')
}

// statxAt is statx(2) of name relative to dir; name is NUL-terminated
// in memory.
func statxAt(dir int, name []byte, flags, mask int, st *unix.Statx_t) error {
	for {
		_, _, e := unix.Syscall6(unix.SYS_STATX, uintptr(dir), uintptr(unsafe.Pointer(unsafe.SliceData(name))), uintptr(flags), uintptr(mask), uintptr(unsafe.Pointer(st)), 0)
		if e != unix.EINTR {
			return syscallErr("statx", e)
		}
	}
}

// openAt is openat(2) of name relative to dir; name is NUL-terminated in
// memory. flags always get O_CLOEXEC.
func openAt(dir int, name []byte, flags int) (int, error) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dir), uintptr(unsafe.Pointer(unsafe.SliceData(name))), uintptr(flags|unix.O_CLOEXEC), 0, 0, 0)
		if e != unix.EINTR {
			if e != 0 {
				return -1, syscallErr("openat", e)
			}
			return int(r), nil
		}
	}
}

// fstatx is statx(2) of the inode behind fd (AT_EMPTY_PATH), any kind of
// descriptor, O_PATH included.
func fstatx(fd int, st *unix.Statx_t) error {
	return statxAt(fd, emptyName[:0:1], unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, statxMask, st)
}

// chgrpFD is fchownat(fd, "", -1, gid, AT_EMPTY_PATH): the group of the
// inode behind fd, an O_PATH descriptor too (fchown(2) refuses those).
func chgrpFD(fd, gid int) error {
	for {
		_, _, e := unix.Syscall6(unix.SYS_FCHOWNAT, uintptr(fd), uintptr(unsafe.Pointer(&emptyName[0])), ^uintptr(0), uintptr(gid), unix.AT_EMPTY_PATH, 0)
		if e != unix.EINTR {
			return syscallErr("fchownat", e)
		}
	}
}

// fchmodat2Empty is fchmodat2(fd, "", mode, AT_EMPTY_PATH) (Linux 6.6):
// the mode of the inode behind fd, an O_PATH descriptor too. ENOSYS on
// older kernels.
func fchmodat2Empty(fd int, mode uint32) error {
	for {
		_, _, e := unix.Syscall6(unix.SYS_FCHMODAT2, uintptr(fd), uintptr(unsafe.Pointer(&emptyName[0])), uintptr(mode), unix.AT_EMPTY_PATH, 0, 0)
		if e != unix.EINTR {
			return syscallErr("fchmodat2", e)
		}
	}
}
