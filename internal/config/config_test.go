package config

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// defaults is the Raw that FromEnv returns with no NONROOT_ variable set:
// the default tags of Raw.
func defaults() Raw {
	return Raw{
		Username:    "default",
		Passwd:      "auto",
		VolumeCheck: "strict",
		PortOffset:  "8000",
		Subreaper:   "auto",
		Exec:        "false",
		SignalGroup: "false",
		GracePeriod: "5s",
		LogLevel:    "info",
		LogFormat:   "text",
		WaitTimeout: "60s",
		HookTimeout: "5m",
	}
}

func TestParseDefaults(t *testing.T) {
	c, err := Parse(defaults())
	if err != nil {
		t.Fatalf("Parse(defaults) error: %v", err)
	}
	want := &Config{
		Username:       "default",
		Passwd:         PasswdAuto,
		VolumeCheck:    CheckStrict,
		PortOffset:     8000,
		Umask:          -1,
		Subreaper:      SubreaperAuto,
		RewriteSignals: map[syscall.Signal]syscall.Signal{},
		GracePeriod:    5 * time.Second,
		RemapExit:      map[int]int{},
		LogLevel:       slog.LevelInfo,
		LogFormat:      "text",
		WaitTimeout:    time.Minute,
		HookTimeout:    5 * time.Minute,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse(defaults)\n got %+v\nwant %+v", c, want)
	}
}

// TestParseGood sets one setting to an accepted value and checks the
// field it lands in.
func TestParseGood(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Raw)
		get  func(*Config) any
		want any
	}{
		{"username", func(r *Raw) { r.Username = "app_user-1.x$" }, func(c *Config) any { return c.Username }, "app_user-1.x$"},
		{"home", func(r *Raw) { r.Home = "/home/app" }, func(c *Config) any { return c.Home }, "/home/app"},
		{"passwd nss-wrapper", func(r *Raw) { r.Passwd = "nss-wrapper" }, func(c *Config) any { return c.Passwd }, PasswdNSSWrapper},
		{"passwd etc-passwd", func(r *Raw) { r.Passwd = "etc-passwd" }, func(c *Config) any { return c.Passwd }, PasswdEtcPasswd},
		{"passwd off", func(r *Raw) { r.Passwd = "off" }, func(c *Config) any { return c.Passwd }, PasswdOff},
		{"nss wrapper lib", func(r *Raw) { r.NSSWrapperLib = "/usr/lib/libnss_wrapper.so" }, func(c *Config) any { return c.NSSWrapperLib }, "/usr/lib/libnss_wrapper.so"},
		{"state dir cleaned", func(r *Raw) { r.StateDir = "/run/x/../y/" }, func(c *Config) any { return c.StateDir }, "/run/y"},
		{"volumes", func(r *Raw) { r.Volumes = " /data/ , ,/cache//x" }, func(c *Config) any { return c.Volumes }, []string{"/data", "/cache/x"}},
		{"volume check warn", func(r *Raw) { r.VolumeCheck = "warn" }, func(c *Config) any { return c.VolumeCheck }, CheckWarn},
		{"volume check off", func(r *Raw) { r.VolumeCheck = "off" }, func(c *Config) any { return c.VolumeCheck }, CheckOff},
		{"templates", func(r *Raw) { r.Templates = "/a/t:/b/o" }, func(c *Config) any { return c.Templates }, []Template{{"/a/t", "/b/o"}}},
		{"ports", func(r *Raw) { r.Ports = "HTTP_PORT=80" }, func(c *Config) any { return c.Ports }, []Port{{"HTTP_PORT", 80}}},
		{"port offset 1", func(r *Raw) { r.PortOffset = "1" }, func(c *Config) any { return c.PortOffset }, 1},
		{"port offset 65535", func(r *Raw) { r.PortOffset = " 65535 " }, func(c *Config) any { return c.PortOffset }, 65535},
		{"run as uid", func(r *Raw) { r.RunAs = "1001" }, func(c *Config) any { return *c.RunAs }, IDs{1001, -1}},
		{"run as uid:gid", func(r *Raw) { r.RunAs = "1001:0" }, func(c *Config) any { return *c.RunAs }, IDs{1001, 0}},
		{"umask 0002", func(r *Raw) { r.Umask = "0002" }, func(c *Config) any { return c.Umask }, 0o002},
		{"umask 777", func(r *Raw) { r.Umask = "777" }, func(c *Config) any { return c.Umask }, 0o777},
		{"umask 0", func(r *Raw) { r.Umask = "0" }, func(c *Config) any { return c.Umask }, 0},
		{"subreaper on", func(r *Raw) { r.Subreaper = "on" }, func(c *Config) any { return c.Subreaper }, SubreaperOn},
		{"subreaper off", func(r *Raw) { r.Subreaper = "off" }, func(c *Config) any { return c.Subreaper }, SubreaperOff},
		{"exec true", func(r *Raw) { r.Exec = "true" }, func(c *Config) any { return c.Exec }, true},
		{"exec 1", func(r *Raw) { r.Exec = "1" }, func(c *Config) any { return c.Exec }, true},
		{"exec YES", func(r *Raw) { r.Exec = "YES" }, func(c *Config) any { return c.Exec }, true},
		{"exec on", func(r *Raw) { r.Exec = " on " }, func(c *Config) any { return c.Exec }, true},
		{"exec empty", func(r *Raw) { r.Exec = "" }, func(c *Config) any { return c.Exec }, false},
		{"exec no", func(r *Raw) { r.Exec = "no" }, func(c *Config) any { return c.Exec }, false},
		{"exec off", func(r *Raw) { r.Exec = "off" }, func(c *Config) any { return c.Exec }, false},
		{"exec 0", func(r *Raw) { r.Exec = "0" }, func(c *Config) any { return c.Exec }, false},
		{"signal group true", func(r *Raw) { r.SignalGroup = "True" }, func(c *Config) any { return c.SignalGroup }, true},
		{"rewrite signals", func(r *Raw) { r.RewriteSignals = "TERM:QUIT" }, func(c *Config) any { return c.RewriteSignals },
			map[syscall.Signal]syscall.Signal{syscall.SIGTERM: syscall.SIGQUIT}},
		{"grace period 500ms", func(r *Raw) { r.GracePeriod = "500ms" }, func(c *Config) any { return c.GracePeriod }, 500 * time.Millisecond},
		{"grace period 0s", func(r *Raw) { r.GracePeriod = "0s" }, func(c *Config) any { return c.GracePeriod }, time.Duration(0)},
		{"remap exit", func(r *Raw) { r.RemapExit = "143:0" }, func(c *Config) any { return c.RemapExit }, map[int]int{143: 0}},
		{"log level debug", func(r *Raw) { r.LogLevel = "debug" }, func(c *Config) any { return c.LogLevel }, slog.LevelDebug},
		{"log level WARN", func(r *Raw) { r.LogLevel = "WARN" }, func(c *Config) any { return c.LogLevel }, slog.LevelWarn},
		{"log level error", func(r *Raw) { r.LogLevel = "error" }, func(c *Config) any { return c.LogLevel }, slog.LevelError},
		{"log format json", func(r *Raw) { r.LogFormat = "json" }, func(c *Config) any { return c.LogFormat }, LogJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := defaults()
			tc.set(&r)
			c, err := Parse(r)
			if err != nil {
				t.Fatalf("Parse(%+v) error: %v", r, err)
			}
			if got := tc.get(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%+v): got %#v, want %#v", r, got, tc.want)
			}
		})
	}
}

// TestParseBad sets one setting to a refused value and checks that the
// one error names the variable.
func TestParseBad(t *testing.T) {
	for _, tc := range []struct {
		env string
		set func(*Raw)
	}{
		{"USERNAME", func(r *Raw) { r.Username = "" }},
		{"USERNAME", func(r *Raw) { r.Username = "1abc" }},
		{"USERNAME", func(r *Raw) { r.Username = "a:b" }},
		{"USERNAME", func(r *Raw) { r.Username = strings.Repeat("a", 33) }},
		{"HOME", func(r *Raw) { r.Home = "home/app" }},
		{"HOME", func(r *Raw) { r.Home = "/home/a:b" }},
		{"HOME", func(r *Raw) { r.Home = "/home/a\nroot::0:0::/:/bin/sh" }},
		{"PASSWD", func(r *Raw) { r.Passwd = "" }},
		{"PASSWD", func(r *Raw) { r.Passwd = "AUTO" }},
		{"PASSWD", func(r *Raw) { r.Passwd = "nss_wrapper" }},
		{"NSS_WRAPPER_LIB", func(r *Raw) { r.NSSWrapperLib = "libnss_wrapper.so" }},
		{"STATE_DIR", func(r *Raw) { r.StateDir = "run/x" }},
		{"VOLUMES", func(r *Raw) { r.Volumes = "/data,cache" }},
		{"VOLUME_CHECK", func(r *Raw) { r.VolumeCheck = "lenient" }},
		{"VOLUME_CHECK", func(r *Raw) { r.VolumeCheck = "" }},
		{"TEMPLATES", func(r *Raw) { r.Templates = "/a/t" }},
		{"TEMPLATES", func(r *Raw) { r.Templates = "a:/b" }},
		{"PORTS", func(r *Raw) { r.Ports = "HTTP_PORT=0" }},
		{"PORTS", func(r *Raw) { r.Ports = "80" }},
		{"PORT_OFFSET", func(r *Raw) { r.PortOffset = "0" }},
		{"PORT_OFFSET", func(r *Raw) { r.PortOffset = "65536" }},
		{"PORT_OFFSET", func(r *Raw) { r.PortOffset = "" }},
		{"PORT_OFFSET", func(r *Raw) { r.PortOffset = "8k" }},
		{"RUN_AS", func(r *Raw) { r.RunAs = "app" }},
		{"RUN_AS", func(r *Raw) { r.RunAs = "1001:" }},
		{"RUN_AS", func(r *Raw) { r.RunAs = "-1" }},
		{"UMASK", func(r *Raw) { r.Umask = "8" }},
		{"UMASK", func(r *Raw) { r.Umask = "1000" }},
		{"UMASK", func(r *Raw) { r.Umask = "u=rwx" }},
		{"SUBREAPER", func(r *Raw) { r.Subreaper = "yes" }},
		{"EXEC", func(r *Raw) { r.Exec = "maybe" }},
		{"EXEC", func(r *Raw) { r.Exec = "2" }},
		{"SIGNAL_GROUP", func(r *Raw) { r.SignalGroup = "y" }},
		{"REWRITE_SIGNALS", func(r *Raw) { r.RewriteSignals = "TERM" }},
		{"REWRITE_SIGNALS", func(r *Raw) { r.RewriteSignals = "KILL:TERM" }},
		{"GRACE_PERIOD", func(r *Raw) { r.GracePeriod = "5" }},
		{"GRACE_PERIOD", func(r *Raw) { r.GracePeriod = "-1s" }},
		{"GRACE_PERIOD", func(r *Raw) { r.GracePeriod = "" }},
		{"REMAP_EXIT", func(r *Raw) { r.RemapExit = "256:0" }},
		{"LOG_LEVEL", func(r *Raw) { r.LogLevel = "trace" }},
		{"LOG_LEVEL", func(r *Raw) { r.LogLevel = "info+2" }},
		{"LOG_LEVEL", func(r *Raw) { r.LogLevel = "" }},
		{"LOG_FORMAT", func(r *Raw) { r.LogFormat = "logfmt" }},
	} {
		r := defaults()
		tc.set(&r)
		c, err := Parse(r)
		if err == nil {
			t.Errorf("Parse(%+v) = %+v, want an error naming NONROOT_%s", r, c, tc.env)
			continue
		}
		if c != nil {
			t.Errorf("Parse(%+v) returned a Config with error %v", r, err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "NONROOT_"+tc.env+": ") || strings.Contains(msg, "\n") {
			t.Errorf("Parse(%+v) error %q: want one line starting with NONROOT_%s: ", r, msg, tc.env)
		}
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	r := Raw{
		Username:       "9bad",
		Home:           "rel",
		Passwd:         "x",
		NSSWrapperLib:  "rel",
		StateDir:       "rel",
		Volumes:        "rel",
		VolumeCheck:    "x",
		Templates:      "x",
		Ports:          "x",
		PortOffset:     "x",
		RunAs:          "x",
		Umask:          "x",
		Subreaper:      "x",
		Exec:           "x",
		SignalGroup:    "x",
		RewriteSignals: "x",
		GracePeriod:    "x",
		RemapExit:      "x",
		LogLevel:       "x",
		LogFormat:      "x",
		FileEnv:        "x-",
		Wait:           "x",
		WaitTimeout:    "x",
		Hooks:          "rel",
		HookTimeout:    "x",
		ReloadSignal:   "x",
		ReloadCheck:    "'",
	}
	_, err := Parse(r)
	if err == nil {
		t.Fatalf("Parse(%+v): no error", r)
	}
	envs := []string{"USERNAME", "HOME", "PASSWD", "NSS_WRAPPER_LIB", "STATE_DIR", "VOLUMES", "VOLUME_CHECK",
		"TEMPLATES", "PORTS", "PORT_OFFSET", "RUN_AS", "UMASK", "SUBREAPER", "EXEC", "SIGNAL_GROUP",
		"REWRITE_SIGNALS", "GRACE_PERIOD", "REMAP_EXIT", "LOG_LEVEL", "LOG_FORMAT",
		"FILE_ENV", "WAIT", "WAIT_TIMEOUT", "HOOKS", "HOOK_TIMEOUT", "RELOAD_SIGNAL", "RELOAD_CHECK"}
	lines := strings.Split(err.Error(), "\n")
	if want := "27 problems:"; lines[0] != want {
		t.Errorf("first line %q, want %q; whole error:\n%v", lines[0], want, err)
	}
	if len(lines) != len(envs)+1 {
		t.Fatalf("got %d lines, want %d (a header and one per setting):\n%v", len(lines), len(envs)+1, err)
	}
	for i, env := range envs {
		if !strings.HasPrefix(lines[i+1], "  NONROOT_"+env+": ") {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i+1], "  NONROOT_"+env+": ")
		}
	}
}

func TestParseTwoProblems(t *testing.T) {
	r := defaults()
	r.PortOffset = "0"
	r.LogFormat = "xml"
	_, err := Parse(r)
	if err == nil {
		t.Fatalf("Parse(%+v): no error", r)
	}
	want := "2 problems:\n" +
		"  NONROOT_PORT_OFFSET: \"0\" is not a number from 1 to 65535\n" +
		"  NONROOT_LOG_FORMAT: \"xml\" is not one of text, json"
	if got := err.Error(); got != want {
		t.Errorf("Parse error\n got %q\nwant %q", got, want)
	}
}

func TestValidUsername(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"default", true},
		{"_apt", true},
		{"A", true},
		{"app.user-2_x", true},
		{"machine$", true},
		{strings.Repeat("a", 32), true},
		{"", false},
		{strings.Repeat("a", 33), false},
		{"1app", false},
		{"-app", false},
		{".app", false},
		{"$", false},
		{"ma$chine", false},
		{"a b", false},
		{"a:b", false},
		{"a/b", false},
		{"a\nb", false},
		{"é", false},
		{"root\x00", false},
	} {
		err := ValidUsername(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ValidUsername(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestValidPasswdField(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"", true},
		{"/home/app user", true},
		{"/home/é~!", true},
		{"a:b", false},
		{"a\nb", false},
		{"a\rb", false},
		{"a\tb", false},
		{"a\x00b", false},
		{"a\x1fb", false},
		{"a\x7fb", false},
	} {
		err := ValidPasswdField(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ValidPasswdField(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestParsePorts(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []Port
		wantErr string // substring; "" means no error
	}{
		{"", nil, ""},
		{" , ", nil, ""},
		{"HTTP_PORT=80", []Port{{"HTTP_PORT", 80}}, ""},
		{" A = 1 , b_2=65535 ", []Port{{"A", 1}, {"b_2", 65535}}, ""},
		{"A=0", nil, `port "0" is not a number from 1 to 65535`},
		{"A=65536", nil, "1 to 65535"},
		{"A=-1", nil, "1 to 65535"},
		{"A=http", nil, "1 to 65535"},
		{"A=", nil, "1 to 65535"},
		{"A", nil, `"A" is not NAME=PORT`},
		{"=80", nil, "is not a variable name"},
		{"1A=80", nil, "is not a variable name"},
		{"A-B=80", nil, "is not a variable name"},
		{"A=80,A=81", nil, "A is given twice"},
		{"A=0,B=x", nil, "2 problems:\n  \"A=0\": port \"0\" is not a number from 1 to 65535\n  \"B=x\": port \"x\""},
	} {
		got, err := ParsePorts(tc.in)
		if tc.wantErr == "" {
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParsePorts(%q) = %v, %v; want %v, nil", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParsePorts(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestParseTemplates(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []Template
		wantErr string
	}{
		{"", nil, ""},
		{"/a/t:/b/o", []Template{{"/a/t", "/b/o"}}, ""},
		{" /a//t/ : /b/./o ,/c:/d", []Template{{"/a/t", "/b/o"}, {"/c", "/d"}}, ""},
		{"/a/t", nil, "is not SRC:DST"},
		{"/a:/b:/c", nil, "is not SRC:DST"},
		{"a:/b", nil, "must both be absolute"},
		{"/a:b", nil, "must both be absolute"},
		{"/a:", nil, "must both be absolute"},
		{"/etc/app /x:/y", nil, "begins or ends with a blank"},
		{"/x:/tmp/ y", nil, "begins or ends with a blank"},
		{"/a/t:/b/o,x", nil, `"x" is not SRC:DST`},
	} {
		got, err := ParseTemplates(tc.in)
		if tc.wantErr == "" {
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseTemplates(%q) = %v, %v; want %v, nil", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseTemplates(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestParseIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *IDs
	}{
		{"0", &IDs{0, -1}},
		{"1001", &IDs{1001, -1}},
		{"1000680000:0", &IDs{1000680000, 0}},
		{"4294967294:4294967294", &IDs{4294967294, 4294967294}},
		{"4294967295", nil},
		{"0:4294967295", nil},
		{"4294967296", nil},
		{"", nil},
		{":0", nil},
		{"1001:", nil},
		{"-1", nil},
		{"+1", nil},
		{"app", nil},
		{"1001:root", nil},
		{"1:2:3", nil},
		{" 1", nil},
	} {
		got, err := ParseIDs(tc.in)
		if tc.want == nil {
			if err == nil {
				t.Errorf("ParseIDs(%q) = %+v, want an error", tc.in, got)
			} else if !strings.Contains(err.Error(), "UID[:GID]") {
				t.Errorf("ParseIDs(%q) error %q does not show the form UID[:GID]", tc.in, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseIDs(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want syscall.Signal // 0: an error
	}{
		{"TERM", syscall.SIGTERM},
		{"SIGTERM", syscall.SIGTERM},
		{"sigterm", syscall.SIGTERM},
		{" term ", syscall.SIGTERM},
		{"15", syscall.SIGTERM},
		{"QUIT", syscall.SIGQUIT},
		{"usr1", syscall.SIGUSR1},
		{"WINCH", syscall.SIGWINCH},
		{"1", 1},
		{"64", 64},
		{"RTMIN", 34},
		{"RTMAX", 64},
		{"RTMIN+2", 36},
		{"SIGRTMIN+0", 34},
		{"RTMIN+30", 64},
		{"RTMAX-1", 63},
		{"sigrtmax-30", 34},
		{"0", 0},
		{"65", 0},
		{"-1", 0},
		{"RTMIN+31", 0},
		{"RTMAX-31", 0},
		{"RTMIN+x", 0},
		{"RTMIN-1", 0},
		{"", 0},
		{"SIG", 0},
		{"TERMINATE", 0},
		{"SIGSIGTERM", 0},
	} {
		got, err := ParseSignal(tc.in)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("ParseSignal(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseSignalPairs(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    map[syscall.Signal]syscall.Signal
		wantErr string
	}{
		{"", map[syscall.Signal]syscall.Signal{}, ""},
		{"TERM:QUIT", map[syscall.Signal]syscall.Signal{syscall.SIGTERM: syscall.SIGQUIT}, ""},
		{"SIGTERM:SIGQUIT, 2:RTMIN+1", map[syscall.Signal]syscall.Signal{15: 3, 2: 35}, ""},
		{"TERM:KILL", map[syscall.Signal]syscall.Signal{15: 9}, ""},
		{"KILL:TERM", nil, "SIGKILL cannot be caught"},
		{"STOP:TERM", nil, "SIGSTOP cannot be caught"},
		{"TERM:QUIT,15:INT", nil, "SIGTERM is rewritten twice"},
		{"TERM", nil, "is not FROM:TO"},
		{"TERM:BOGUS", nil, "is not a signal name"},
		{"BOGUS:TERM", nil, "is not a signal name"},
		{"TERM:0", nil, "not from 1 to 64"},
	} {
		got, err := ParseSignalPairs(tc.in)
		if tc.wantErr == "" {
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseSignalPairs(%q) = %v, %v; want %v, nil", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.in[strings.LastIndex(tc.in, ",")+1:]) {
			t.Errorf("ParseSignalPairs(%q) error = %v, want one containing %q and the item", tc.in, err, tc.wantErr)
		}
	}
}

func TestParseExitPairs(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    map[int]int
		wantErr string
	}{
		{"", map[int]int{}, ""},
		{"143:0", map[int]int{143: 0}, ""},
		{" 143 : 0 , 0:255,255:1", map[int]int{143: 0, 0: 255, 255: 1}, ""},
		{"256:0", nil, "exit statuses are 0 to 255"},
		{"0:256", nil, "exit statuses are 0 to 255"},
		{"-1:0", nil, "exit statuses are 0 to 255"},
		{"143:0,143:1", nil, "143 is remapped twice"},
		{"143", nil, "is not FROM:TO"},
		{"143:", nil, "is not FROM:TO"},
		{"a:0", nil, "is not FROM:TO"},
		{"1:2:3", nil, "is not FROM:TO"},
	} {
		got, err := ParseExitPairs(tc.in)
		if tc.wantErr == "" {
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseExitPairs(%q) = %v, %v; want %v, nil", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseExitPairs(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{",", nil},
		{" , ,", nil},
		{"a", []string{"a"}},
		{" a , b ,,c ", []string{"a", "b", "c"}},
		{"a b,c", []string{"a b", "c"}},
	} {
		if got := List(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Problems of one setting are listed below it, so that Parse shows one
// entry per setting.
func TestFlattenOneLinePerSetting(t *testing.T) {
	r := defaults()
	r.Ports = "A=0,B=0,C"
	_, err := Parse(r)
	if err == nil {
		t.Fatalf("Parse(%+v): no error", r)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "NONROOT_PORTS: 3 problems:\n") || strings.Count(msg, "\n  ") != 3 {
		t.Errorf("Parse(%+v) error %q: want the setting with its three problems listed below it", r, msg)
	}
	var target interface{ WrappedErrors() []error }
	if !errors.As(err, &target) || len(target.WrappedErrors()) != 1 {
		t.Errorf("Parse(%+v) error %#v: want a multierror with one entry", r, err)
	}
}
