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
	if got["ok"] != false {
		t.Errorf("ok = %v, want false", got["ok"])
	}
	sections, _ := got["sections"].([]any)
	if len(sections) != 3 {
		t.Fatalf("sections = %v, want 3", got["sections"])
	}
	id := sections[0].(map[string]any)
	if id["name"] != "identity" {
		t.Errorf("sections[0].name = %v, want identity", id["name"])
	}
	facts, _ := id["facts"].([]any)
	if len(facts) != 2 || !reflect.DeepEqual(facts[0], map[string]any{"name": "uid", "value": "1000680000"}) {
		t.Errorf("sections[0].facts = %v", id["facts"])
	}
	problems, _ := id["problems"].([]any)
	if len(problems) != 1 || !reflect.DeepEqual(problems[0], map[string]any{"what": "no passwd entry for uid 1000680000", "fix": "set NONROOT_PASSWD=auto"}) {
		t.Errorf("sections[0].problems = %v", id["problems"])
	}
	if !reflect.DeepEqual(id["notes"], []any{"HOME is /tmp"}) {
		t.Errorf("sections[0].notes = %v", id["notes"])
	}
	vol := sections[1].(map[string]any)
	if p := vol["problems"].([]any)[0].(map[string]any); len(p) != 1 || p["what"] == nil {
		t.Errorf("a problem without fix = %v, want only \"what\" (fix omitted)", p)
	}
	// Empty lists are [] for machines, never null; notes are omitted.
	ports := sections[2].(map[string]any)
	for _, k := range []string{"facts", "problems"} {
		if v, ok := ports[k].([]any); !ok || len(v) != 0 {
			t.Errorf("ports.%s = %#v, want []", k, ports[k])
		}
	}
	if _, ok := ports["notes"]; ok {
		t.Errorf("ports.notes present (%v), want it omitted when empty", ports["notes"])
	}
	if strings.Contains(out, "null") {
		t.Errorf("JSON contains null:\n%s", out)
	}
	if !strings.HasPrefix(out, "{\n  \"sections\": [") || !strings.HasSuffix(out, "}\n") {
		t.Errorf("JSON not indented as expected:\n%s", out)
	}
}

func TestWriteJSONClean(t *testing.T) {
	var b bytes.Buffer
	if err := New().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	// New() with no section keeps a nil Sections: it is encoded as null.
	var got struct {
		OK bool `json:"ok"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || !got.OK {
		t.Errorf("New().WriteJSON = %s (%v), want ok true", b.String(), err)
	}
}
