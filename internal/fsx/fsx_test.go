package fsx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// script is a raw call that returns the errnos of errs in turn, then
// succeeds with 7, and counts its calls.
func script(errs ...error) (raw func() (int, error), calls *int) {
	n := 0
	return func() (int, error) {
		n++
		if n <= len(errs) {
			return -1, errs[n-1]
		}
		return 7, nil
	}, &n
}

func TestCallRetriesEINTR(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error
		want      int
		wantErr   error // nil for success
		wantCalls int
	}{
		{"success", nil, 7, nil, 1},
		{"EINTR twice then success", []error{unix.EINTR, unix.EINTR}, 7, nil, 3},
		{"EROFS at once", []error{unix.EROFS}, -1, unix.EROFS, 1},
		{"EINTR then EACCES", []error{unix.EINTR, unix.EACCES}, -1, unix.EACCES, 2},
	}
	for _, tt := range tests {
		raw, calls := script(tt.errs...)
		got, err := call("openat", raw)
		if got != tt.want || *calls != tt.wantCalls || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("%s: call(openat, %v) = %d, %v after %d calls; want %d, %v after %d", tt.name, tt.errs, got, err, *calls, tt.want, tt.wantErr, tt.wantCalls)
			continue
		}
		if tt.wantErr == nil {
			continue
		}
		var se *os.SyscallError
		if !errors.As(err, &se) || se.Syscall != "openat" || !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: call(openat, %v) err = %#v; want an *os.SyscallError openat wrapping %v", tt.name, tt.errs, err, tt.wantErr)
		}
		if Errno(err) != tt.wantErr {
			t.Errorf("%s: Errno(%v) = %v; want %v", tt.name, err, Errno(err), tt.wantErr)
		}
	}
}

func TestCall0RetriesEINTR(t *testing.T) {
	n := 0
	err := call0("fsync", func() error {
		n++
		if n < 3 {
			return unix.EINTR
		}
		return unix.EIO
	})
	var se *os.SyscallError
	if n != 3 || !errors.As(err, &se) || se.Syscall != "fsync" || !errors.Is(err, unix.EIO) {
		t.Errorf("call0(fsync, EINTR, EINTR, EIO) = %v after %d calls; want fsync: EIO after 3", err, n)
	}
}

// TestWrappers runs each wrapper into a real failure and checks that the
// kernel's errno comes back in an *os.SyscallError naming the call.
func TestWrappers(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dirfd, err := Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("Open(%s) = %v", dir, err)
	}
	defer Close(dirfd)
	var st unix.Stat_t
	var stx unix.Statx_t
	var sfs unix.Statfs_t
	buf := make([]byte, 16)
	tests := []struct {
		syscall string
		errno   unix.Errno
		run     func() error
	}{
		{"open", unix.ENOENT, func() error { _, err := Open(missing, unix.O_RDONLY, 0); return err }},
		{"openat", unix.ENOENT, func() error { _, err := Openat(dirfd, "missing", unix.O_RDONLY, 0); return err }},
		{"close", unix.EBADF, func() error { return Close(-1) }},
		{"mkdirat", unix.EEXIST, func() error { return Mkdirat(dirfd, "file", 0o700) }},
		{"renameat", unix.ENOENT, func() error { return Renameat(dirfd, "missing", dirfd, "other") }},
		{"unlinkat", unix.ENOENT, func() error { return Unlinkat(dirfd, "missing", 0) }},
		{"fstat", unix.EBADF, func() error { return Fstat(-1, &st) }},
		{"stat", unix.ENOENT, func() error { return Stat(missing, &st) }},
		{"lstat", unix.ENOENT, func() error { return Lstat(missing, &st) }},
		{"fcntl F_DUPFD_CLOEXEC", unix.EBADF, func() error { _, err := DupCloexec(-1); return err }},
		{"fstatat", unix.ENOENT, func() error { return Fstatat(dirfd, "missing", &st, 0) }},
		{"statx", unix.ENOENT, func() error { return Statx(dirfd, "missing", 0, unix.STATX_TYPE, &stx) }},
		{"statfs", unix.ENOENT, func() error { return Statfs(missing, &sfs) }},
		{"faccessat", unix.ENOENT, func() error { return Faccessat(dirfd, "missing", unix.W_OK, unix.AT_EACCESS) }},
		{"fchownat", unix.ENOENT, func() error { return Fchownat(dirfd, "missing", -1, -1, 0) }},
		{"fchmodat", unix.ENOENT, func() error { return Fchmodat(dirfd, "missing", 0o600, 0) }},
		{"fchmod", unix.EBADF, func() error { return Fchmod(-1, 0o600) }},
		{"chmod", unix.ENOENT, func() error { return Chmod(missing, 0o600) }},
		{"fgetxattr", unix.EBADF, func() error { _, err := Fgetxattr(-1, "user.x", nil); return err }},
		{"getxattr", unix.ENOENT, func() error { _, err := Getxattr(missing, "user.x", nil); return err }},
		{"readlinkat", unix.EINVAL, func() error { _, err := Readlinkat(dirfd, "file", buf); return err }},
		{"write", unix.EBADF, func() error { _, err := Write(-1, buf); return err }},
		{"fsync", unix.EBADF, func() error { return Fsync(-1) }},
		{"getrandom", unix.EINVAL, func() error { _, err := Getrandom(buf, -1); return err }},
	}
	for _, tt := range tests {
		err := tt.run()
		var se *os.SyscallError
		if !errors.As(err, &se) || se.Syscall != tt.syscall || !errors.Is(err, tt.errno) {
			t.Errorf("%s wrapper = %#v; want an *os.SyscallError %s wrapping %v", tt.syscall, err, tt.syscall, tt.errno)
		}
	}
}

func TestErrnoLeavesOtherErrors(t *testing.T) {
	pe := &os.PathError{Op: "open", Path: "/x", Err: unix.ENOENT}
	if got := Errno(pe); got != pe {
		t.Errorf("Errno(%v) = %v; want it unchanged", pe, got)
	}
	if got := Errno(nil); got != nil {
		t.Errorf("Errno(nil) = %v; want nil", got)
	}
}
