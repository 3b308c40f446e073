package doctor

import (
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/privileges"
	"github.com/nonroot-init/nonroot-init/internal/procfs"
)

// Fixes shared by several problems of the process section.
const (
	fixEntrypoint = `make nonroot-init the container's PID 1: ENTRYPOINT ["/usr/local/bin/nonroot-init", "--"] (or command: ["/usr/local/bin/nonroot-init", "--", ...] in the pod spec)`
	fixTmp        = "mount an emptyDir at /tmp (volumes: [{name: tmp, emptyDir: {}}], volumeMounts: [{name: tmp, mountPath: /tmp}]; docker run --tmpfs /tmp), or point NONROOT_STATE_DIR at a writable volume"
)

// processSection describes how the init would supervise COMMAND and the
// process profile the runtime applied: who PID 1 is and what it does with
// SIGTERM and orphans, seccomp, a read-only root filesystem and the
// cgroup memory limit (no_new_privs and the capabilities are in the
// identity section, the unprivileged port start in the ports section).
// Each problem comes with its fix.
func processSection(cfg *config.Config, h host.Host, st procfs.Status, stErr error, sw runAs) (Section, *Process) {
	s := Section{Name: "process"}
	j := &Process{PID: h.PID}
	s.Add("pid", "%d", h.PID)
	switch {
	case h.PID == 1:
		j.Role = "pid1"
		s.Add("role", "PID 1: reaps every zombie of the namespace")
	case cfg.Subreaper == config.SubreaperOff:
		j.Role = "none"
		s.Add("role", "not PID 1 and NONROOT_SUBREAPER=off: orphans go to the real PID 1")
	default:
		j.Role = "subreaper"
		s.Add("role", "subreaper: reaps its own descendants")
	}
	pid1Facts(&s, j, h)

	// no_new_privs and the capability sets are in the identity section.
	if st, err := procfs.ReadStatus(filepath.Join(h.ProcDir, "self", "status"), 0); err != nil {
		s.Add("seccomp", "unknown: %v", err)
	} else {
		mode := seccompMode(st)
		if mode != "unknown" {
			j.Seccomp = &mode
		}
		s.Add("seccomp", "%s", mode)
	}
	boundingFacts(&s, j, cfg, st, stErr, sw)
	rootFacts(&s, j, h)
	memoryFacts(&s, j, h)
	return s, j
}

// boundingFacts reports the bounding set COMMAND would keep: a setuid-root
// or file-capability program regains what is in it unless no_new_privs
// is set. As root with NONROOT_RUN_AS, that is the set the switch leaves
// (all of it without CAP_SETPCAP); otherwise this process's own.
func boundingFacts(s *Section, j *Process, cfg *config.Config, st procfs.Status, stErr error, sw runAs) {
	if stErr != nil {
		j.BoundingSetSummary = fmt.Sprintf("unknown: %v", stErr)
		s.Add("bounding_set", "%s", j.BoundingSetSummary)
		return
	}
	runAs := sw.kind == privileges.RunAsSwitch
	value, note := boundingSet(sw.from.UID, st.CapBnd, st.NoNewPrivs || cfg.NoNewPrivs, runAs, sw.plan)
	j.BoundingSetSummary = value
	switch {
	case !runAs:
		j.BoundingSet = capList(st.CapBnd)
	case sw.plan != nil:
		// After the switch: what could not be dropped, plus what is kept.
		j.BoundingSet = capList(sw.plan.BoundingKept | sw.plan.Caps)
	}
	s.Add("bounding_set", "%s", value)
	if note != "" {
		s.Notes = append(s.Notes, note)
	}
}

// boundingSet describes the bounding set COMMAND would keep and returns a
// note with the fix when some of it stays. uid and bnd are this process's,
// nnp whether COMMAND would run with no_new_privs, runAs whether the init
// would switch from root, with plan (nil when the switch is impossible).
func boundingSet(uid int, bnd uint64, nnp, runAs bool, plan *privileges.Plan) (value, note string) {
	use := "a setuid-root or file-capability program COMMAND runs can regain them"
	if nnp {
		use = "no_new_privs keeps setuid and file-capability programs from regaining them"
	}
	const fixDrop = "drop the capabilities COMMAND does not need (securityContext.capabilities.drop: [ALL]; docker run --cap-drop ALL) and set allowPrivilegeEscalation: false"
	switch {
	case uid == 0 && !runAs:
		return privileges.CapNames(bnd) + "; COMMAND runs as root", ""
	case runAs && plan == nil:
		return "unknown: NONROOT_RUN_AS cannot switch (see the identity section)", ""
	case runAs && plan.BoundingKept != 0:
		return fmt.Sprintf("kept after NONROOT_RUN_AS: %s: the container lacks CAP_SETPCAP, without which the bounding set cannot be cleared; %s", privileges.CapNames(plan.BoundingKept), use),
			"add CAP_SETPCAP to the container's capabilities so that NONROOT_RUN_AS can clear the bounding set, or " + fixDrop
	case runAs && plan.Caps != 0:
		return "cleared by NONROOT_RUN_AS, except " + privileges.CapNames(plan.Caps), ""
	case runAs:
		return "cleared by NONROOT_RUN_AS", ""
	case bnd == 0:
		return "empty", ""
	case nnp:
		return fmt.Sprintf("kept: %s; %s", privileges.CapNames(bnd), use), ""
	}
	return fmt.Sprintf("kept: %s; %s", privileges.CapNames(bnd), use),
		"a setuid-root or file-capability program in the image would regain the bounding set's capabilities: " + fixDrop
}

// pid1Facts reports PID 1 of the namespace, as `kubectl exec ... doctor`
// sees the container's init: its name, what it does with SIGTERM, its
// ignored and blocked signals, and zombies it leaves unreaped.
func pid1Facts(s *Section, j *Process, h host.Host) {
	if h.PID == 1 {
		s.Notes = append(s.Notes, "doctor is PID 1 itself: run it in the running container (kubectl exec POD -- /usr/local/bin/nonroot-init doctor) to check the real init")
		return
	}
	comm, err := os.ReadFile(filepath.Join(h.ProcDir, "1", "comm"))
	st, err2 := procfs.ReadStatus(filepath.Join(h.ProcDir, "1", "status"), 0)
	if err = errlist.Join(err, err2); err != nil {
		s.Add("pid1", "unknown: %v", err)
		return
	}
	name := strings.TrimSpace(string(comm))
	s.Add("pid1", "%s", name)
	// A mask line the status lacks reads as empty. A signal sent to the
	// process is blocked only when every thread blocks it: the kernel
	// gives it to one that does not (nonroot-init's supervising thread
	// blocks what it forwards, its other threads take it).
	cgt, ign, blk := st.SigCgt, st.SigIgn, blockedByAll(h.ProcDir, 1, st.SigBlk)
	term := disposition(unix.SIGTERM, cgt, ign, blk)
	j.PID1 = &PID1{Name: name, SIGTERM: term, SignalsIgnored: signalNames(ign), SignalsBlocked: signalNames(blk)}
	s.Add("pid1_sigterm", "%s", term)
	s.Add("pid1_signals_ignored", "%s", signalList(ign))
	s.Add("pid1_signals_blocked", "%s", signalList(blk))
	if term != "caught" {
		// The kernel drops a signal sent to a namespace's init when the
		// init has no handler for it (signal_unkillable), so SIGTERM at
		// its default action does nothing either.
		s.Problem(fmt.Sprintf("PID 1 (%s) does not handle SIGTERM (%s): a pod deletion or docker stop is ignored until SIGKILL after the grace period", name, term), fixEntrypoint)
	}
	zombies, err := countZombies(h.ProcDir, 1)
	if err != nil {
		s.Add("zombies", "unknown: %v", err)
		return
	}
	j.PID1.Zombies = &zombies
	s.Add("zombies", "%d unreaped children of PID 1", zombies)
	if zombies > 0 && cgt&sigBit(unix.SIGCHLD) == 0 {
		s.Problem(fmt.Sprintf("PID 1 (%s) has %d zombie children and does not handle SIGCHLD: it does not reap orphans, which will fill the pid limit", name, zombies), fixEntrypoint)
	}
}

// rootFacts reports whether the root filesystem is read-only and, if so,
// whether /tmp is writable.
func rootFacts(s *Section, j *Process, h host.Host) {
	root := h.RootDir
	if root == "" {
		root = "/"
	}
	ro, err := readOnlyFS(root)
	if err != nil {
		s.Add("read_only_root", "unknown: %v", err)
		return
	}
	j.ReadOnlyRoot = &ro
	s.Add("read_only_root", "%t", ro)
	if !ro {
		return
	}
	tmp := filepath.Join(root, "tmp")
	if tmpRO, err := readOnlyFS(tmp); err == nil && tmpRO {
		s.Problem("the root filesystem is read-only and so is /tmp: nonroot-init's generated files, nss_wrapper's passwd copy, rendered templates and most programs need a writable /tmp", fixTmp)
	}
}

// memoryFacts reports the cgroup version and the memory limit of the
// cgroup this process is in.
func memoryFacts(s *Section, j *Process, h host.Host) {
	cgdir := h.CgroupDir
	if cgdir == "" {
		cgdir = "/sys/fs/cgroup"
	}
	self, err := os.ReadFile(filepath.Join(h.ProcDir, "self", "cgroup"))
	if err != nil {
		j.MemoryLimit = fmt.Sprintf("unknown: %v", err)
		s.Add("memory_limit", "%s", j.MemoryLimit)
		return
	}
	v2path, v1path := cgroupPaths(string(self))
	version, candidates := "v1", []string{
		filepath.Join(cgdir, "memory", v1path, "memory.limit_in_bytes"),
		// Inside a container without a cgroup namespace the runtime
		// mounts the container's own cgroup at the top.
		filepath.Join(cgdir, "memory", "memory.limit_in_bytes"),
	}
	if _, err := os.Stat(filepath.Join(cgdir, "cgroup.controllers")); err == nil {
		version, candidates = "v2", []string{
			filepath.Join(cgdir, v2path, "memory.max"),
			filepath.Join(cgdir, "memory.max"),
		}
	}
	j.Cgroup = &version
	s.Add("cgroup", "%s", version)
	for _, c := range candidates {
		if b, err := os.ReadFile(c); err == nil {
			j.MemoryLimit = memoryLimit(string(b))
			if n, ok := limitBytes(string(b)); ok {
				j.MemoryLimitBytes = &n
			}
			s.Add("memory_limit", "%s", j.MemoryLimit)
			return
		}
	}
	j.MemoryLimit = fmt.Sprintf("unknown: no memory controller under %s", cgdir)
	s.Add("memory_limit", "%s", j.MemoryLimit)
}

// readOnlyFS reports whether path is on a file system mounted read-only.
func readOnlyFS(path string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false, &os.PathError{Op: "statfs", Path: path, Err: err}
	}
	return st.Flags&unix.ST_RDONLY != 0, nil
}

func sigBit(sig syscall.Signal) uint64 { return 1 << (uint(sig) - 1) }

// blockedByAll is the mask of signals every thread of pid blocks (the
// SigBlk of each /proc/PID/task/TID/status, and-ed); leader is the
// status's own SigBlk (the main thread's), kept when the tasks cannot be
// read.
func blockedByAll(procDir string, pid int, leader uint64) uint64 {
	dir := filepath.Join(procDir, strconv.Itoa(pid), "task")
	tasks, err := os.ReadDir(dir)
	if err != nil || len(tasks) == 0 {
		return leader
	}
	all := ^uint64(0)
	for _, t := range tasks {
		st, err := procfs.ReadStatus(filepath.Join(dir, t.Name(), "status"), 0)
		if err != nil {
			continue // the thread ended meanwhile
		}
		all &= st.SigBlk
	}
	if all == ^uint64(0) {
		return leader
	}
	return all
}

// disposition says what a process does with sig: "blocked" wins, since a
// blocked signal never arrives, then "ignored", "caught" or "default".
func disposition(sig syscall.Signal, cgt, ign, blk uint64) string {
	switch bit := sigBit(sig); {
	case blk&bit != 0:
		return "blocked"
	case ign&bit != 0:
		return "ignored"
	case cgt&bit != 0:
		return "caught"
	}
	return "default"
}

// signalList names the signals of mask, "none" when empty.
func signalList(mask uint64) string {
	names := signalNames(mask)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// signalNames names the signals of mask, [] when empty.
func signalNames(mask uint64) []string {
	names := []string{}
	for mask != 0 {
		n := bits.TrailingZeros64(mask)
		mask &^= 1 << n
		sig := syscall.Signal(n + 1)
		name := unix.SignalName(sig)
		if name == "" {
			name = "SIG" + strconv.Itoa(int(sig))
		}
		names = append(names, name)
	}
	return names
}

// seccompMode names the Seccomp mode of a status, "unknown" when the
// status has no Seccomp line (Linux before 3.8).
func seccompMode(st procfs.Status) string {
	if !st.Has(procfs.LineSeccomp) {
		return "unknown"
	}
	switch st.Seccomp {
	case 0:
		return "disabled"
	case 1:
		return "strict"
	case 2:
		return "filter"
	}
	return strconv.Itoa(st.Seccomp)
}

// countZombies counts the zombies whose parent is ppid.
func countZombies(procDir string, ppid int) (int, error) {
	procs, err := procfs.Processes(procDir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range procs {
		if p.State == 'Z' && p.PPID == ppid {
			n++
		}
	}
	return n, nil
}

// cgroupPaths returns this process's cgroup v2 path ("0::/path") and its
// v1 memory controller path ("N:memory:/path") from /proc/self/cgroup.
func cgroupPaths(text string) (v2, v1memory string) {
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		switch {
		case f[0] == "0" && f[1] == "":
			v2 = f[2]
		case slices.Contains(strings.Split(f[1], ","), "memory"):
			v1memory = f[2]
		}
	}
	return v2, v1memory
}

// memoryLimit turns memory.max or memory.limit_in_bytes into the limit in
// bytes (and MiB, for people), or "unlimited": v2 writes "max", v1 a
// number near 2^63 rounded down to the page size.
func memoryLimit(v string) string {
	if n, ok := limitBytes(v); ok {
		return fmt.Sprintf("%d (%.1f MiB)", n, float64(n)/(1<<20))
	}
	v = strings.TrimSpace(v)
	if _, err := strconv.ParseUint(v, 10, 64); v == "max" || err == nil {
		return "unlimited"
	}
	return "unknown: " + strconv.Quote(v)
}

// limitBytes is the limit of memory.max or memory.limit_in_bytes in
// bytes; false when unlimited or unreadable.
func limitBytes(v string) (uint64, bool) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil || n >= 1<<62 {
		return 0, false
	}
	return n, true
}
