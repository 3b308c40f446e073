package render

import (
	"strings"
	"testing"
	"time"
)

var testData = Data{
	Env:   map[string]string{"LOG_LEVEL": "debug", "EMPTY": "", "LIST": "a,b,,c", "HTML": "<a&b>", "QUOTE": "say \"hi\"\n"},
	User:  User{Name: "default", UID: 1000680000, GID: 0, Home: "/tmp/nonroot-init/home"},
	Ports: map[string]int{"HTTP_PORT": 8080, "HTTPS_PORT": 8443},
}

func TestFuncs(t *testing.T) {
	tests := []struct {
		tmpl string
		want string
	}{
		{`{{ env "LOG_LEVEL" }}`, "debug"},
		{`{{ env "UNSET" }}`, ""},
		{`{{ env "UNSET" | default "info" }}`, "info"},
		{`{{ env "EMPTY" | default "info" }}`, "info"},
		{`{{ env "LOG_LEVEL" | default "info" }}`, "debug"},
		{`{{ default 8080 0 }}`, "8080"},
		{`{{ default "x" false }}`, "x"},
		{`{{ default "x" true }}`, "true"},
		{`{{ default "x" (split "," "") }}`, "x"},
		{`{{ default "x" .User }}`, "{default 1000680000 0 /tmp/nonroot-init/home}"},
		{`{{ default "x" nil }}`, "x"},
		{`{{ env "LOG_LEVEL" | required "set LOG_LEVEL" }}`, "debug"},
		{`{{ port "HTTP_PORT" }}`, "8080"},
		{`{{ .Ports.HTTPS_PORT }}`, "8443"},
		{`{{ range split "," (env "LIST") }}[{{ . }}]{{ end }}`, "[a][b][][c]"},
		{`{{ range split "," (env "UNSET") }}[{{ . }}]{{ end }}`, ""},
		{`{{ split "," "a,b" | join "+" }}`, "a+b"},
		{`{{ join "," (split ":" "x:y:z") }}`, "x,y,z"},
		{`{{ join "," "single" }}`, "single"},
		{`{{ join "," nil }}`, ""},
		{`{{ if contains "bug" (env "LOG_LEVEL") }}yes{{ end }}`, "yes"},
		{`{{ if env "LOG_LEVEL" | hasPrefix "de" }}yes{{ end }}`, "yes"},
		{`{{ if env "LOG_LEVEL" | hasSuffix "de" }}yes{{ else }}no{{ end }}`, "no"},
		{`{{ "MiXeD" | lower }} {{ "MiXeD" | upper }} [{{ "  x \n" | trim }}]`, "mixed MIXED [x]"},
		{`{{ env "QUOTE" | quote }}`, `"say \"hi\"\n"`},
		{`{{ 80 | quote }}`, `"80"`},
		{`{{ env "HTML" | toJSON }}`, `"<a&b>"`},
		{`{{ split "," "a,b" | toJSON }}`, `["a","b"]`},
		{`{{ .Ports | toJSON }}`, `{"HTTPS_PORT":8443,"HTTP_PORT":8080}`},
		{`{{ .User.Name }}:{{ .User.UID }}:{{ .User.GID }}:{{ .User.Home }}`, "default:1000680000:0:/tmp/nonroot-init/home"},
		{`{{ .Env.LOG_LEVEL }}`, "debug"},
		{`{{ index .Env "UNSET" }}`, ""},
	}
	for _, tt := range tests {
		got, err := Execute("t.tmpl", []byte(tt.tmpl), testData)
		if err != nil || string(got) != tt.want {
			t.Errorf("Execute(%q) = %q, %v; want %q, nil", tt.tmpl, got, err, tt.want)
		}
	}
}

func TestExecuteErrors(t *testing.T) {
	tests := []struct {
		tmpl string
		want string // the error must start with "/src/t.tmpl:" and contain this
	}{
		{"line 1\n{{ .Env.MISSING }}", `/src/t.tmpl:2:7: at <.Env.MISSING>: map has no entry for key "MISSING"`},
		{"{{ .Nope }}", `/src/t.tmpl:1:3: at <.Nope>: can't evaluate field Nope`},
		{"a\nb\n{{ if }}", "/src/t.tmpl:3: missing value for if"},
		{"{{ end }}", "/src/t.tmpl:1: unexpected {{end}}"},
		{"{{ nosuchfunc }}", `/src/t.tmpl:1: function "nosuchfunc" not defined`},
		{"{{ range .Ports }}", "/src/t.tmpl:1: unexpected EOF"},
		{`{{ env "UNSET" | required "set DATABASE_URL to the database's URL" }}`, "set DATABASE_URL to the database's URL"},
		{`{{ port "ADMIN_PORT" }}`, `at <port "ADMIN_PORT">: error calling port: the name given is not in NONROOT_PORTS (which has HTTPS_PORT, HTTP_PORT)`},
		{`{{ join "," 5 }}`, "join: int is not a list"},
		{`{{ toJSON .User.Name | lower | upper | quote | trim | default }}`, "wrong number of args"},
		{`{{ define "a" }}{{ template "a" }}{{ end }}{{ template "a" }}`, "exceeded maximum template depth"},
	}
	for _, tt := range tests {
		got, err := Execute("/src/t.tmpl", []byte(tt.tmpl), testData)
		if err == nil || !strings.HasPrefix(err.Error(), "/src/t.tmpl:") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Execute(%q) = %q, %v; want an error starting with the file and containing %q", tt.tmpl, got, err, tt.want)
		}
	}
}

func TestExecuteLimits(t *testing.T) {
	l := defaultLimits()
	l.output = 5000
	_, err := execute("big.tmpl", []byte(`{{ range 1000 }}0123456789{{ end }}`), testData, l)
	if err == nil || !strings.Contains(err.Error(), "big.tmpl: rendered output is larger than 5000 bytes") {
		t.Errorf("output above the limit: err = %v; want the limit named", err)
	}
	out, err := execute("ok.tmpl", []byte(`{{ range 100 }}0123456789{{ end }}`), testData, l)
	if err != nil || len(out) != 1000 {
		t.Errorf("output below the limit: %d bytes, %v; want 1000, nil", len(out), err)
	}
	l.budget = 200 * time.Millisecond // long enough that parsing never uses it up, even on a loaded machine
	_, err = execute("slow.tmpl", []byte(`{{ range 10000000000 }}{{ end }}`), testData, l)
	if err == nil || !strings.Contains(err.Error(), "slow.tmpl:1:9 (in a range): still rendering when the render budget of 200ms") {
		t.Errorf("endless template: err = %v; want the budget named", err)
	}
}

func TestEmpty(t *testing.T) {
	tests := []struct {
		v    any
		want bool
	}{
		{nil, true}, {"", true}, {"x", false}, {0, true}, {1, false}, {0.0, true}, {false, true}, {true, false},
		{[]string{}, true}, {[]string{""}, false}, {map[string]int{}, true}, {map[string]int{"a": 1}, false},
		{User{}, false}, {(*User)(nil), true}, {&User{}, false}, {uint8(0), true},
	}
	for _, tt := range tests {
		if got := empty(tt.v); got != tt.want {
			t.Errorf("empty(%#v) = %v; want %v", tt.v, got, tt.want)
		}
	}
}
