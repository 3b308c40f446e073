package supervisor

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

// leftovers says which processes the init may signal once COMMAND has
// exited. Only a /proc of the init's own PID namespace proves which
// processes are its descendants: under `unshare --pid` without
// --mount-proc, /proc is the host's, its numbers are other processes'
// numbers in our namespace (our own threads among them), and signalling
// them would hit processes outside our tree, or ourselves.
type leftovers struct {
	self    int    // the init
	group   int    // COMMAND's process group, signalled when /proc is foreign
	procDir string // where the tree is read, when own
	own     bool   // procDir is a /proc of our own PID namespace
	pid1    bool
}

func newLeftovers(self int, procDir string, pid1 bool) leftovers {
	return leftovers{self: self, procDir: procDir, own: ownProc(procDir, self), pid1: pid1}
}

// list returns the leftovers proven through our own /proc: as PID 1 every
// other process of the namespace, else our descendants; never the init
// or one of its threads, nor COMMAND's zombie. It is nil when /proc is
// not our namespace's.
func (l leftovers) list() []int {
	if !l.own {
		return nil
	}
	var pids []int
	if l.pid1 {
		// Every process of the namespace descends from 0 in its /proc:
		// PID 1 and those that entered it with setns have ppid 0.
		pids = descendants(l.procDir, 0)
	} else {
		pids = descendants(l.procDir, l.self)
	}
	// COMMAND's zombie, kept until the leftovers are gone, is none.
	mine := map[int]bool{l.self: true, l.group: true}
	for _, tid := range tasks(l.procDir) {
		mine[tid] = true
	}
	out := pids[:0]
	for _, p := range pids {
		if !mine[p] {
			out = append(out, p)
		}
	}
	return out
}

// signal sends each of sigs to the leftovers and returns their list (see
// list). As PID 1 that is kill(-1), which the kernel confines to our
// namespace and which never reaches the caller; as a subreaper with a
// foreign /proc only COMMAND's process group is signalled.
func (l leftovers) signal(sigs ...syscall.Signal) []int {
	pids := l.list()
	var procs []proc
	if l.own && !l.pid1 {
		for _, p := range pids {
			if pr, err := readProc(l.procDir, p); err == nil {
				procs = append(procs, pr)
			}
		}
	}
	for _, sig := range sigs {
		switch {
		case l.pid1:
			_ = unix.Kill(-1, sig)
		case l.own:
			l.signalListed(procs, sig)
		case l.group > 1:
			_ = unix.Kill(-l.group, sig)
		}
	}
	return pids
}

// signalListed sends sig to each listed descendant that is still the
// process that was listed. Between the listing and the signal a listed
// process may die and its pid go to a process outside the tree; so each
// gets a pidfd (pidfd_open, which names one process for good), and only
// when its /proc entry, read after the pidfd was opened, still shows the
// listed start time, with every parent up to the init also as listed, is
// the signal sent through the pidfd (pidfd_send_signal). On a kernel
// without pidfds (before 5.3: ENOSYS) the check is made and kill(2) is
// used, which leaves the small window between the check and the kill.
func (l leftovers) signalListed(procs []proc, sig syscall.Signal) {
	listed := make(map[int]proc, len(procs))
	for _, p := range procs {
		listed[p.pid] = p
	}
	for _, p := range procs {
		fd, err := unix.PidfdOpen(p.pid, 0)
		switch {
		case errors.Is(err, unix.ENOSYS):
			if l.stillListed(p.pid, listed) {
				_ = unix.Kill(p.pid, sig)
			}
			continue
		case err != nil:
			continue // gone
		}
		if l.stillListed(p.pid, listed) {
			_ = unix.PidfdSendSignal(fd, sig, nil, 0)
		}
		_ = unix.Close(fd)
	}
}

// stillListed reports whether pid, and each of its parents up to the
// init, is the process listed: same start time, read again from /proc.
func (l leftovers) stillListed(pid int, listed map[int]proc) bool {
	for range len(listed) + 1 {
		want, ok := listed[pid]
		if !ok {
			return false
		}
		now, err := readProc(l.procDir, pid)
		if err != nil || now.start != want.start {
			return false
		}
		if now.ppid == l.self {
			return true
		}
		pid = now.ppid
	}
	return false
}

// logAttrs describes the leftovers for a log line.
func (l leftovers) logAttrs(pids []int) []any {
	if !l.own {
		return []any{"pids", "unknown: " + l.procDir + " is not of this PID namespace", "process_group", l.group}
	}
	return []any{"count", len(pids), "pids", pids}
}

// ownProc reports whether procDir is a /proc of the PID namespace of the
// process pid (ourselves): its self entry must be us with one number
// only. NSpid lists the pid in every namespace from the one procDir was
// mounted for down to ours, so a single entry equal to our getpid()
// proves it (a readlink of self alone could match by chance).
func ownProc(procDir string, pid int) bool {
	st, err := procfs.ReadStatus(filepath.Join(procDir, "self", "status"), procfs.LineNSpid)
	return err == nil && len(st.NSpid) == 1 && st.NSpid[0] == pid
}

// tasks returns the thread ids of the calling process from procDir.
func tasks(procDir string) []int {
	entries, err := os.ReadDir(filepath.Join(procDir, "self", "task"))
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	return out
}
