// Package config reads nonroot-init's settings from NONROOT_* environment
// variables and long flags, and validates them into a Config.
//
// Every setting is read as a string first (Raw), so that Parse can report
// every bad value at once instead of stopping at the first one, which is
// what envconfig would do with typed fields.
package config

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/kelseyhightower/envconfig"
)

// Prefix is the environment prefix of every setting.
const Prefix = "NONROOT"

// Raw holds every setting as text, as found in the environment and the flags.
//
// Fields carry split_words and no envconfig tag on purpose: with an
// envconfig:"HOME" tag, envconfig falls back to the plain HOME variable
// when NONROOT_HOME is unset, and would silently pick up the image's HOME,
// USER or PORTS.
type Raw struct {
	Username       string `split_words:"true" default:"default" flag:"username" desc:"login name of the entry generated for an unknown UID"`
	Home           string `split_words:"true" flag:"home" desc:"home directory of the generated entry"`
	Passwd         string `split_words:"true" default:"auto" flag:"passwd" desc:"auto, nss-wrapper, etc-passwd or off: how the passwd entry is provided"`
	NSSWrapperLib  string `split_words:"true" flag:"nss-wrapper-lib" desc:"path of libnss_wrapper.so (searched when empty)"`
	StateDir       string `split_words:"true" flag:"state-dir" desc:"where generated files go (first writable of $XDG_RUNTIME_DIR, $TMPDIR, /tmp, + /nonroot-init)"`
	Volumes        string `split_words:"true" flag:"volumes" desc:"comma-separated paths that must be writable"`
	VolumeCheck    string `split_words:"true" default:"strict" flag:"volume-check" desc:"strict, warn or off"`
	Templates      string `split_words:"true" flag:"templates" desc:"comma-separated SRC:DST pairs to render"`
	Ports          string `split_words:"true" flag:"ports" desc:"comma-separated NAME=PORT pairs to resolve"`
	PortOffset     string `split_words:"true" default:"8000" flag:"port-offset" desc:"added to a port that cannot be bound"`
	RunAs          string `split_words:"true" flag:"run-as" desc:"UID[:GID] to switch to when started as root"`
	Umask          string `split_words:"true" flag:"umask" desc:"octal umask for COMMAND, e.g. 0002"`
	Subreaper      string `split_words:"true" default:"auto" flag:"subreaper" desc:"auto (on when not PID 1), on or off"`
	Exec           string `split_words:"true" default:"false" flag:"exec" bool:"true" desc:"replace nonroot-init with COMMAND after setup"`
	SignalGroup    string `split_words:"true" default:"false" flag:"signal-group" bool:"true" desc:"forward signals to COMMAND's whole process group"`
	RewriteSignals string `split_words:"true" flag:"rewrite-signals" desc:"comma-separated FROM:TO signal pairs, e.g. TERM:QUIT"`
	GracePeriod    string `split_words:"true" default:"5s" flag:"grace-period" desc:"time leftover processes get between SIGTERM and SIGKILL"`
	RemapExit      string `split_words:"true" flag:"remap-exit" desc:"comma-separated FROM:TO exit-status pairs, e.g. 143:0"`
	LogLevel       string `split_words:"true" default:"info" flag:"log-level" desc:"debug, info, warn or error"`
	LogFormat      string `split_words:"true" default:"text" flag:"log-format" desc:"text or json"`
	Gecos          string `split_words:"true" flag:"gecos" desc:"GECOS (full name) field of the provided entry, read by git, finger and mail (default: the login name)"`
	NoNewPrivs     string `split_words:"true" flag:"no-new-privs" bool:"true" desc:"set no_new_privs before COMMAND, so a setuid program cannot give back what RUN_AS dropped (default true with RUN_AS, else false)"`
	FileEnv        string `split_words:"true" flag:"file-env" desc:"comma-separated names (or *) of variables that may come from files: NAME_FILE=/path gives COMMAND NAME"`
	Wait           string `split_words:"true" flag:"wait" desc:"comma-separated dependencies to wait for before COMMAND: tcp://HOST:PORT, http(s)://..., unix:///PATH, file:///PATH"`
	WaitTimeout    string `split_words:"true" default:"60s" flag:"wait-timeout" desc:"how long all of NONROOT_WAIT may take together"`
	Hooks          string `split_words:"true" flag:"hooks" desc:"comma-separated directories of executables run in order after setup, before COMMAND"`
	HookTimeout    string `split_words:"true" default:"5m" flag:"hook-timeout" desc:"how long one hook may run"`
	ReloadSignal   string `split_words:"true" flag:"reload-signal" desc:"signal sent to COMMAND after a template source changed and was rendered again (empty: no reload)"`
	ReloadCheck    string `split_words:"true" flag:"reload-check" desc:"command line run after a re-render, before the signal; non-zero keeps the old files (e.g. nginx -t)"`
}

// FromEnv reads the NONROOT_* variables of the process environment, with
// the defaults of the settings table for those that are unset.
func FromEnv() (Raw, error) {
	var r Raw
	if err := envconfig.Process(Prefix, &r); err != nil {
		return Raw{}, fmt.Errorf("read %s_* settings: %w", Prefix, err)
	}
	return r, nil
}

// field describes one setting for the flag set and the usage text.
type field struct {
	flag   string
	env    string
	desc   string
	def    string
	isBool bool
	ptr    *string
}

func (r *Raw) fields() []field {
	v := reflect.ValueOf(r).Elem()
	t := v.Type()
	out := make([]field, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		out = append(out, field{
			flag:   sf.Tag.Get("flag"),
			env:    Prefix + "_" + envName(sf.Name),
			desc:   sf.Tag.Get("desc"),
			def:    sf.Tag.Get("default"),
			isBool: sf.Tag.Get("bool") == "true",
			ptr:    v.Field(i).Addr().Interface().(*string),
		})
	}
	return out
}

// envName turns a Go field name into the split_words form envconfig uses:
// NSSWrapperLib becomes NSS_WRAPPER_LIB.
func envName(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, c := range rs {
		upper := c >= 'A' && c <= 'Z'
		if i > 0 && upper {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := rs[i-1] >= 'A' && rs[i-1] <= 'Z'
			if prevLower || (prevUpper && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(c)
	}
	return strings.ToUpper(b.String())
}

// stringFlag records a flag's value; boolean settings may be given bare
// (--exec) as well as with a value (--exec=false).
type stringFlag struct {
	dst    *string
	isBool bool
}

func (f *stringFlag) String() string {
	if f.dst == nil {
		return ""
	}
	return *f.dst
}

func (f *stringFlag) Set(s string) error { *f.dst = s; return nil }

func (f *stringFlag) IsBoolFlag() bool { return f.isBool }

// Bind registers one long flag per setting on fs. A flag that is given
// overwrites the value read from the environment, so the flag wins.
func (r *Raw) Bind(fs *flag.FlagSet) {
	for _, f := range r.fields() {
		fs.Var(&stringFlag{dst: f.ptr, isBool: f.isBool}, f.flag, f.desc+" (env "+f.env+")")
	}
}

// Usage writes the settings table: flag, variable, default and meaning.
func Usage(w io.Writer) {
	var r Raw
	for _, f := range r.fields() {
		def := ""
		if f.def != "" {
			def = " (default " + f.def + ")"
		}
		fmt.Fprintf(w, "  --%-17s %-24s %s%s\n", f.flag, f.env, f.desc, def)
	}
}

// BareBoolValue catches a boolean flag given bare and followed by a word
// that reads as a boolean ("--signal-group false"): the flag package
// takes the flag as true and the word as COMMAND, so the container would
// run `false`. args is the command line, rest what the flag set left
// after the flags. It returns a usage error naming the flag and the
// spelling meant; nil when rest came after "--" or the mistake is absent.
func BareBoolValue(args, rest []string) error {
	n := len(args) - len(rest)
	if len(rest) == 0 || n < 1 || strings.TrimSpace(rest[0]) == "" {
		return nil
	}
	if _, err := parseBool(rest[0]); err != nil {
		return nil
	}
	isBool := map[string]bool{}
	var r Raw
	for _, f := range r.fields() {
		isBool[f.flag] = f.isBool
	}
	// Walk the flags as the flag package did: a string flag given
	// without '=' takes the next argument, even one that starts with '-'.
	bare := ""
	for i := 0; i < n; i++ {
		name := strings.TrimPrefix(strings.TrimPrefix(args[i], "-"), "-")
		bare = ""
		switch {
		case args[i] == "--" || strings.Contains(name, "="):
		case isBool[name]:
			bare = name
		default:
			i++ // the string flag's value
		}
	}
	if bare == "" {
		return nil
	}
	return fmt.Errorf("--%s takes no separate value, so %q would run as COMMAND; write --%s=%s, or put -- before a COMMAND named %q", bare, rest[0], bare, rest[0], rest[0])
}
