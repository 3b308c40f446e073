package setup

import (
	"reflect"
	"testing"
)

func TestNewEnvList(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		want    []string
	}{
		{"nil", nil, []string{}},
		{"order kept", []string{"B=2", "A=1", "C=3"}, []string{"B=2", "A=1", "C=3"}},
		{"no '=' dropped", []string{"A=1", "JUNK", "B=2"}, []string{"A=1", "B=2"}},
		{"empty key dropped", []string{"=x", "A=1"}, []string{"A=1"}},
		{"empty value kept", []string{"A=", "B=2"}, []string{"A=", "B=2"}},
		{"first of a repeated key wins", []string{"A=1", "B=2", "A=3"}, []string{"A=1", "B=2"}},
		{"'=' in value", []string{"OPTS=a=b=c"}, []string{"OPTS=a=b=c"}},
		{"empty string dropped", []string{""}, []string{}},
	} {
		if got := NewEnv(tc.environ).List(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: NewEnv(%q).List() = %q, want %q", tc.name, tc.environ, got, tc.want)
		}
	}
}

func TestEnvSetGet(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		set     [][2]string
		want    []string
	}{
		{"set keeps position", []string{"A=1", "HOME=/", "B=2"}, [][2]string{{"HOME", "/home/app"}}, []string{"A=1", "HOME=/home/app", "B=2"}},
		{"new keys appended in order", []string{"A=1"}, [][2]string{{"USER", "u"}, {"LOGNAME", "u"}}, []string{"A=1", "USER=u", "LOGNAME=u"}},
		{"set twice keeps first place and last value", []string{"A=1"}, [][2]string{{"X", "1"}, {"B", "2"}, {"X", "3"}}, []string{"A=1", "X=3", "B=2"}},
		{"set empty value", []string{"A=1"}, [][2]string{{"A", ""}}, []string{"A="}},
		{"set over a repeated key", []string{"A=1", "A=2"}, [][2]string{{"A", "3"}}, []string{"A=3"}},
	} {
		e := NewEnv(tc.environ)
		for _, kv := range tc.set {
			e.Set(kv[0], kv[1])
		}
		if got := e.List(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: NewEnv(%q) then Set %q: List() = %q, want %q", tc.name, tc.environ, tc.set, got, tc.want)
		}
		// List round-trips through NewEnv.
		if got := NewEnv(e.List()).List(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: NewEnv(List()).List() = %q, want %q", tc.name, got, tc.want)
		}
		last := tc.set[len(tc.set)-1]
		if v, ok := e.Get(last[0]); !ok || v != last[1] {
			t.Errorf("%s: Get(%q) = %q, %v; want %q, true", tc.name, last[0], v, ok, last[1])
		}
	}
}

func TestEnvGet(t *testing.T) {
	e := NewEnv([]string{"PATH=/usr/bin", "EMPTY=", "PATH=/evil", "NOEQ"})
	for _, tc := range []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"PATH", "/usr/bin", true},
		{"EMPTY", "", true},
		{"NOEQ", "", false},
		{"MISSING", "", false},
		{"path", "", false},
	} {
		if v, ok := e.Get(tc.key); v != tc.want || ok != tc.wantOK {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tc.key, v, ok, tc.want, tc.wantOK)
		}
	}
}
