package config

import (
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestParseChores covers the settings of setup steps 6 to 8 and reload.
func TestParseChores(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Raw)
		get  func(*Config) any
		want any
	}{
		{"file env names", func(r *Raw) { r.FileEnv = "DB_PASSWORD, API_KEY" }, func(c *Config) any { return c.FileEnv }, []string{"DB_PASSWORD", "API_KEY"}},
		{"file env star", func(r *Raw) { r.FileEnv = "*" }, func(c *Config) any { return []any{c.FileEnv, c.FileEnvAll} }, []any{[]string(nil), true}},
		{"wait tcp", func(r *Raw) { r.Wait = "tcp://db:5432" }, func(c *Config) any { return c.Wait }, []Dependency{{"tcp://db:5432", "tcp", "db:5432"}}},
		{"wait tcp ipv6", func(r *Raw) { r.Wait = "tcp://[::1]:5432" }, func(c *Config) any { return c.Wait[0].Addr }, "[::1]:5432"},
		{"wait http", func(r *Raw) { r.Wait = "http://api:8080/healthz?x=1" }, func(c *Config) any { return c.Wait[0] }, Dependency{"http://api:8080/healthz?x=xxxxx", "http", "http://api:8080/healthz?x=1"}},
		{"wait https", func(r *Raw) { r.Wait = "https://api/" }, func(c *Config) any { return c.Wait[0].Scheme }, "https"},
		{"wait unix", func(r *Raw) { r.Wait = "unix:///run/app/../app.sock" }, func(c *Config) any { return c.Wait[0].Addr }, "/run/app.sock"},
		{"wait file", func(r *Raw) { r.Wait = "file:///data/ready" }, func(c *Config) any { return c.Wait[0] }, Dependency{"file:///data/ready", "file", "/data/ready"}},
		{"wait two", func(r *Raw) { r.Wait = "tcp://a:1,file:///b" }, func(c *Config) any { return len(c.Wait) }, 2},
		{"wait timeout", func(r *Raw) { r.WaitTimeout = "2m" }, func(c *Config) any { return c.WaitTimeout }, 2 * time.Minute},
		{"hooks", func(r *Raw) { r.Hooks = "/docker-entrypoint.d/, /hooks" }, func(c *Config) any { return c.Hooks }, []string{"/docker-entrypoint.d", "/hooks"}},
		{"hook timeout", func(r *Raw) { r.HookTimeout = "30s" }, func(c *Config) any { return c.HookTimeout }, 30 * time.Second},
		{"reload signal", func(r *Raw) { r.ReloadSignal = "HUP"; r.Templates = "/a:/b" }, func(c *Config) any { return c.ReloadSignal }, syscall.SIGHUP},
		{"reload check", func(r *Raw) {
			r.ReloadSignal = "HUP"
			r.Templates = "/a:/b"
			r.ReloadCheck = `nginx -t -c "/tmp/my conf"`
		}, func(c *Config) any { return c.ReloadCheck }, []string{"nginx", "-t", "-c", "/tmp/my conf"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := defaults()
			tc.set(&r)
			c, err := Parse(r)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := tc.get(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestParseChoresBad(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Raw)
		want string // in the error, with the variable's name
	}{
		{"file env bad name", func(r *Raw) { r.FileEnv = "DB-PASS" }, `NONROOT_FILE_ENV: "DB-PASS" is not a variable name`},
		{"file env star and names", func(r *Raw) { r.FileEnv = "*,A" }, `NONROOT_FILE_ENV: "*,A": * already names every variable`},
		{"file env twice", func(r *Raw) { r.FileEnv = "A,A" }, `NONROOT_FILE_ENV: "A" is given twice`},
		{"wait no scheme", func(r *Raw) { r.Wait = "db:5432" }, `NONROOT_WAIT: "db:5432" has no scheme`},
		{"wait bad scheme", func(r *Raw) { r.Wait = "udp://db:53" }, `scheme "udp" is not one of tcp, http, https, unix, file`},
		{"wait tcp no port", func(r *Raw) { r.Wait = "tcp://db" }, `"tcp://db" is not tcp://HOST:PORT`},
		{"wait tcp port 0", func(r *Raw) { r.Wait = "tcp://db:0" }, `port "0" is not a number from 1 to 65535`},
		{"wait tcp path", func(r *Raw) { r.Wait = "tcp://db:5432/x" }, `is not tcp://HOST:PORT`},
		{"wait http no host", func(r *Raw) { r.Wait = "http:///x" }, `is not an http URL with a host`},
		{"wait unix relative", func(r *Raw) { r.Wait = "unix://run/x.sock" }, `the path must be absolute`},
		{"wait timeout zero", func(r *Raw) { r.WaitTimeout = "0s" }, `NONROOT_WAIT_TIMEOUT: "0s" is not a duration above zero`},
		{"wait timeout word", func(r *Raw) { r.WaitTimeout = "soon" }, `NONROOT_WAIT_TIMEOUT: "soon"`},
		{"hooks relative", func(r *Raw) { r.Hooks = "hooks.d" }, `NONROOT_HOOKS: "hooks.d" is not an absolute path`},
		{"hook timeout negative", func(r *Raw) { r.HookTimeout = "-1s" }, `NONROOT_HOOK_TIMEOUT: "-1s"`},
		{"reload bad signal", func(r *Raw) { r.ReloadSignal = "RELOAD"; r.Templates = "/a:/b" }, `NONROOT_RELOAD_SIGNAL: "RELOAD" is not a signal name`},
		{"reload kill", func(r *Raw) { r.ReloadSignal = "KILL"; r.Templates = "/a:/b" }, `NONROOT_RELOAD_SIGNAL: "KILL" would stop COMMAND`},
		{"check open quote", func(r *Raw) { r.ReloadCheck = `nginx -c 'x`; r.ReloadSignal = "HUP"; r.Templates = "/a:/b" }, `a ' is not closed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := defaults()
			tc.set(&r)
			_, err := Parse(r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestSplitCommandLine(t *testing.T) {
	for in, want := range map[string][]string{
		"nginx -t":                 {"nginx", "-t"},
		"  a   b  ":                {"a", "b"},
		`sh -c 'test -s /tmp/x'`:   {"sh", "-c", "test -s /tmp/x"},
		`echo "a \"b\" \\ c" d\ e`: {"echo", `a "b" \ c`, "d e"},
		`x '' ""`:                  {"x", "", ""},
		`a'b'"c"`:                  {"abc"},
		`printf '%s\n' "$HOME"`:    {"printf", `%s\n`, "$HOME"},
	} {
		got, err := SplitCommandLine(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitCommandLine(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "   ", `a "b`, `a 'b`, `a\`} {
		if got, err := SplitCommandLine(in); err == nil {
			t.Errorf("SplitCommandLine(%q) = %q, want an error", in, got)
		}
	}
}

// TestReloadProblem: reload settings that cannot work are not a usage
// error (an image's default must not stop a container whose deployment
// cleared NONROOT_TEMPLATES), but say why they do nothing.
func TestReloadProblem(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Raw)
		want string
	}{
		{"off", func(r *Raw) {}, ""},
		{"working", func(r *Raw) { r.ReloadSignal = "HUP"; r.Templates = "/a:/b"; r.ReloadCheck = "nginx -t" }, ""},
		{"no templates", func(r *Raw) { r.ReloadSignal = "HUP" }, "NONROOT_TEMPLATES is empty"},
		{"exec", func(r *Raw) { r.ReloadSignal = "HUP"; r.Templates = "/a:/b"; r.Exec = "true" }, "NONROOT_EXEC=true"},
		{"check alone", func(r *Raw) { r.ReloadCheck = "nginx -t"; r.Templates = "/a:/b" }, "NONROOT_RELOAD_SIGNAL is not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := defaults()
			tc.set(&r)
			c, err := Parse(r)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := c.ReloadProblem()
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("ReloadProblem() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRedactURL: messages name a NONROOT_WAIT item without its
// credentials or query values, even when it does not parse.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"tcp://db:5432":                        "tcp://db:5432",
		"http://api:8080/healthz":              "http://api:8080/healthz",
		"https://probe:s3cret@api/ready":       "https://probe:xxxxx@api/ready",
		"https://t0ken@api/ready":              "https://xxxxx@api/ready",
		"http://api/health?token=abc&x=1#frag": "http://api/health?token=xxxxx&x=xxxxx",
		"http://u:p@ss@api":                    "http://u:xxxxx@api",
		"http://probe:s3cret@api:99999/":       "http://probe:xxxxx@api:99999/",
		"unix:///run/app.sock":                 "unix:///run/app.sock",
		"no scheme":                            "no scheme",
		"http://user:abc/def==@api/":           "http://user:xxxxx@api/",
		"http://user:a?b#c@api/x":              "http://user:xxxxx@api/x",
		"http://user:pa":                       "http://user:xxxxx",
		"ss@api/healthz":                       "xxxxx@api/healthz",
		"http:/user:s3cret@api/":               "http:xxxxx@api/",
		"http://api/ready?s3cr3ttoken":         "http://api/ready?xxxxx",
		"http://api:8080/ready":                "http://api:8080/ready",
		"http://[::1]:8080/ready":              "http://[::1]:8080/ready",
		"http://user:ab/cd":                    "http://user:xxxxx",
		"https://sk_live_X:@api/":              "https://xxxxx@api/",
		"unix:///run/x@y.sock":                 "unix:///run/x@y.sock",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestParseWaitErrorsHideSecrets: an item that does not parse is named
// in the error with its credentials and query values redacted.
func TestParseWaitErrorsHideSecrets(t *testing.T) {
	for _, item := range []string{
		"http://probe:s3cret@api:99999/",
		"tcp://probe:s3cret@db:5432",
		"https://s3cret@:443/x",
		"ftp://probe:s3cret@host/?key=s3cret",
		"http://user:abc/s3cret==@api:99999/",
		"http://probe:s3cret",
		"s3cret@api/healthz",
		"http:/user:s3cret@api/",
	} {
		_, err := ParseWait(item)
		if err == nil {
			t.Errorf("ParseWait(%q) = nil error; want one", item)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseWait(%q) error shows the secret: %v", item, err)
		}
		if !strings.Contains(err.Error(), "xxxxx") {
			t.Errorf("ParseWait(%q) error %q does not name the item redacted", item, err)
		}
	}
}
