package config

import (
	"strings"
	"testing"
)

// The problems of one setting are listed like every other list of
// problems (errlist.Format), nested below the setting's name.
func TestErrsOneFormatNested(t *testing.T) {
	r := defaults()
	r.Ports = "A=0,B"
	r.LogFormat = "xml"
	_, err := Parse(r)
	want := "2 problems:\n" +
		"  NONROOT_PORTS: 2 problems:\n" +
		"    \"A=0\": port \"0\" is not a number from 1 to 65535\n" +
		"    \"B\" is not NAME=PORT, e.g. HTTP_PORT=80\n" +
		"  NONROOT_LOG_FORMAT: \"xml\" is not one of text, json"
	if err == nil || err.Error() != want {
		t.Errorf("Parse(PORTS=%q, LOG_FORMAT=%q) error\n got %q\nwant %q", r.Ports, r.LogFormat, err, want)
	}
	if _, err := ParseTemplates("x,y"); err == nil || !strings.HasPrefix(err.Error(), "2 problems:\n  \"x\" is not SRC:DST") {
		t.Errorf("ParseTemplates(%q) = %q; want the two problems listed", "x,y", err)
	}
}
