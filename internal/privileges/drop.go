// Package privileges switches the init from root to NONROOT_RUN_AS
// (SPEC.md, setup step 1): supplementary groups, GID and UID, on every
// thread of the process, keeping at most CAP_NET_BIND_SERVICE as an
// ambient capability for COMMAND, and sets no_new_privs (SetNoNewPrivs).
//
// The supervisor starts COMMAND with syscall.StartProcess and no credentials
// of its own, from whichever thread the Go runtime picks; so every
// credential change here must reach every thread. syscall.Setgroups,
// Setgid and Setuid do that since Go 1.16 (unix.Setgroups does not); for
// prctl and capset the runtime's AllThreadsSyscall does the same, which
// needs a build without cgo, as the release binary is.
package privileges

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

// Target is the identity to switch to.
type Target struct {
	UID int
	GID int
	// KeepBindService keeps CAP_NET_BIND_SERVICE (effective, permitted,
	// inheritable and ambient), so that COMMAND can bind ports below the
	// unprivileged start.
	KeepBindService bool
	// DropGroups are supplementary groups not to keep: root's primary
	// groups (RootPrimaryGroups) and those the image's group file grants
	// to root by name (RootGroups). The target GID is kept even when
	// listed.
	DropGroups []int
	// DropAllGroups drops every supplementary group it started with
	// except the target GID: root's groups could not be told (the image's
	// passwd or group file could have been written by another user).
	DropAllGroups bool
}

// Plan is what Drop will do, decided from the starting credentials.
type Plan struct {
	Groups        []int  // supplementary groups after the switch
	DroppedGroups []int  // groups it started with that are not kept (root's, or all but the target GID)
	Caps          uint64 // effective, permitted, inheritable and ambient after the switch
	// DropBounding lists the bounding-set capabilities to drop, so that a
	// setuid or file-capability program COMMAND runs cannot get them back.
	DropBounding []int
	// BoundingKept is what stays in the bounding set besides Caps when it
	// cannot be cleared: PR_CAPBSET_DROP needs CAP_SETPCAP.
	BoundingKept uint64
}

const (
	capSetgid         = unix.CAP_SETGID
	capSetuid         = unix.CAP_SETUID
	capSetpcap        = unix.CAP_SETPCAP
	capNetBindService = unix.CAP_NET_BIND_SERVICE
)

// MakePlan checks that st can switch to t and computes the result: the
// groups it started with except t.DropGroups (all of them with
// t.DropAllGroups), plus t.GID, and the
// capabilities kept. Missing CAP_SETUID or CAP_SETGID is an error naming
// them; CAP_NET_BIND_SERVICE asked for but not permitted is an error too,
// rather than a COMMAND that cannot bind its port.
func MakePlan(st procfs.Status, t Target) (Plan, error) {
	var missing []string
	if st.CapEff&(1<<capSetuid) == 0 {
		missing = append(missing, "CAP_SETUID")
	}
	if st.CapEff&(1<<capSetgid) == 0 {
		missing = append(missing, "CAP_SETGID")
	}
	if len(missing) > 0 {
		return Plan{}, fmt.Errorf("NONROOT_RUN_AS=%d:%d: cannot switch user: the container lacks %s; add them to securityContext.capabilities.add (docker run --cap-add), or start the container as that user (runAsUser, USER) and unset NONROOT_RUN_AS",
			t.UID, t.GID, joinAnd(missing))
	}
	drop := map[int]bool{}
	for _, g := range t.DropGroups {
		drop[g] = g != t.GID
	}
	var p Plan
	for _, g := range sortedUnique(st.Groups) {
		if drop[g] || (t.DropAllGroups && g != t.GID) {
			p.DroppedGroups = append(p.DroppedGroups, g)
		} else {
			p.Groups = append(p.Groups, g)
		}
	}
	p.Groups = sortedUnique(append(p.Groups, t.GID))
	if t.KeepBindService {
		if st.CapPrm&(1<<capNetBindService) == 0 {
			return Plan{}, fmt.Errorf("NONROOT_RUN_AS with a port below the unprivileged start in NONROOT_PORTS: the container lacks CAP_NET_BIND_SERVICE to hand to COMMAND; add it to the container's capabilities, or use ports of 1024 and above")
		}
		p.Caps = 1 << capNetBindService
	}
	if st.CapEff&(1<<capSetpcap) == 0 {
		p.BoundingKept = st.CapBnd &^ p.Caps
		return p, nil
	}
	for c := 0; c < 64; c++ {
		if st.CapBnd&(1<<c) != 0 && p.Caps&(1<<c) == 0 {
			p.DropBounding = append(p.DropBounding, c)
		}
	}
	return p, nil
}

func joinAnd(s []string) string {
	if len(s) == 2 {
		return s[0] + " and " + s[1]
	}
	return s[0]
}

// Drop switches every thread of the process to t: the bounding set is
// reduced, then setgroups, setgid and setuid run in that order, then the
// capabilities are set to the plan's and checked on every thread listed
// in procDir/self/task. It returns the plan it applied.
func Drop(t Target, procDir string) (Plan, error) {
	// The groups and capabilities are read here, right before the switch,
	// not taken from host.Creds: the plan starts from what the kernel
	// holds at the moment it is applied.
	st, err := procfs.ReadStatus(filepath.Join(procDir, "self", "status"), procfs.Credentials)
	if err != nil {
		return Plan{}, err
	}
	p, err := MakePlan(st, t)
	if err != nil {
		return Plan{}, err
	}
	for _, c := range p.DropBounding {
		if err := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0); err != nil {
			return Plan{}, &os.SyscallError{Syscall: fmt.Sprintf("prctl(PR_CAPBSET_DROP, %d)", c), Err: err}
		}
	}
	if p.Caps != 0 {
		// setuid from root to non-root clears the permitted set unless
		// SECBIT_KEEP_CAPS is on; the ambient set is cleared either way.
		if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 1, 0); err != nil {
			return Plan{}, &os.SyscallError{Syscall: "prctl(PR_SET_KEEPCAPS)", Err: err}
		}
	}
	if err := syscall.Setgroups(p.Groups); err != nil {
		return Plan{}, &os.SyscallError{Syscall: "setgroups", Err: err}
	}
	if err := syscall.Setgid(t.GID); err != nil {
		return Plan{}, &os.SyscallError{Syscall: "setgid", Err: err}
	}
	if err := syscall.Setuid(t.UID); err != nil {
		return Plan{}, &os.SyscallError{Syscall: "setuid", Err: err}
	}
	// Inheritable survives setuid; it is cleared (or set to the kept
	// capability) so that no file-inheritable program regains anything.
	if err := setCaps(p.Caps); err != nil {
		return Plan{}, err
	}
	if p.Caps != 0 {
		if err := allThreads(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, capNetBindService); err != nil {
			return Plan{}, &os.SyscallError{Syscall: "prctl(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE)", Err: err}
		}
		if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 0, 0); err != nil {
			return Plan{}, &os.SyscallError{Syscall: "prctl(PR_SET_KEEPCAPS)", Err: err}
		}
	}
	return p, verify(procDir, t, p)
}

// setCaps sets the effective, permitted and inheritable sets of every
// thread to caps.
func setCaps(caps uint64) error {
	// The header and data are handed to the kernel as addresses by every
	// thread in turn: pin them so that they are on the heap and stay put.
	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := &[2]unix.CapUserData{}
	for i := range data {
		v := uint32(caps >> (32 * i))
		data[i] = unix.CapUserData{Effective: v, Permitted: v, Inheritable: v}
	}
	var pin runtime.Pinner
	pin.Pin(hdr)
	pin.Pin(data)
	defer pin.Unpin()
	if err := allThreads(unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data)), 0); err != nil {
		return &os.SyscallError{Syscall: "capset", Err: err}
	}
	return nil
}

// allThreads runs one system call on every thread of the process. The
// runtime refuses (ENOTSUP) in a binary linked with cgo, whose C threads
// it cannot reach.
func allThreads(trap, a1, a2, a3 uintptr) error {
	_, _, errno := syscall.AllThreadsSyscall(trap, a1, a2, a3)
	switch errno {
	case 0:
		return nil
	case syscall.ENOTSUP:
		return fmt.Errorf("%w: this nonroot-init was built with cgo and cannot change every thread; build it with CGO_ENABLED=0", errno)
	}
	return errno
}

// verify checks every thread's credentials against the switch to t with
// plan p: all four UIDs and GIDs, the groups, and the capability sets.
// A thread left behind would let a process forked from it keep root.
func verify(procDir string, t Target, p Plan) error {
	err := eachThread(procDir, func(st procfs.Status) error { return checkStatus(st, t, p) })
	if err != nil {
		return fmt.Errorf("privileges not dropped on every thread: %w", err)
	}
	return nil
}

// eachThread runs check on the status of every thread listed in
// procDir/self/task and joins the failures, each naming its thread.
func eachThread(procDir string, check func(procfs.Status) error) error {
	tasks, err := os.ReadDir(filepath.Join(procDir, "self", "task"))
	if err != nil {
		return fmt.Errorf("list threads: %w", err)
	}
	var errs []error
	for _, task := range tasks {
		st, err := procfs.ReadStatus(filepath.Join(procDir, "self", "task", task.Name(), "status"), procfs.Credentials)
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread exited
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := check(st); err != nil {
			errs = append(errs, fmt.Errorf("thread %s: %w", task.Name(), err))
		}
	}
	return errlist.Join(errs...)
}

// checkStatus compares one thread's credentials with the switch's result.
func checkStatus(st procfs.Status, t Target, p Plan) error {
	for i, id := range st.UIDs {
		if id != t.UID {
			return fmt.Errorf("uid %v, want %d in all four", st.UIDs, t.UID)
		}
		if st.GIDs[i] != t.GID {
			return fmt.Errorf("gid %v, want %d in all four", st.GIDs, t.GID)
		}
	}
	if !sameGroups(st.Groups, p.Groups) {
		return fmt.Errorf("groups %v, want %v", st.Groups, p.Groups)
	}
	for _, c := range []struct {
		name string
		set  uint64
	}{{"effective", st.CapEff}, {"permitted", st.CapPrm}, {"inheritable", st.CapInh}, {"ambient", st.CapAmb}} {
		if c.set != p.Caps {
			return fmt.Errorf("%s capabilities %s, want %s", c.name, CapNames(c.set), CapNames(p.Caps))
		}
	}
	for _, c := range p.DropBounding {
		if st.CapBnd&(1<<c) != 0 {
			return fmt.Errorf("bounding set still has %s", CapNames(1<<c))
		}
	}
	return nil
}

// SetNoNewPrivs sets no_new_privs on every thread of the process, then
// checks each thread listed in procDir/self/task. From then on execve
// never grants privileges: a setuid or setgid bit and file capabilities
// are ignored. Ambient capabilities survive execve of an ordinary
// program either way, so a kept CAP_NET_BIND_SERVICE still reaches
// COMMAND. The flag is inherited by every child and cannot be unset.
func SetNoNewPrivs(procDir string) error {
	// prctl refuses PR_SET_NO_NEW_PRIVS with EINVAL unless arguments 3
	// to 5 are zero; AllThreadsSyscall passes zeros for 4 and 5.
	if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); err != nil {
		return &os.SyscallError{Syscall: "prctl(PR_SET_NO_NEW_PRIVS)", Err: err}
	}
	return eachThread(procDir, checkNoNewPrivs)
}

// checkNoNewPrivs checks one thread's no_new_privs flag.
func checkNoNewPrivs(st procfs.Status) error {
	if !st.NoNewPrivs {
		return errors.New("no_new_privs is not set")
	}
	return nil
}
