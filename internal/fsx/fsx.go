// Package fsx is the syscall layer for calls on paths and descriptors:
// one small wrapper per call, each retrying on EINTR and returning a
// failure's errno in an *os.SyscallError naming the call, so that
// callers can errors.Is(err, unix.EROFS). Volumes can be NFS or FUSE
// mounts, where a signal can interrupt a call that a local filesystem
// never would. On top of them, WriteAt is the atomic file writer
// (atomic.go) of identity's state files, and Stage (stage.go) the
// per-file half of render's set-level write, with the same temporary
// file rules. fsx imports no package of this project.
package fsx

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// call runs raw until it returns something other than EINTR and returns
// its result, with a failure's errno in an *os.SyscallError naming
// syscall.
func call[T any](syscall string, raw func() (T, error)) (T, error) {
	for {
		v, err := raw()
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, unix.EINTR) {
			return v, &os.SyscallError{Syscall: syscall, Err: err}
		}
	}
}

// call0 is call for a raw call that returns only an error.
func call0(syscall string, raw func() error) error {
	_, err := call(syscall, func() (struct{}, error) { return struct{}{}, raw() })
	return err
}

// Errno returns the errno inside err when err is an error of this
// package, and err otherwise: for a caller that names the operation and
// the path itself (its own *os.PathError, or fix-permissions'
// "path: op: errno" lines) and would otherwise name the call twice.
func Errno(err error) error {
	if se, ok := err.(*os.SyscallError); ok {
		return se.Err
	}
	return err
}

// Open is open(2).
func Open(path string, flags int, mode uint32) (int, error) {
	return call("open", func() (int, error) { return unix.Open(path, flags, mode) })
}

// Openat is openat(2).
func Openat(dirfd int, name string, flags int, mode uint32) (int, error) {
	return call("openat", func() (int, error) { return unix.Openat(dirfd, name, flags, mode) })
}

// Close is close(2). It is never retried: Linux releases the descriptor
// even when close returns EINTR, and a second close could close a
// descriptor another goroutine has just been given.
func Close(fd int) error {
	if err := unix.Close(fd); err != nil {
		return &os.SyscallError{Syscall: "close", Err: err}
	}
	return nil
}

// DupCloexec is fcntl(fd, F_DUPFD_CLOEXEC, 0): a second descriptor of
// the same open file, closed on exec.
func DupCloexec(fd int) (int, error) {
	return call("fcntl F_DUPFD_CLOEXEC", func() (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) })
}

// Mkdirat is mkdirat(2).
func Mkdirat(dirfd int, name string, mode uint32) error {
	return call0("mkdirat", func() error { return unix.Mkdirat(dirfd, name, mode) })
}

// Renameat is renameat(2).
func Renameat(olddirfd int, oldname string, newdirfd int, newname string) error {
	return call0("renameat", func() error { return unix.Renameat(olddirfd, oldname, newdirfd, newname) })
}

// Renameat2 is renameat2(2).
func Renameat2(olddirfd int, oldname string, newdirfd int, newname string, flags uint) error {
	return call0("renameat2", func() error { return unix.Renameat2(olddirfd, oldname, newdirfd, newname, flags) })
}

// Unlinkat is unlinkat(2).
func Unlinkat(dirfd int, name string, flags int) error {
	return call0("unlinkat", func() error { return unix.Unlinkat(dirfd, name, flags) })
}

// Fstat is fstat(2).
func Fstat(fd int, st *unix.Stat_t) error {
	return call0("fstat", func() error { return unix.Fstat(fd, st) })
}

// Stat is stat(2), which follows a symbolic link.
func Stat(path string, st *unix.Stat_t) error {
	return call0("stat", func() error { return unix.Stat(path, st) })
}

// Lstat is lstat(2), which does not follow one.
func Lstat(path string, st *unix.Stat_t) error {
	return call0("lstat", func() error { return unix.Lstat(path, st) })
}

// Fstatat is fstatat(2).
func Fstatat(dirfd int, name string, st *unix.Stat_t, flags int) error {
	return call0("fstatat", func() error { return unix.Fstatat(dirfd, name, st, flags) })
}

// Statx is statx(2).
func Statx(dirfd int, name string, flags, mask int, st *unix.Statx_t) error {
	return call0("statx", func() error { return unix.Statx(dirfd, name, flags, mask, st) })
}

// Statfs is statfs(2).
func Statfs(path string, st *unix.Statfs_t) error {
	return call0("statfs", func() error { return unix.Statfs(path, st) })
}

// Faccessat is faccessat2(2) (x/sys/unix emulates the flags on kernels
// without it).
func Faccessat(dirfd int, name string, mode uint32, flags int) error {
	return call0("faccessat", func() error { return unix.Faccessat(dirfd, name, mode, flags) })
}

// Fchownat is fchownat(2).
func Fchownat(dirfd int, name string, uid, gid, flags int) error {
	return call0("fchownat", func() error { return unix.Fchownat(dirfd, name, uid, gid, flags) })
}

// Fchmodat is fchmodat(2), or fchmodat2(2) when flags are given.
func Fchmodat(dirfd int, name string, mode uint32, flags int) error {
	return call0("fchmodat", func() error { return unix.Fchmodat(dirfd, name, mode, flags) })
}

// Fchmod is fchmod(2).
func Fchmod(fd int, mode uint32) error {
	return call0("fchmod", func() error { return unix.Fchmod(fd, mode) })
}

// Chmod is chmod(2).
func Chmod(path string, mode uint32) error {
	return call0("chmod", func() error { return unix.Chmod(path, mode) })
}

// Fgetxattr is fgetxattr(2).
func Fgetxattr(fd int, attr string, dest []byte) (int, error) {
	return call("fgetxattr", func() (int, error) { return unix.Fgetxattr(fd, attr, dest) })
}

// Getxattr is getxattr(2).
func Getxattr(path, attr string, dest []byte) (int, error) {
	return call("getxattr", func() (int, error) { return unix.Getxattr(path, attr, dest) })
}

// Readlinkat is readlinkat(2).
func Readlinkat(dirfd int, name string, buf []byte) (int, error) {
	return call("readlinkat", func() (int, error) { return unix.Readlinkat(dirfd, name, buf) })
}

// Write is write(2): one call, which may write less than b.
func Write(fd int, b []byte) (int, error) {
	return call("write", func() (int, error) { return unix.Write(fd, b) })
}

// Fsync is fsync(2).
func Fsync(fd int) error {
	return call0("fsync", func() error { return unix.Fsync(fd) })
}

// Getrandom is getrandom(2), which a signal can interrupt while it
// blocks for the kernel's entropy pool at boot.
func Getrandom(buf []byte, flags int) (int, error) {
	return call("getrandom", func() (int, error) { return unix.Getrandom(buf, flags) })
}
