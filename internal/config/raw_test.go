package config

import (
	"bytes"
	"flag"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"
)

// specEnv is the settings table of SPEC.md, in its order.
var specEnv = []string{"USERNAME", "HOME", "PASSWD", "NSS_WRAPPER_LIB", "STATE_DIR", "VOLUMES", "VOLUME_CHECK",
	"TEMPLATES", "PORTS", "PORT_OFFSET", "RUN_AS", "UMASK", "SUBREAPER", "EXEC", "SIGNAL_GROUP",
	"REWRITE_SIGNALS", "GRACE_PERIOD", "REMAP_EXIT", "LOG_LEVEL", "LOG_FORMAT", "GECOS", "NO_NEW_PRIVS",
	"FILE_ENV", "WAIT", "WAIT_TIMEOUT", "HOOKS", "HOOK_TIMEOUT", "RELOAD_SIGNAL", "RELOAD_CHECK"}

// clearEnv unsets every NONROOT_ variable for the test (t.Setenv restores
// them afterwards).
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, Prefix+"_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func TestFromEnvDefaults(t *testing.T) {
	clearEnv(t)
	got, err := FromEnv()
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	if want := defaults(); got != want {
		t.Errorf("FromEnv with no NONROOT_ variable\n got %+v\nwant %+v", got, want)
	}
}

// Each NONROOT_ variable lands in its own field.
func TestFromEnvKeys(t *testing.T) {
	clearEnv(t)
	var want Raw
	v := reflect.ValueOf(&want).Elem()
	for i, env := range specEnv {
		val := "value-" + env
		t.Setenv("NONROOT_"+env, val)
		v.Field(i).SetString(val)
	}
	got, err := FromEnv()
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	if got != want {
		t.Errorf("FromEnv\n got %+v\nwant %+v", got, want)
	}
}

// The envconfig trap: with an envconfig:"HOME" tag, envconfig reads the
// plain HOME when NONROOT_HOME is unset. The image's HOME, USER and PORTS
// must not become settings.
func TestFromEnvIgnoresUnprefixed(t *testing.T) {
	clearEnv(t)
	for _, env := range specEnv {
		t.Setenv(env, "unprefixed-"+env)
	}
	t.Setenv("USER", "y")
	t.Setenv("HOME", "/x")
	t.Setenv("PORTS", "z")
	got, err := FromEnv()
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	if want := defaults(); got != want {
		t.Errorf("FromEnv with HOME=/x USER=y PORTS=z and no NONROOT_ variable\n got %+v\nwant %+v", got, want)
	}
	if got.Home != "" || got.Username != "default" || got.Ports != "" {
		t.Errorf("FromEnv picked up unprefixed variables: Home=%q Username=%q Ports=%q", got.Home, got.Username, got.Ports)
	}
}

// An empty NONROOT_ variable is a value, not "unset": the default does not
// apply, and Parse then refuses it.
func TestFromEnvEmptyIsNotDefault(t *testing.T) {
	clearEnv(t)
	t.Setenv("NONROOT_PASSWD", "")
	got, err := FromEnv()
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	if got.Passwd != "" {
		t.Errorf("FromEnv with NONROOT_PASSWD='': Passwd = %q, want \"\"", got.Passwd)
	}
}

func TestEnvName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"NSSWrapperLib", "NSS_WRAPPER_LIB"},
		{"Home", "HOME"},
		{"RunAs", "RUN_AS"},
		{"PortOffset", "PORT_OFFSET"},
		{"RewriteSignals", "REWRITE_SIGNALS"},
		{"HTTPPort", "HTTP_PORT"},
		{"ID", "ID"},
		{"a", "A"},
	} {
		if got := envName(tc.in); got != tc.want {
			t.Errorf("envName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The names used for flags and usage (envName) are SPEC.md's, and are the
// keys envconfig itself reads.
func TestEnvNamesMatchSpecAndEnvconfig(t *testing.T) {
	var r Raw
	var ours []string
	for _, f := range r.fields() {
		ours = append(ours, f.env)
	}
	var spec []string
	for _, e := range specEnv {
		spec = append(spec, "NONROOT_"+e)
	}
	if !reflect.DeepEqual(ours, spec) {
		t.Errorf("fields' env names\n got %q\nwant %q (SPEC.md)", ours, spec)
	}
	var b bytes.Buffer
	if err := envconfig.Usagef(Prefix, &r, &b, "{{range .}}{{usage_key .}}\n{{end}}"); err != nil {
		t.Fatalf("envconfig.Usagef: %v", err)
	}
	theirs := strings.Fields(b.String())
	if !reflect.DeepEqual(theirs, spec) {
		t.Errorf("envconfig keys\n got %q\nwant %q (SPEC.md)", theirs, spec)
	}
}

func TestFieldsFlags(t *testing.T) {
	var r Raw
	seen := map[string]bool{}
	for _, f := range r.fields() {
		want := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(f.env, "NONROOT_"), "_", "-"))
		if f.flag != want {
			t.Errorf("flag for %s = %q, want %q", f.env, f.flag, want)
		}
		if seen[f.flag] {
			t.Errorf("flag %q used twice", f.flag)
		}
		seen[f.flag] = true
		if f.desc == "" {
			t.Errorf("flag %q has no description", f.flag)
		}
		if isBool := f.flag == "exec" || f.flag == "signal-group" || f.flag == "no-new-privs"; f.isBool != isBool {
			t.Errorf("flag %q: bool = %v, want %v", f.flag, f.isBool, isBool)
		}
	}
}

func TestBind(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want func(*Raw)
		rest []string
	}{
		{"no flags keeps env", map[string]string{"NONROOT_VOLUMES": "/env"}, nil,
			func(r *Raw) { r.Volumes = "/env" }, nil},
		{"flag wins over env", map[string]string{"NONROOT_VOLUMES": "/env"}, []string{"--volumes", "/flag"},
			func(r *Raw) { r.Volumes = "/flag" }, []string{}},
		{"flag with =", nil, []string{"--port-offset=9000", "--nss-wrapper-lib=/l.so"},
			func(r *Raw) { r.PortOffset = "9000"; r.NSSWrapperLib = "/l.so" }, []string{}},
		{"single dash", nil, []string{"-run-as", "1001:0"},
			func(r *Raw) { r.RunAs = "1001:0" }, []string{}},
		{"bare bool flags", map[string]string{"NONROOT_EXEC": "false"}, []string{"--exec", "--signal-group", "cmd"},
			func(r *Raw) { r.Exec = "true"; r.SignalGroup = "true" }, []string{"cmd"}},
		{"bool flag =false wins over env", map[string]string{"NONROOT_EXEC": "true"}, []string{"--exec=false"},
			func(r *Raw) { r.Exec = "false" }, nil},
		{"bare bool does not eat the command", nil, []string{"--exec", "true"},
			func(r *Raw) { r.Exec = "true" }, []string{"true"}},
		{"stops at the command", nil, []string{"--log-level", "debug", "cmd", "--volumes", "/x"},
			func(r *Raw) { r.LogLevel = "debug" }, []string{"cmd", "--volumes", "/x"}},
		{"stops at --", nil, []string{"--", "--volumes"},
			func(r *Raw) {}, []string{"--volumes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			raw, err := FromEnv()
			if err != nil {
				t.Fatalf("FromEnv: %v", err)
			}
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			raw.Bind(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("Parse(%q): %v", tc.args, err)
			}
			want := defaults()
			tc.want(&want)
			if raw != want {
				t.Errorf("env %v args %q\n got %+v\nwant %+v", tc.env, tc.args, raw, want)
			}
			if got := fs.Args(); len(got)+len(tc.rest) > 0 && !reflect.DeepEqual(got, tc.rest) {
				t.Errorf("args %q: rest = %q, want %q", tc.args, got, tc.rest)
			}
		})
	}
}

func TestBindUnknownFlag(t *testing.T) {
	var r Raw
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	r.Bind(fs)
	if err := fs.Parse([]string{"--volume", "/x"}); err == nil {
		t.Errorf("Parse(--volume /x): no error for an unknown flag")
	}
}

func TestUsageListsEverySetting(t *testing.T) {
	var b bytes.Buffer
	Usage(&b)
	out := b.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(specEnv) {
		t.Errorf("Usage has %d lines, want %d:\n%s", len(lines), len(specEnv), out)
	}
	for i, env := range specEnv {
		if i >= len(lines) {
			break
		}
		flagName := "--" + strings.ToLower(strings.ReplaceAll(env, "_", "-")) + " "
		if !strings.Contains(lines[i], flagName) || !strings.Contains(lines[i], " NONROOT_"+env+" ") {
			t.Errorf("Usage line %d = %q, want %q and NONROOT_%s", i, lines[i], flagName, env)
		}
	}
	for _, want := range []string{"(default default)", "(default auto)", "(default strict)", "(default 8000)",
		"(default false)", "(default 5s)", "(default info)", "(default text)"} {
		if !strings.Contains(out, want) {
			t.Errorf("Usage does not show %q:\n%s", want, out)
		}
	}
}
