package config

import "testing"

// Every mode setting parses to its typed constant, so that callers in
// other packages compare constants, never strings.
func TestModesTyped(t *testing.T) {
	c, err := Parse(defaults())
	if err != nil {
		t.Fatalf("Parse(defaults()): %v", err)
	}
	var (
		passwd    PasswdMode    = c.Passwd
		check     CheckMode     = c.VolumeCheck
		subreaper SubreaperMode = c.Subreaper
		format    LogFormat     = c.LogFormat
	)
	if passwd != PasswdAuto || check != CheckStrict || subreaper != SubreaperAuto || format != LogText {
		t.Errorf("Parse(defaults()) modes = %q, %q, %q, %q; want %q, %q, %q, %q",
			passwd, check, subreaper, format, PasswdAuto, CheckStrict, SubreaperAuto, LogText)
	}
	for _, tc := range []struct {
		raw  string
		set  func(*Raw, string)
		get  func(*Config) string
		want []string
	}{
		{"PASSWD", func(r *Raw, v string) { r.Passwd = v }, func(c *Config) string { return string(c.Passwd) },
			[]string{string(PasswdAuto), string(PasswdNSSWrapper), string(PasswdEtcPasswd), string(PasswdOff)}},
		{"VOLUME_CHECK", func(r *Raw, v string) { r.VolumeCheck = v }, func(c *Config) string { return string(c.VolumeCheck) },
			[]string{string(CheckStrict), string(CheckWarn), string(CheckOff)}},
		{"SUBREAPER", func(r *Raw, v string) { r.Subreaper = v }, func(c *Config) string { return string(c.Subreaper) },
			[]string{string(SubreaperAuto), string(SubreaperOn), string(SubreaperOff)}},
		{"LOG_FORMAT", func(r *Raw, v string) { r.LogFormat = v }, func(c *Config) string { return string(c.LogFormat) },
			[]string{string(LogText), string(LogJSON)}},
	} {
		for _, v := range tc.want {
			r := defaults()
			tc.set(&r, v)
			c, err := Parse(r)
			if err != nil || tc.get(c) != v {
				t.Errorf("Parse(NONROOT_%s=%q) = %v; want %q", tc.raw, v, err, v)
			}
		}
	}
}
