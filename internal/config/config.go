package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-multierror"
	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/errlist"
)

// PasswdMode is NONROOT_PASSWD: how a passwd entry for an unknown UID is
// provided.
type PasswdMode string

// Passwd modes.
const (
	PasswdAuto       PasswdMode = "auto"
	PasswdNSSWrapper PasswdMode = "nss-wrapper"
	PasswdEtcPasswd  PasswdMode = "etc-passwd"
	PasswdOff        PasswdMode = "off"
)

// CheckMode is NONROOT_VOLUME_CHECK: what a volume that is not writable
// does to the start.
type CheckMode string

// Volume check modes.
const (
	CheckStrict CheckMode = "strict"
	CheckWarn   CheckMode = "warn"
	CheckOff    CheckMode = "off"
)

// SubreaperMode is NONROOT_SUBREAPER: when the init registers as a child
// subreaper.
type SubreaperMode string

// Subreaper modes.
const (
	SubreaperAuto SubreaperMode = "auto"
	SubreaperOn   SubreaperMode = "on"
	SubreaperOff  SubreaperMode = "off"
)

// LogFormat is NONROOT_LOG_FORMAT: the init's log lines as slog text or
// JSON.
type LogFormat string

// Log formats.
const (
	LogText LogFormat = "text"
	LogJSON LogFormat = "json"
)

// Port is one NAME=PORT pair of NONROOT_PORTS.
type Port struct {
	Name string
	Port int
}

// Template is one SRC:DST pair of NONROOT_TEMPLATES.
type Template struct {
	Src string
	Dst string
}

// IDs is the UID[:GID] of NONROOT_RUN_AS. GID is -1 when not given.
type IDs struct {
	UID int
	GID int
}

// Config is the validated form of every setting.
type Config struct {
	Username       string
	Home           string // empty: decided by the identity step
	Passwd         PasswdMode
	NSSWrapperLib  string // empty: searched
	StateDir       string // empty: the first usable default
	Volumes        []string
	VolumeCheck    CheckMode
	Templates      []Template
	Ports          []Port
	PortOffset     int
	RunAs          *IDs // nil: not set
	Umask          int  // -1: inherited
	Subreaper      SubreaperMode
	Exec           bool
	SignalGroup    bool
	RewriteSignals map[syscall.Signal]syscall.Signal
	GracePeriod    time.Duration
	RemapExit      map[int]int
	LogLevel       slog.Level
	LogFormat      LogFormat
	// Gecos is the GECOS field of the provided entry; empty: the login
	// name for a new entry, the old one for an entry taken over.
	Gecos string
	// NoNewPrivs sets no_new_privs before COMMAND starts; it defaults to
	// whether RunAs is set.
	NoNewPrivs bool
	// FileEnv are the names NAME whose NAME_FILE gives NAME (step 6);
	// FileEnvAll is "*": every set X_FILE whose X is unset.
	FileEnv    []string
	FileEnvAll bool
	// Wait are the dependencies of step 7, all within WaitTimeout.
	Wait        []Dependency
	WaitTimeout time.Duration
	// Hooks are the directories of step 8; HookTimeout bounds each hook.
	Hooks       []string
	HookTimeout time.Duration
	// ReloadSignal is sent to COMMAND after a template source changed and
	// every pair was rendered and written again; 0: no reload. Without
	// templates, or with Exec, it does nothing (setup warns, see
	// ReloadProblem): an image's default must not stop a container whose
	// deployment cleared NONROOT_TEMPLATES or set NONROOT_EXEC.
	ReloadSignal syscall.Signal
	// ReloadCheck is the command line (argv) run after a re-render and
	// before the signal; nil: none.
	ReloadCheck []string
}

// ReloadProblem says why the reload settings do nothing, "" when they
// work or are not set: a check without a signal, a signal without
// templates to watch, or a signal with EXEC (no init left to watch).
func (c *Config) ReloadProblem() string {
	switch {
	case c.ReloadSignal == 0 && len(c.ReloadCheck) > 0:
		return "NONROOT_RELOAD_CHECK is set but NONROOT_RELOAD_SIGNAL is not, so the check never runs and nothing is reloaded; set NONROOT_RELOAD_SIGNAL (e.g. HUP)"
	case c.ReloadSignal != 0 && len(c.Templates) == 0:
		return "NONROOT_RELOAD_SIGNAL is set but NONROOT_TEMPLATES is empty, so there is nothing to watch and nothing is reloaded"
	case c.ReloadSignal != 0 && c.Exec:
		return "NONROOT_RELOAD_SIGNAL needs the init to keep running, but NONROOT_EXEC=true replaces it with COMMAND, so nothing is reloaded; unset one of them"
	}
	return ""
}

// Dependency is one item of NONROOT_WAIT.
type Dependency struct {
	// Raw is the item as given, for messages, with its credentials and
	// query values redacted (RedactURL).
	Raw string
	// Scheme is tcp, http, https, unix or file.
	Scheme string
	// Addr is HOST:PORT for tcp, the absolute path for unix and file,
	// and the whole URL for http and https.
	Addr string
}

// Parse validates every setting of r. All bad values are reported together
// in one error, each naming its variable and what is accepted.
func Parse(r Raw) (*Config, error) {
	var errs *multierror.Error
	bad := func(env string, err error) {
		errs = multierror.Append(errs, fmt.Errorf("%s_%s: %w", Prefix, env, err))
	}
	c := &Config{
		Username:      r.Username,
		NSSWrapperLib: r.NSSWrapperLib,
		Umask:         -1,
	}
	if err := ValidUsername(r.Username); err != nil {
		bad("USERNAME", err)
	}
	if r.Home != "" {
		if err := absPath(r.Home); err != nil {
			bad("HOME", err)
		} else if err := ValidPasswdField(r.Home); err != nil {
			bad("HOME", err)
		}
		c.Home = r.Home
	}
	var err error
	if c.Passwd, err = oneOf(r.Passwd, PasswdAuto, PasswdNSSWrapper, PasswdEtcPasswd, PasswdOff); err != nil {
		bad("PASSWD", err)
	}
	if r.NSSWrapperLib != "" {
		if err := absPath(r.NSSWrapperLib); err != nil {
			bad("NSS_WRAPPER_LIB", err)
		}
	}
	if r.StateDir != "" {
		if err := absPath(r.StateDir); err != nil {
			bad("STATE_DIR", err)
		}
		c.StateDir = filepath.Clean(r.StateDir)
	}
	for _, v := range List(r.Volumes) {
		if err := absPath(v); err != nil {
			bad("VOLUMES", err)
			continue
		}
		c.Volumes = append(c.Volumes, filepath.Clean(v))
	}
	if c.VolumeCheck, err = oneOf(r.VolumeCheck, CheckStrict, CheckWarn, CheckOff); err != nil {
		bad("VOLUME_CHECK", err)
	}
	if c.Templates, err = ParseTemplates(r.Templates); err != nil {
		bad("TEMPLATES", err)
	}
	if c.Ports, err = ParsePorts(r.Ports); err != nil {
		bad("PORTS", err)
	}
	if c.PortOffset, err = strconv.Atoi(strings.TrimSpace(r.PortOffset)); err != nil || c.PortOffset < 1 || c.PortOffset > 65535 {
		bad("PORT_OFFSET", fmt.Errorf("%q is not a number from 1 to 65535", r.PortOffset))
	}
	if r.RunAs != "" {
		ids, err := ParseIDs(r.RunAs)
		switch {
		case err != nil:
			bad("RUN_AS", err)
		case ids.UID == 0 && ids.GID >= 0:
			bad("RUN_AS", fmt.Errorf("%q: uid 0 stays root, so the gid would be ignored; name a non-root UID (e.g. 1001:%d), or set NONROOT_RUN_AS=0 to stay root", r.RunAs, ids.GID))
		}
		c.RunAs = ids
	}
	if err := ValidPasswdField(r.Gecos); err != nil {
		bad("GECOS", err)
	}
	c.Gecos = r.Gecos
	c.NoNewPrivs = r.RunAs != ""
	if r.NoNewPrivs != "" {
		if c.NoNewPrivs, err = parseBool(r.NoNewPrivs); err != nil {
			bad("NO_NEW_PRIVS", err)
		}
	}
	if r.Umask != "" {
		m, err := strconv.ParseUint(r.Umask, 8, 32)
		if err != nil || m > 0o777 {
			bad("UMASK", fmt.Errorf("%q is not an octal mask from 0000 to 0777, e.g. 0002", r.Umask))
		}
		c.Umask = int(m)
	}
	if c.Subreaper, err = oneOf(r.Subreaper, SubreaperAuto, SubreaperOn, SubreaperOff); err != nil {
		bad("SUBREAPER", err)
	}
	if c.Exec, err = parseBool(r.Exec); err != nil {
		bad("EXEC", err)
	}
	if c.SignalGroup, err = parseBool(r.SignalGroup); err != nil {
		bad("SIGNAL_GROUP", err)
	}
	if c.RewriteSignals, err = ParseSignalPairs(r.RewriteSignals); err != nil {
		bad("REWRITE_SIGNALS", err)
	}
	if c.GracePeriod, err = time.ParseDuration(strings.TrimSpace(r.GracePeriod)); err != nil || c.GracePeriod < 0 {
		bad("GRACE_PERIOD", fmt.Errorf("%q is not a duration such as 5s or 500ms", r.GracePeriod))
	}
	if c.RemapExit, err = ParseExitPairs(r.RemapExit); err != nil {
		bad("REMAP_EXIT", err)
	}
	if err := c.LogLevel.UnmarshalText([]byte(r.LogLevel)); err != nil || !validLevel(r.LogLevel) {
		bad("LOG_LEVEL", fmt.Errorf("%q is not one of debug, info, warn, error", r.LogLevel))
	}
	if c.LogFormat, err = oneOf(r.LogFormat, LogText, LogJSON); err != nil {
		bad("LOG_FORMAT", err)
	}
	if c.FileEnv, c.FileEnvAll, err = ParseFileEnv(r.FileEnv); err != nil {
		bad("FILE_ENV", err)
	}
	if c.Wait, err = ParseWait(r.Wait); err != nil {
		bad("WAIT", err)
	}
	if c.WaitTimeout, err = positiveDuration(r.WaitTimeout); err != nil {
		bad("WAIT_TIMEOUT", err)
	}
	for _, h := range List(r.Hooks) {
		if err := absPath(h); err != nil {
			bad("HOOKS", err)
			continue
		}
		c.Hooks = append(c.Hooks, filepath.Clean(h))
	}
	if c.HookTimeout, err = positiveDuration(r.HookTimeout); err != nil {
		bad("HOOK_TIMEOUT", err)
	}
	if strings.TrimSpace(r.ReloadSignal) != "" {
		sig, err := ParseSignal(r.ReloadSignal)
		switch {
		case err != nil:
			bad("RELOAD_SIGNAL", err)
		case sig == syscall.SIGKILL || sig == syscall.SIGSTOP:
			bad("RELOAD_SIGNAL", fmt.Errorf("%q would stop COMMAND, not reload it; use the signal COMMAND reloads on, e.g. HUP", r.ReloadSignal))
		}
		c.ReloadSignal = sig
	}
	if strings.TrimSpace(r.ReloadCheck) != "" {
		if c.ReloadCheck, err = SplitCommandLine(r.ReloadCheck); err != nil {
			bad("RELOAD_CHECK", err)
		}
	}
	if err := errlist.OrNil(errs); err != nil {
		return nil, err
	}
	return c, nil
}

// positiveDuration parses a duration above zero, such as 60s or 5m.
func positiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration above zero such as 30s or 5m", v)
	}
	return d, nil
}

// ParseFileEnv parses NONROOT_FILE_ENV: variable names, or "*" alone for
// every set X_FILE whose X is unset.
func ParseFileEnv(s string) (names []string, all bool, err error) {
	var errs *multierror.Error
	seen := map[string]bool{}
	items := List(s)
	for _, item := range items {
		switch {
		case item == "*":
			all = true
			if len(items) > 1 {
				errs = multierror.Append(errs, fmt.Errorf("%q: * already names every variable; give * alone or a list of names", s))
			}
		case !validEnvName(item):
			errs = multierror.Append(errs, fmt.Errorf("%q is not a variable name (letters, digits and _, not starting with a digit)", item))
		case seen[item]:
			errs = multierror.Append(errs, fmt.Errorf("%q is given twice", item))
		default:
			seen[item] = true
			names = append(names, item)
		}
	}
	if all {
		names = nil
	}
	return names, all, errlist.OrNil(errs)
}

// ParseWait parses NONROOT_WAIT: tcp://HOST:PORT, http://... and
// https://... URLs, unix:///PATH and file:///PATH.
func ParseWait(s string) ([]Dependency, error) {
	var out []Dependency
	var errs *multierror.Error
	for _, item := range List(s) {
		d, err := parseDependency(item)
		if err != nil {
			errs = multierror.Append(errs, err)
			continue
		}
		out = append(out, d)
	}
	return out, errlist.OrNil(errs)
}

// RedactURL is the NONROOT_WAIT item s as messages show it, with what
// may be a secret replaced by xxxxx, even in an item that does not
// parse: the credentials (everything before the last "@": a password may
// hold "/", "?" or "#"; a token given as the user), a "port" that is not
// a number (the password of "user:pass" cut short by a comma in it), and
// every query value and bare query key (?token=..., ?s3cret). The rest
// stays as given, to tell which dependency it is; a path holding "@" is
// shown from its last "@" on.
func RedactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	prefix := ""
	if ok {
		prefix = scheme + "://"
	} else {
		rest = s
	}
	isPath := ok && (strings.EqualFold(scheme, "unix") || strings.EqualFold(scheme, "file"))
	if at := strings.LastIndex(rest, "@"); at >= 0 && !isPath {
		user := "xxxxx"
		// A user shown only when a password follows it: alone (or
		// with an empty password, "token:@") it is the secret.
		if u, pw, hasPw := strings.Cut(rest[:at], ":"); hasPw && pw != "" && !strings.ContainsAny(u, "/?#") {
			user = u + ":xxxxx"
		}
		rest = user + rest[at:]
	} else if ok && !isPath {
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if host, port, hasPort := strings.Cut(rest[:end], ":"); hasPort && !strings.HasPrefix(host, "[") && !allDigits(port) {
			// A password cut short by a comma in it: what follows
			// may be more of it.
			return prefix + host + ":xxxxx"
		}
	}
	rest, _, _ = strings.Cut(rest, "#")
	if path, query, hasQuery := strings.Cut(rest, "?"); hasQuery {
		pairs := strings.Split(query, "&")
		for i, p := range pairs {
			if k, _, hasValue := strings.Cut(p, "="); hasValue {
				pairs[i] = k + "=xxxxx"
			} else if p != "" {
				pairs[i] = "xxxxx"
			}
		}
		rest = path + "?" + strings.Join(pairs, "&")
	}
	return prefix + rest
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func parseDependency(raw string) (Dependency, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	// Messages name the item redacted; only Addr keeps the secrets.
	item := RedactURL(raw)
	d := Dependency{Raw: item, Scheme: strings.ToLower(scheme)}
	if !ok {
		return d, fmt.Errorf("%q has no scheme; use tcp://HOST:PORT, http://HOST[:PORT]/PATH, https://..., unix:///PATH or file:///PATH", item)
	}
	switch d.Scheme {
	case "tcp":
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || u.Port() == "" || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return d, fmt.Errorf("%q is not tcp://HOST:PORT, e.g. tcp://db:5432", item)
		}
		if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
			return d, fmt.Errorf("%q: port %q is not a number from 1 to 65535", item, u.Port())
		}
		d.Addr = u.Host
	case "http", "https":
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			return d, fmt.Errorf("%q is not an %s URL with a host, e.g. %s://api:8080/healthz", item, d.Scheme, d.Scheme)
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return d, fmt.Errorf("%q: port %q is not a number from 1 to 65535", item, p)
			}
		}
		d.Addr = raw
	case "unix", "file":
		if !strings.HasPrefix(rest, "/") {
			return d, fmt.Errorf("%q: the path must be absolute, with three slashes: %s:///run/app.sock", item, d.Scheme)
		}
		d.Addr = filepath.Clean(rest)
	default:
		return d, fmt.Errorf("%q: scheme %q is not one of tcp, http, https, unix, file", item, scheme)
	}
	return d, nil
}

// SplitCommandLine splits a command line into words as a shell would for
// plain words and quotes: blanks separate words, '...' keeps everything
// literal, "..." keeps blanks and honours \" and \\, a backslash outside
// quotes escapes the next character. Nothing is expanded; for pipes,
// variables or globs, write sh -c '...'.
func SplitCommandLine(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("%q: a ' is not closed", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '"' {
					closed = true
					break
				}
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if !closed {
				return nil, fmt.Errorf("%q: a \" is not closed", s)
			}
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("%q ends in a lone backslash", s)
			}
			inWord = true
			i++
			cur.WriteByte(s[i])
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("%q has no command", s)
	}
	return words, nil
}

// List splits a comma-separated setting, dropping blanks around items and
// empty items.
func List(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func oneOf[M ~string](v string, allowed ...M) (M, error) {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		if M(v) == a {
			return a, nil
		}
		names[i] = string(a)
	}
	return "", fmt.Errorf("%q is not one of %s", v, strings.Join(names, ", "))
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "", "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

func validLevel(v string) bool {
	switch strings.ToLower(v) {
	case "debug", "info", "warn", "error":
		return true
	}
	return false
}

func absPath(p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%q is not an absolute path", p)
	}
	return nil
}

// ValidUsername accepts the portable login names of POSIX and shadow-utils:
// a letter or underscore, then letters, digits, '.', '_' or '-', at most
// 32 characters, optionally ending in '$'.
func ValidUsername(name string) error {
	if name == "" || len(name) > 32 {
		return fmt.Errorf("%q is not a valid login name: use 1 to 32 characters", name)
	}
	for i, c := range name {
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if i > 0 {
			ok = ok || (c >= '0' && c <= '9') || c == '.' || c == '-' || (c == '$' && i == len(name)-1)
		}
		if !ok {
			return fmt.Errorf("%q is not a valid login name: start with a letter or _, then use letters, digits, '.', '_' or '-'", name)
		}
	}
	return nil
}

// ValidPasswdField refuses text that would corrupt a passwd or group line:
// the ':' separator, newlines and other control characters.
func ValidPasswdField(s string) error {
	for _, c := range s {
		if c == ':' || c < 0x20 || c == 0x7f {
			return fmt.Errorf("%q contains ':' or a control character, which would corrupt a passwd line", s)
		}
	}
	return nil
}

// ParsePorts parses NAME=PORT pairs. NAME must be an environment variable
// name; PORT is 1 to 65535; a NAME may appear once.
func ParsePorts(s string) ([]Port, error) {
	var out []Port
	var errs *multierror.Error
	seen := map[string]bool{}
	for _, item := range List(s) {
		name, val, ok := strings.Cut(item, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !ok {
			errs = multierror.Append(errs, fmt.Errorf("%q is not NAME=PORT, e.g. HTTP_PORT=80", item))
			continue
		}
		if !validEnvName(name) {
			errs = multierror.Append(errs, fmt.Errorf("%q: %q is not a variable name (letters, digits and _, not starting with a digit)", item, name))
			continue
		}
		p, err := strconv.Atoi(val)
		if err != nil || p < 1 || p > 65535 {
			errs = multierror.Append(errs, fmt.Errorf("%q: port %q is not a number from 1 to 65535", item, val))
			continue
		}
		if seen[name] {
			errs = multierror.Append(errs, fmt.Errorf("%q: %s is given twice", item, name))
			continue
		}
		seen[name] = true
		out = append(out, Port{Name: name, Port: p})
	}
	return out, errlist.OrNil(errs)
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// ParseTemplates parses SRC:DST pairs of absolute paths.
func ParseTemplates(s string) ([]Template, error) {
	var out []Template
	var errs *multierror.Error
	for _, item := range List(s) {
		src, dst, ok := strings.Cut(item, ":")
		if !ok || strings.Contains(dst, ":") {
			errs = multierror.Append(errs, fmt.Errorf("%q is not SRC:DST, e.g. /etc/config/nginx.conf.tmpl:/tmp/nginx", item))
			continue
		}
		src, dst = strings.TrimSpace(src), strings.TrimSpace(dst)
		if !filepath.IsAbs(src) || !filepath.IsAbs(dst) {
			errs = multierror.Append(errs, fmt.Errorf("%q: SRC and DST must both be absolute paths", item))
			continue
		}
		src, dst = filepath.Clean(src), filepath.Clean(dst)
		// Blanks around the item are dropped, so a blank at the end of a
		// name ("/etc/app /") is a typo, not a name to create.
		if blankEdged(src) || blankEdged(dst) {
			errs = multierror.Append(errs, fmt.Errorf("%q: a name in SRC or DST begins or ends with a blank", item))
			continue
		}
		out = append(out, Template{Src: src, Dst: dst})
	}
	return out, errlist.OrNil(errs)
}

// blankEdged reports whether a component of path begins or ends with
// white space.
func blankEdged(path string) bool {
	for _, c := range strings.Split(path, "/") {
		if strings.TrimSpace(c) != c {
			return true
		}
	}
	return false
}

// ParseIDs parses UID[:GID] with numeric IDs.
func ParseIDs(s string) (*IDs, error) {
	u, g, hasG := strings.Cut(s, ":")
	uid, err := parseID(u)
	if err != nil {
		return nil, fmt.Errorf("%q: uid %w; use UID[:GID] with numbers, e.g. 1001:0", s, err)
	}
	ids := &IDs{UID: uid, GID: -1}
	if hasG {
		gid, err := parseID(g)
		if err != nil {
			return nil, fmt.Errorf("%q: gid %w; use UID[:GID] with numbers, e.g. 1001:0", s, err)
		}
		ids.GID = gid
	}
	return ids, nil
}

func parseID(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, fmt.Errorf("%q is not a number from 0 to 4294967294", s)
	}
	return int(n), nil
}

// ParseSignal accepts TERM, SIGTERM, 15, RTMIN+2 and SIGRTMAX-1.
func ParseSignal(s string) (syscall.Signal, error) {
	name := strings.ToUpper(strings.TrimSpace(s))
	name = strings.TrimPrefix(name, "SIG")
	if n, err := strconv.Atoi(name); err == nil {
		if n < 1 || n > 64 {
			return 0, fmt.Errorf("signal %q is not from 1 to 64", s)
		}
		return syscall.Signal(n), nil
	}
	for _, rt := range []struct {
		prefix string
		base   int
		sign   int
	}{{"RTMIN+", 34, 1}, {"RTMAX-", 64, -1}} {
		if rest, ok := strings.CutPrefix(name, rt.prefix); ok {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 0 || n > 30 {
				return 0, fmt.Errorf("signal %q: offset must be 0 to 30", s)
			}
			return syscall.Signal(rt.base + rt.sign*n), nil
		}
	}
	switch name {
	case "RTMIN":
		return 34, nil
	case "RTMAX":
		return 64, nil
	}
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("%q is not a signal name such as TERM, QUIT or USR1", s)
}

// ParseSignalPairs parses FROM:TO signal pairs. SIGKILL and SIGSTOP cannot
// be caught, so they cannot be rewritten.
func ParseSignalPairs(s string) (map[syscall.Signal]syscall.Signal, error) {
	out := map[syscall.Signal]syscall.Signal{}
	var errs *multierror.Error
	for _, item := range List(s) {
		from, to, ok := strings.Cut(item, ":")
		if !ok {
			errs = multierror.Append(errs, fmt.Errorf("%q is not FROM:TO, e.g. TERM:QUIT", item))
			continue
		}
		f, err := ParseSignal(from)
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("%q: %w", item, err))
			continue
		}
		t, err := ParseSignal(to)
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("%q: %w", item, err))
			continue
		}
		if f == syscall.SIGKILL || f == syscall.SIGSTOP {
			errs = multierror.Append(errs, fmt.Errorf("%q: %s cannot be caught, so it cannot be rewritten", item, unix.SignalName(f)))
			continue
		}
		// The supervisor never forwards these (the Go runtime keeps
		// SIGPROF, SIGURG and 32 to 34; SIGCHLD is the reaper's).
		if f == syscall.SIGPROF || f == syscall.SIGURG || f == syscall.SIGCHLD || (f >= 32 && f <= 34) {
			errs = multierror.Append(errs, fmt.Errorf("%q: signal %d is never forwarded, so it cannot be rewritten", item, f))
			continue
		}
		if _, dup := out[f]; dup {
			errs = multierror.Append(errs, fmt.Errorf("%q: %s is rewritten twice", item, unix.SignalName(f)))
			continue
		}
		out[f] = t
	}
	return out, errlist.OrNil(errs)
}

// ParseExitPairs parses FROM:TO exit-status pairs, each 0 to 255.
func ParseExitPairs(s string) (map[int]int, error) {
	out := map[int]int{}
	var errs *multierror.Error
	for _, item := range List(s) {
		from, to, ok := strings.Cut(item, ":")
		f, ferr := strconv.Atoi(strings.TrimSpace(from))
		t, terr := strconv.Atoi(strings.TrimSpace(to))
		switch {
		case !ok || ferr != nil || terr != nil:
			errs = multierror.Append(errs, fmt.Errorf("%q is not FROM:TO exit statuses, e.g. 143:0", item))
		case f < 0 || f > 255 || t < 0 || t > 255:
			errs = multierror.Append(errs, fmt.Errorf("%q: exit statuses are 0 to 255", item))
		default:
			if _, dup := out[f]; dup {
				errs = multierror.Append(errs, fmt.Errorf("%q: %d is remapped twice", item, f))
				continue
			}
			out[f] = t
		}
	}
	return out, errlist.OrNil(errs)
}
