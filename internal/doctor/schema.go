package doctor

import (
	"fmt"

	"github.com/nonroot-init/nonroot-init/internal/privileges"
)

// Schema is the version of the JSON report's shape (SPEC.md, "doctor
// --json"): adding a key is compatible; renaming or retyping one raises
// it.
const Schema = 1

// The typed sections of the JSON report. Keys are snake_case; numbers are
// numbers and booleans booleans; a fact doctor could not find is null
// (a nil pointer), a list with nothing in it is [].

// Identity is steps 1 and 2: who COMMAND would run as.
type Identity struct {
	UID    int   `json:"uid"`
	GID    int   `json:"gid"`
	Groups []int `json:"groups"`
	// Username is the name of the UID's passwd entry, null without one.
	Username    *string `json:"username"`
	PasswdEntry bool    `json:"passwd_entry"`
	PasswdLine  *string `json:"passwd_line"`
	PasswdFile  string  `json:"passwd_file"`
	// PasswdMethod is how step 2 would provide the entry ("existing",
	// "nss-wrapper", "etc-passwd", "environment"), null when it would fail.
	PasswdMethod *string `json:"passwd_method"`
	// ProvidedUsername is the name step 2 would write, null when it
	// writes no entry.
	ProvidedUsername *string  `json:"provided_username"`
	NSSWrapperLib    *string  `json:"nss_wrapper_lib"`
	NSSWrapperError  *string  `json:"nss_wrapper_error"`
	StateDir         *string  `json:"state_dir"`
	StateDirError    *string  `json:"state_dir_error"`
	StateDirSkipped  []string `json:"state_dir_skipped"`
	Home             string   `json:"home"`
	HomeWritable     bool     `json:"home_writable"`
	// PasswdWritable: the passwd file is writable by the UID, a risk.
	PasswdWritable bool          `json:"passwd_writable"`
	Capabilities   *Capabilities `json:"capabilities"`
	NoNewPrivs     *bool         `json:"no_new_privs"`
	// RunAs is NONROOT_RUN_AS's switch from root, null without one.
	RunAs *RunAs `json:"run_as"`
	// Command is COMMAND's C library (doctor -- COMMAND), null without one.
	Command *Command `json:"command"`
}

// Command is what step 2 would do for COMMAND's own lookups.
type Command struct {
	Path    string `json:"path"`
	Program string `json:"program"` // the ELF run for it: path, or its #! interpreter
	Libc    string `json:"libc"`    // "glibc", "musl", "static", "unknown"
	// LookupsFindEntry: COMMAND's own getpwuid would find the entry; null
	// when its C library is unknown.
	LookupsFindEntry *bool `json:"lookups_find_entry"`
}

// Capabilities are this process's capability sets, by name.
type Capabilities struct {
	Effective []string `json:"effective"`
	Permitted []string `json:"permitted"`
	Ambient   []string `json:"ambient"`
	Bounding  []string `json:"bounding"`
}

// RunAs is who step 1 would switch to.
type RunAs struct {
	UID    int   `json:"uid"`
	GID    int   `json:"gid"`
	Groups []int `json:"groups"`
}

// Volume is one path of NONROOT_VOLUMES (step 3).
type Volume struct {
	Path     string  `json:"path"`
	Writable bool    `json:"writable"`
	Type     *string `json:"type"`
	UID      *int    `json:"uid"`
	GID      *int    `json:"gid"`
	Mode     *string `json:"mode"` // octal, "0755"
	ReadOnly *bool   `json:"read_only"`
	// MountPoint: the path is a mount point (a mounted volume).
	MountPoint    *bool   `json:"mount_point"`
	SymlinkTarget *string `json:"symlink_target"`
	FreeBytes     *uint64 `json:"free_bytes"`
	SizeBytes     *uint64 `json:"size_bytes"`
	Error         *string `json:"error"`   // stat failed
	Problem       *string `json:"problem"` // why it is not writable
	Fix           *string `json:"fix"`
	// PrivilegedFiles are what fix-permissions would leave alone under
	// the path, FixPermissionsRefused why it would refuse the path.
	PrivilegedFiles         []PrivilegedFile `json:"privileged_files"`
	FixPermissionsRefused   *string          `json:"fix_permissions_refused"`
	FixPermissionsTruncated bool             `json:"fix_permissions_truncated"`
}

// PrivilegedFile is a setuid, setgid or file-capability file.
type PrivilegedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Ports is step 4.
type Ports struct {
	UnprivilegedPortStart *int    `json:"unprivileged_port_start"`
	NetBindService        *bool   `json:"net_bind_service"` // COMMAND would hold CAP_NET_BIND_SERVICE
	NetBindServiceReason  *string `json:"net_bind_service_reason"`
	Offset                int     `json:"offset"`
	Resolved              []Port  `json:"resolved"`
}

// Port is the decision for one NAME=PORT.
type Port struct {
	Name      string `json:"name"`
	Requested int    `json:"requested"`
	Port      int    `json:"port"`
	Remapped  bool   `json:"remapped"`
	Reason    string `json:"reason"`
}

// Template is one SRC:DST of NONROOT_TEMPLATES (step 5).
type Template struct {
	Src string `json:"src"`
	Dst string `json:"dst"`
	// Files is how many files it would write, null when rendering fails.
	Files   *int           `json:"files"`
	Problem *string        `json:"problem"`
	Outputs []TemplateFile `json:"outputs"`
	// NotChecked says why the pair was not rendered (files and problem
	// are then null): doctor runs as root, the start renders as
	// NONROOT_RUN_AS's user.
	NotChecked *string `json:"not_checked"`
}

// TemplateFile is one file a template pair would write.
type TemplateFile struct {
	Source   string `json:"source"`
	Path     string `json:"path"`
	Mode     string `json:"mode"`
	Bytes    int    `json:"bytes"`
	Rendered bool   `json:"rendered"` // a template rendered, not a copy
}

// Process is how the init would supervise COMMAND, and the profile the
// runtime applied.
type Process struct {
	PID  int    `json:"pid"`
	Role string `json:"role"` // "pid1", "subreaper" or "none"
	// PID1 is the namespace's init as doctor sees it; null when doctor is
	// PID 1 itself or /proc/1 cannot be read.
	PID1    *PID1   `json:"pid1"`
	Seccomp *string `json:"seccomp"` // "disabled", "strict", "filter"
	// BoundingSet is the bounding set COMMAND would keep, null when
	// unknown; BoundingSetSummary says what it means.
	BoundingSet        []string `json:"bounding_set"`
	BoundingSetSummary string   `json:"bounding_set_summary"`
	ReadOnlyRoot       *bool    `json:"read_only_root"`
	Cgroup             *string  `json:"cgroup"` // "v1" or "v2"
	// MemoryLimitBytes is null when unlimited or unknown; MemoryLimit
	// says which.
	MemoryLimitBytes *uint64 `json:"memory_limit_bytes"`
	MemoryLimit      string  `json:"memory_limit"`
}

// PID1 is the namespace's init.
type PID1 struct {
	Name           string   `json:"name"`
	SIGTERM        string   `json:"sigterm"` // "caught", "ignored", "blocked", "default"
	SignalsIgnored []string `json:"signals_ignored"`
	SignalsBlocked []string `json:"signals_blocked"`
	Zombies        *int     `json:"zombies"`
}

// ReportedProblem is one problem of the JSON report's top-level list.
type ReportedProblem struct {
	Section string  `json:"section"`
	Message string  `json:"message"`
	Fix     *string `json:"fix"`
}

// Note is a remark of a section that is no problem.
type Note struct {
	Section string `json:"section"`
	Message string `json:"message"`
}

func ptr[T any](v T) *T { return &v }

// optional is s, or null when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// errString is err's message, or null without one.
func errString(err error) *string {
	if err == nil {
		return nil
	}
	return ptr(err.Error())
}

// capList names the capabilities of set, [] for none.
func capList(set uint64) []string {
	names := []string{}
	for c := 0; c < 64; c++ {
		if set&(1<<c) != 0 {
			names = append(names, privileges.CapNames(1<<c))
		}
	}
	return names
}

// octal writes a mode as chmod takes it: "0755", "4755".
func octal(mode uint32) string { return fmt.Sprintf("%04o", mode) }

// orEmpty keeps a list [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
