package render

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// bigLoop matches templates that could loop for long: an integer literal
// of four digits or more (range 1000000), or more than two ranges that
// could nest. Hostile or not, such a template ends in the render budget's
// error, but the fuzzer would spend its time waiting for it.
var bigLoop = regexp.MustCompile(`\d{4}|0[xXbBoO]|\d_\d|(?s:range.*range.*range)`)

// FuzzExecute renders arbitrary template text: it must never panic, an
// error must name the file, and the output must respect the limit.
func FuzzExecute(f *testing.F) {
	for _, s := range []string{
		`{{ env "LOG_LEVEL" | default "info" | quote }}`,
		`{{ .Env.MISSING }}`,
		`{{ port "HTTP_PORT" }} {{ port "NOPE" }}`,
		`{{ range split "," (env "LIST") }}{{ . | trim | upper }}{{ end }}`,
		`{{ define "a" }}{{ template "a" }}{{ end }}{{ template "a" }}`,
		`{{ .User.Name | toJSON }}{{ .Ports | toJSON }}{{ .Env | toJSON }}`,
		`{{ required "" "" }}`, `{{ default }}`, `{{ join }}`, `{{ quote nil }}`, `{{ toJSON nil }}`,
		`{{ join "," .User }}`, `{{ index .Env 1 }}`, `{{ slice "abc" 2 1 }}`, `{{ printf "%*d" 999 1 }}`,
		`{{ call .User }}`, `{{ .User.Name.Foo }}`, `{{ template "x" }}`, `{{ block "b" . }}{{ end }}`,
		"{{/* unterminated", "{{", "}}", "{{ $x := 1 }}{{ $x = . }}{{ $x.User }}", `{{ break }}`, `{{ range 3 }}{{ continue }}{{ end }}`,
		`{{ with $x := .Env }}{{ $x.LOG_LEVEL }}{{ end }}`, "{{ \"\\xff\" | toJSON }}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if bigLoop.MatchString(text) {
			t.Skip("could loop for long")
		}
		const limit = 1 << 20
		l := defaultLimits()
		l.output, l.budget = limit, 5*time.Second
		out, err := execute("/src/fuzz.tmpl", []byte(text), testData, l)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "/src/fuzz.tmpl") {
				t.Errorf("Execute(%q) error %q does not start with the file name", text, err)
			}
			return
		}
		if len(out) > limit {
			t.Errorf("Execute(%q) wrote %d bytes, above the limit %d", text, len(out), limit)
		}
	})
}

// FuzzFuncValues feeds arbitrary variable values through the functions:
// quote must give back a Go string literal of the value, toJSON a JSON
// string of it, and split then join the value itself.
func FuzzFuncValues(f *testing.F) {
	for _, s := range []string{"", "plain", "a,b,,c", "say \"hi\"\n", "<a&b>", "\xff\xfe", "\x00", "tab\there", "{{ .Env }}", "ünïcödé", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		data := Data{Env: map[string]string{"V": v}}
		out, err := Execute("v.tmpl", []byte(`{{ env "V" | quote }}`), data)
		if err != nil {
			t.Fatalf("quote %q: %v", v, err)
		}
		if back, err := strconv.Unquote(string(out)); err != nil || back != v {
			t.Errorf("quote %q = %s; unquoted %q, %v", v, out, back, err)
		}
		out, err = Execute("v.tmpl", []byte(`{{ env "V" | toJSON }}`), data)
		if err != nil {
			t.Fatalf("toJSON %q: %v", v, err)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil || (utf8.ValidString(v) && back != v) {
			t.Errorf("toJSON %q = %s; decoded %q, %v", v, out, back, err)
		}
		out, err = Execute("v.tmpl", []byte(`{{ env "V" | split "," | join "," }}`), data)
		if err != nil || string(out) != v {
			t.Errorf("split then join %q = %q, %v", v, out, err)
		}
	})
}
