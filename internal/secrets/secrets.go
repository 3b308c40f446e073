// Package secrets is setup step 6, NONROOT_FILE_ENV: the Docker official
// images' file_env convention. For a listed NAME whose NAME_FILE is set,
// COMMAND gets NAME, the file's contents without trailing newlines, and
// not NAME_FILE. The values read are secrets: they never go into a log
// line or an error, and a Redactor takes them out of any message that
// could hold them (a template error echoing a value).
package secrets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/go-multierror"

	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/fsx"
	"github.com/nonroot-init/nonroot-init/internal/host"
	"github.com/nonroot-init/nonroot-init/internal/privileges"
)

// MaxSize is the largest file NONROOT_FILE_ENV reads: an environment
// variable is not the place for more.
const MaxSize = 1 << 20

// suffix names the variable that holds NAME's file.
const suffix = "_FILE"

// Source is one variable to set from a file: Name from File, named by
// the variable Name_FILE.
type Source struct {
	Name string
	File string
}

// Var is the variable that names the file: NAME_FILE.
func (s Source) Var() string { return s.Name + suffix }

// Plan is what NONROOT_FILE_ENV does with an environment.
type Plan struct {
	// Sources are the variables to set, in the order of NONROOT_FILE_ENV
	// (sorted by name for *).
	Sources []Source
	// Shadowed are the names X, with *, for which X and X_FILE are both
	// set: X is kept as it is and X_FILE left in place.
	Shadowed []string
}

// ConflictError is a listed NAME with both NAME and NAME_FILE set: a
// usage error (exit 2), found before anything changes.
type ConflictError struct {
	Names []string
	// SetBy is, for a name among Names that an earlier setup step sets
	// (see Later), which step.
	SetBy map[string]string
}

func (e *ConflictError) Error() string {
	parts := make([]string, len(e.Names))
	later := false
	for i, n := range e.Names {
		if by, ok := e.SetBy[n]; ok {
			parts[i] = fmt.Sprintf("%s%s is set, but %s is set by %s", n, suffix, n, by)
			later = true
			continue
		}
		parts[i] = fmt.Sprintf("%s and %s%s are both set", n, n, suffix)
	}
	fix := "set only one of them: the value itself, or the file that holds it"
	if later {
		fix += "; a variable an earlier step sets cannot come from a file: take it out of NONROOT_FILE_ENV, or use another name"
	}
	return fmt.Sprintf("NONROOT_FILE_ENV: %s; %s", strings.Join(parts, ", "), fix)
}

// Later are the variables the setup steps before step 6 always set,
// each with the step that sets it: the identity step's HOME, USER and
// LOGNAME, and each NAME of NONROOT_PORTS (ports). A listed NAME among
// them with NAME_FILE set is a conflict known before anything changes
// (NewPlanBefore). The nss_wrapper variables are set only sometimes:
// step 6 finds those.
func Later(ports []string) map[string]string {
	m := map[string]string{}
	for _, n := range []string{"HOME", "USER", "LOGNAME"} {
		m[n] = "the identity step (step 2)"
	}
	for _, n := range ports {
		m[n] = "NONROOT_PORTS (step 4)"
	}
	return m
}

// NewPlanBefore is NewPlan on env as it will be at step 6: every name
// of later (see Later) counts as set. It is the check made before step
// 1, and doctor's.
func NewPlanBefore(env *host.Env, names []string, all bool, later map[string]string) (Plan, error) {
	return newPlan(env, names, all, later)
}

// NewPlan finds, in env, the variables names (every X with X_FILE set,
// for all) would set. As in Docker's file_env, a variable set to the
// empty string counts as unset: NAME="" with NAME_FILE set reads the
// file, and NAME_FILE="" does nothing. A listed NAME with both set is a
// *ConflictError naming every such NAME; with all, X and X_FILE both
// set is not a conflict (* covers only an unset X): X stays and X is in
// Shadowed. It reads nothing.
func NewPlan(env *host.Env, names []string, all bool) (Plan, error) {
	return newPlan(env, names, all, nil)
}

func newPlan(env *host.Env, names []string, all bool, later map[string]string) (Plan, error) {
	var p Plan
	set := func(k string) (string, bool) {
		v, ok := env.Get(k)
		return v, ok && v != ""
	}
	var setBy map[string]string
	if all {
		vars := env.Map()
		for k := range vars {
			name, ok := strings.CutSuffix(k, suffix)
			if ok && validName(name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
	}
	var conflicts []string
	for _, name := range names {
		file, ok := set(name + suffix)
		if !ok {
			continue
		}
		_, ok = set(name)
		if by, l := later[name]; l && !ok {
			ok = true
			if !all {
				if setBy == nil {
					setBy = map[string]string{}
				}
				setBy[name] = by
			}
		}
		if ok {
			if all {
				p.Shadowed = append(p.Shadowed, name)
			} else {
				conflicts = append(conflicts, name)
			}
			continue
		}
		p.Sources = append(p.Sources, Source{Name: name, File: file})
	}
	if len(conflicts) > 0 {
		return Plan{}, &ConflictError{Names: conflicts, SetBy: setBy}
	}
	return p, nil
}

// validName is a shell variable name, as NONROOT_FILE_ENV's names must
// be: with *, X_FILE gives X only when X is one.
func validName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Apply reads every file of p (with the credentials the process has now:
// those step 1 left) and, only when all of them could be read, sets each
// NAME in env and removes its NAME_FILE. It returns a Redactor holding
// the values. Its error lists every file that failed, each naming the
// variable and the file, never what was read; env is then unchanged.
func Apply(env *host.Env, p Plan) (*Redactor, error) {
	var errs *multierror.Error
	values := make([]string, len(p.Sources))
	for i, s := range p.Sources {
		v, err := Read(s)
		if err != nil {
			errs = multierror.Append(errs, err)
			continue
		}
		values[i] = v
	}
	if err := errlist.OrNil(errs); err != nil {
		return nil, fmt.Errorf("NONROOT_FILE_ENV: %w", err)
	}
	r := &Redactor{}
	for i, s := range p.Sources {
		env.Set(s.Name, values[i])
		env.Unset(s.Var())
		r.Add(values[i], s.Name)
		r.names = append(r.names, s.Name)
	}
	return r, nil
}

// Read is the value of one source: the file's contents without trailing
// newlines, or an error naming NAME_FILE and the file (see Apply).
// doctor reads each source with it.
func Read(s Source) (string, error) {
	b, err := fsx.ReadFileLimit(s.File, MaxSize)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %s", s.Var(), s.File, Why(s.File, err))
	}
	v := trimNewlines(string(b))
	if strings.IndexByte(v, 0) >= 0 {
		// execve(2) ends a variable at its first NUL: COMMAND would
		// get a shorter value than the file holds, silently.
		return "", fmt.Errorf("%s=%s: holds a NUL byte, which an environment variable cannot; store the value as text", s.Var(), s.File)
	}
	if err := checkArgStrlen(s, v); err != nil {
		return "", err
	}
	return v, nil
}

// trimNewlines removes every trailing "\n" and "\r\n", as the shell's
// $(cat FILE) in Docker's file_env removes trailing newlines (and a file
// written on Windows ends its lines with "\r\n"). Other trailing
// whitespace is part of the value.
func trimNewlines(s string) string {
	for strings.HasSuffix(s, "\n") {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	}
	return s
}

// readError explains why the file of s cannot be used, naming the
// variable and the file (see why).
func readError(s Source, err error, who host.Creds, ownerMode string) error {
	return fmt.Errorf("%s=%s: %s", s.Var(), s.File, why(s.File, err, who, ownerMode))
}

// Why says why the file at path, which fsx.ReadFileLimit(path, MaxSize)
// failed to read with err, cannot be used, and what to do: the words
// after the path in a message, for this step and for the template
// function file. It reads who we are and the file's owner and mode.
func Why(path string, err error) string {
	return why(path, err, host.ReadCreds(), ownerMode(path))
}

// why is Why with the facts given: who is the process the kernel
// refused; ownerMode describes the file (": owner 0:0 mode 0400") or is
// empty. An unreadable file is most often a Secret mounted 0400 for root
// in a pod without fsGroup.
func why(path string, err error, who host.Creds, ownerMode string) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist (a Secret or volume that is not mounted there, or a broken symbolic link); mount it, or fix the path"
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("is not readable by uid %d (gid %d, groups %s)%s; set fsGroup in the pod's securityContext, or defaultMode 0440 (or 0444) on the Secret volume",
			who.EUID, who.EGID, privileges.FormatGroups(who.Groups), ownerMode)
	case errors.Is(err, fsx.ErrNotRegular):
		return fmt.Sprintf("is a %s, not a regular file; name the file that holds the value", kind(path))
	case errors.Is(err, fsx.ErrTooLarge):
		return fmt.Sprintf("is above the limit of %d MiB; have COMMAND read the file itself", MaxSize>>20)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err.Error()
}

// kind names what the file at path is, when it is not a regular file.
func kind(path string) string {
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return "special file"
	case info.IsDir():
		return "directory"
	case info.Mode()&fs.ModeNamedPipe != 0:
		return "named pipe"
	case info.Mode()&fs.ModeSocket != 0:
		return "socket"
	case info.Mode()&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// ownerMode describes the owner and mode of the file at path (through
// its links), or nothing when they cannot be read either.
func ownerMode(path string) string {
	info, err := os.Stat(path)
	if err != nil {
		return ""
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf(": owner %d:%d mode %04o", st.Uid, st.Gid, info.Mode().Perm())
}

// Redactor keeps secret values out of messages: a message holding a
// value, as it is, without surrounding white space (a template's trim),
// or as Go's %q writes those (template errors quote their arguments),
// has its detail withheld (String). A value a template changed
// otherwise (upper, a part of it) is not recognised. The zero Redactor
// changes nothing; a nil one neither.
type Redactor struct {
	names  []string
	values []string
	pairs  []pair // longest first, so that a value inside another goes second
}

type pair struct{ value, repl string }

// Add redacts value, shown as label (a variable's name, a file's path).
// An empty value is nothing to hide.
func (r *Redactor) Add(value, label string) {
	if value == "" {
		return
	}
	r.values = append(r.values, value)
	repl := "[redacted " + label + "]"
	forms := []string{value}
	if t := strings.TrimSpace(value); t != value && t != "" {
		forms = append(forms, t) // file PATH | trim
	}
	for _, f := range forms {
		r.pairs = append(r.pairs, pair{f, repl})
		if q := strconv.Quote(f); q[1:len(q)-1] != f {
			r.pairs = append(r.pairs, pair{q[1 : len(q)-1], repl})
		}
	}
	slices.SortStableFunc(r.pairs, func(a, b pair) int { return len(b.value) - len(a.value) })
}

// Names are the variables Apply set, in its order.
func (r *Redactor) Names() []string {
	if r == nil {
		return nil
	}
	return r.names
}

// Withheld stands for the detail of a message that contained a secret
// value.
const Withheld = "(message withheld: it contained a secret value)"

// located is the "file:line:" (or "file:line:column:") a template
// message starts with.
var located = regexp.MustCompile(`^(.+?:[0-9]+(?::[0-9]+)?): `)

// String is s as it may be shown: s itself when it holds no value (in
// any form Add lists), else its file:line: (when it starts with one)
// followed by Withheld. A value is never replaced inside the message:
// a placeholder there would spell the value (a short value "tmp"
// turns /tmp/a.tmpl into /[redacted X]/a.tmpl), and what is left
// around it can tell the rest.
func (r *Redactor) String(s string) string {
	if !r.Holds(s) {
		return s
	}
	if m := located.FindStringSubmatch(s); m != nil {
		return m[1] + ": " + Withheld
	}
	return Withheld
}

// Holds reports whether s contains a value, in any form Add lists.
func (r *Redactor) Holds(s string) bool {
	if r == nil {
		return false
	}
	for _, p := range r.pairs {
		if strings.Contains(s, p.value) {
			return true
		}
	}
	return false
}

// Values are the values added, in order: a rendered template holding
// one is written owner-only.
func (r *Redactor) Values() []string {
	if r == nil {
		return nil
	}
	return r.values
}

// Empty reports whether r redacts nothing.
func (r *Redactor) Empty() bool { return r == nil || len(r.pairs) == 0 }
