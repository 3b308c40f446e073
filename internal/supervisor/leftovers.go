package supervisor

import (
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
// or one of its threads. It is nil when /proc is not our namespace's.
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
	for _, sig := range sigs {
		switch {
		case l.pid1:
			_ = unix.Kill(-1, sig)
		case l.own:
			for _, p := range pids {
				_ = unix.Kill(p, sig)
			}
		case l.group > 1:
			_ = unix.Kill(-l.group, sig)
		}
	}
	return pids
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
