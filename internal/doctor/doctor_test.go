package doctor

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sections []Section
		wantOK   bool
	}{
		{"no section", nil, true},
		{"facts only", []Section{{Name: "a", Facts: []Fact{{"uid", "1"}}}}, true},
		{"notes only", []Section{{Name: "a", Notes: []string{"n"}}}, true},
		{"one problem", []Section{{Name: "a"}, {Name: "b", Problems: []Problem{{What: "w"}}}}, false},
		{"empty non-nil problems", []Section{{Name: "a", Problems: []Problem{}}}, true},
	} {
		r := New(tc.sections...)
		if r.OK != tc.wantOK {
			t.Errorf("%s: New(%+v).OK = %v, want %v", tc.name, tc.sections, r.OK, tc.wantOK)
		}
		if len(r.Sections) != len(tc.sections) {
			t.Errorf("%s: New kept %d sections, want %d", tc.name, len(r.Sections), len(tc.sections))
		}
		for i, s := range r.Sections {
			if s.Facts == nil || s.Problems == nil {
				t.Errorf("%s: section %d: Facts %#v, Problems %#v; want non-nil slices", tc.name, i, s.Facts, s.Problems)
			}
		}
	}
}

func TestSectionAddProblem(t *testing.T) {
	var s Section
	s.Add("uid", "%d", 1000680000)
	s.Add("name", "%s (%s)", "default", "generated")
	s.Problem("/data is not writable", "chmod g+w /data")
	want := Section{
		Facts:    []Fact{{"uid", "1000680000"}, {"name", "default (generated)"}},
		Problems: []Problem{{What: "/data is not writable", Fix: "chmod g+w /data"}},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("after Add and Problem\n got %+v\nwant %+v", s, want)
	}
}

func sample() Report {
	id := Section{Name: "identity"}
	id.Add("uid", "%d", 1000680000)
	id.Add("passwd entry", "%s", "none")
	id.Notes = []string{"HOME is /tmp"}
	id.Problem("no passwd entry for uid 1000680000", "set NONROOT_PASSWD=auto")
	vol := Section{Name: "volumes"}
	vol.Problem("/data is on a read-only filesystem", "")
	return New(id, vol, Section{Name: "ports"})
}

func TestWriteText(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Report
		want string
	}{
		{"problems", sample(), `== identity
  uid:           1000680000
  passwd entry:  none
  note: HOME is /tmp
  PROBLEM: no passwd entry for uid 1000680000
    fix: set NONROOT_PASSWD=auto

== volumes
  PROBLEM: /data is on a read-only filesystem

== ports

2 problem(s) found
`},
		{"clean", New(Section{Name: "ports", Facts: []Fact{{"HTTP_PORT", "80"}}}), `== ports
  HTTP_PORT:  80

no problem found
`},
		{"empty", New(), "no problem found\n"},
	} {
		var b bytes.Buffer
		if err := tc.r.WriteText(&b); err != nil {
			t.Fatalf("%s: WriteText: %v", tc.name, err)
		}
		if got := b.String(); got != tc.want {
			t.Errorf("%s: WriteText\n got:\n%s\nwant:\n%s", tc.name, got, tc.want)
		}
	}
}

// TestWriteJSON: every section's problems and notes are in the top-level
// lists, each naming its section; a problem without a separate fix has
// fix null; there is no "sections" key (the text's shape).
func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteJSON(&b); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	out := b.String()
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("WriteJSON wrote invalid JSON: %v\n%s", err, out)
	}
	if got["ok"] != false || got["schema"] != float64(Schema) {
		t.Errorf("ok = %v, schema = %v; want false and %d", got["ok"], got["schema"], Schema)
	}
	wantProblems := []any{
		map[string]any{"section": "identity", "message": "no passwd entry for uid 1000680000", "fix": "set NONROOT_PASSWD=auto"},
		map[string]any{"section": "volumes", "message": "/data is on a read-only filesystem", "fix": nil},
	}
	if !reflect.DeepEqual(got["problems"], wantProblems) {
		t.Errorf("problems = %#v; want %#v", got["problems"], wantProblems)
	}
	if want := []any{map[string]any{"section": "identity", "message": "HOME is /tmp"}}; !reflect.DeepEqual(got["notes"], want) {
		t.Errorf("notes = %#v; want %#v", got["notes"], want)
	}
	if _, ok := got["sections"]; ok {
		t.Errorf("JSON has the text's sections:\n%s", out)
	}
	if !strings.HasPrefix(out, "{\n  \"schema\": 1,") || !strings.HasSuffix(out, "}\n") {
		t.Errorf("JSON not indented as expected:\n%s", out)
	}
}

func TestWriteJSONClean(t *testing.T) {
	var b bytes.Buffer
	if err := New().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		OK       bool  `json:"ok"`
		Problems []any `json:"problems"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || !got.OK || got.Problems == nil || len(got.Problems) != 0 {
		t.Errorf("New().WriteJSON = %s (%v), want ok true and problems []", b.String(), err)
	}
}
