// Package host describes the machine nonroot-init runs on: the files and
// facts the setup steps and doctor read, and the environment COMMAND
// starts from. main fills it with the real paths; tests point it at a
// temporary root. It holds no logic of any step.
package host

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Host describes the machine: the files and facts the steps read.
type Host struct {
	PasswdFile string   // /etc/passwd
	GroupFile  string   // /etc/group
	ProcDir    string   // /proc
	Environ    []string // the init's own environment
	PID        int      // our pid; 1 when PID 1 of a namespace
	RootDir    string   // /: statfs'ed by doctor for a read-only root
	CgroupDir  string   // /sys/fs/cgroup: doctor reads the memory limit there
	// Command is COMMAND's resolved path, then each #! interpreter the
	// kernel runs for it (supervisor.Programs); empty when not known
	// (doctor without -- COMMAND). Step 2 reads the last one's C library.
	Command []string
}

// Env is COMMAND's environment under construction: the inherited
// variables in their order, then those the steps set.
type Env struct {
	keys []string
	vals map[string]string
}

// NewEnv starts from environ ("K=V" strings). Entries without '=' are
// dropped; for a repeated key the first value wins, as getenv sees it.
func NewEnv(environ []string) *Env {
	e := &Env{vals: map[string]string{}}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if _, dup := e.vals[k]; !ok || k == "" || dup {
			continue
		}
		e.Set(k, v)
	}
	return e
}

// Set sets k to v, keeping k's place if it was already there.
func (e *Env) Set(k, v string) {
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

// Get returns k's value and whether it is set.
func (e *Env) Get(k string) (string, bool) {
	v, ok := e.vals[k]
	return v, ok
}

// Unset removes k, as the secrets step removes NAME_FILE.
func (e *Env) Unset(k string) {
	if _, ok := e.vals[k]; !ok {
		return
	}
	delete(e.vals, k)
	e.keys = slices.DeleteFunc(e.keys, func(key string) bool { return key == k })
}

// List returns the environment as "K=V" strings.
func (e *Env) List() []string {
	out := make([]string, 0, len(e.keys))
	for _, k := range e.keys {
		out = append(out, fmt.Sprintf("%s=%s", k, e.vals[k]))
	}
	return out
}

// Map returns the environment as a map, as templates see it in .Env.
func (e *Env) Map() map[string]string {
	m := make(map[string]string, len(e.keys))
	for _, k := range e.keys {
		m[k] = e.vals[k]
	}
	return m
}

// Creds is who the process is: its real and effective IDs and its
// supplementary groups. main reads them once (ReadCreds) and hands the
// value to setup and doctor, which hand it to the steps, so that every
// step judges with the same facts and a test can inject them. Step 1
// (NONROOT_RUN_AS) changes who we are: setup.Run hands steps 2 to 5 the
// credentials step 1 leaves, never the value it started with.
type Creds struct {
	UID, GID   int   // real IDs: who the passwd entry is for, what RUN_AS is judged from
	EUID, EGID int   // effective IDs: what the kernel checks file access against
	Groups     []int // supplementary groups, as getgroups(2) lists them
}

// ReadCreds reads the calling process's credentials.
func ReadCreds() Creds {
	groups, err := unix.Getgroups()
	if err != nil {
		groups = nil // getgroups(2) cannot fail with a large enough buffer
	}
	return Creds{UID: unix.Getuid(), GID: unix.Getgid(), EUID: unix.Geteuid(), EGID: unix.Getegid(), Groups: groups}
}
