// Package doctor is `nonroot-init doctor`: setup's steps in check-only
// mode, reported as text for people or JSON for machines. Each step
// package gathers its facts and plans as it does for setup (identity,
// privileges, volumes, ports, render); doctor calls the same functions,
// never re-derives a rule, and only reports. The process facts (PID 1,
// signal dispositions, seccomp, read-only root, cgroup memory limit) are
// doctor's own, since no step acts on them.
package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Fact is one observation of the text report, such as "uid: 1000680000".
type Fact struct {
	Name  string
	Value string
}

// Problem is something that will break COMMAND, with the fix that applies
// ("" when the message already says it).
type Problem struct {
	What string
	Fix  string
}

// Section is one part of the text report: identity, volumes, ports, ...
// The JSON report holds the same facts typed (see schema.go).
type Section struct {
	Name     string
	Facts    []Fact
	Problems []Problem
	Notes    []string
}

// Add appends a fact.
func (s *Section) Add(name, format string, args ...any) {
	s.Facts = append(s.Facts, Fact{Name: name, Value: fmt.Sprintf(format, args...)})
}

// Problem appends a problem and its fix.
func (s *Section) Problem(what, fix string) {
	s.Problems = append(s.Problems, Problem{What: what, Fix: fix})
}

// Report is the whole doctor report: the JSON object of SPEC.md's
// "doctor --json", and the sections of the text report.
type Report struct {
	Schema  int    `json:"schema"`
	Version string `json:"version"`
	// OK is true when no section has a problem.
	OK       bool              `json:"ok"`
	Problems []ReportedProblem `json:"problems"`
	Notes    []Note            `json:"notes"`

	Identity *Identity `json:"identity"`
	// VolumeCheck is NONROOT_VOLUME_CHECK, which decides whether a
	// volume that is not writable is a problem.
	VolumeCheck string     `json:"volume_check"`
	Volumes     []Volume   `json:"volumes"`
	Ports       *Ports     `json:"ports"`
	Secrets     []Secret   `json:"secrets"`
	Templates   []Template `json:"templates"`
	Wait        *Wait      `json:"wait"`
	Hooks       *Hooks     `json:"hooks"`
	Reload      *Reload    `json:"reload"`
	Process     *Process   `json:"process"`

	// Sections are the text report, in order.
	Sections []Section `json:"-"`
}

// New builds a report from sections: every problem and note also goes to
// the top-level lists, and OK is true when there is no problem. The
// typed sections are the caller's to fill.
func New(sections ...Section) Report {
	r := Report{Schema: Schema, Sections: sections, OK: true, Problems: []ReportedProblem{}, Notes: []Note{}}
	for i := range r.Sections {
		s := &r.Sections[i]
		if s.Facts == nil {
			s.Facts = []Fact{}
		}
		if s.Problems == nil {
			s.Problems = []Problem{}
		}
		for _, p := range s.Problems {
			r.Problems = append(r.Problems, ReportedProblem{Section: s.Name, Message: p.What, Fix: optional(p.Fix)})
		}
		for _, n := range s.Notes {
			r.Notes = append(r.Notes, Note{Section: s.Name, Message: n})
		}
	}
	r.OK = len(r.Problems) == 0
	return r
}

// WriteJSON writes the report as one indented JSON object. Nothing is
// HTML-escaped: messages keep their < > and &.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteText writes the report for people: each section's facts, then its
// problems with their fixes, then a one-line verdict.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	problems := 0
	for _, s := range r.Sections {
		fmt.Fprintf(&b, "== %s\n", s.Name)
		width := 0
		for _, f := range s.Facts {
			width = max(width, len(f.Name)+1)
		}
		for _, f := range s.Facts {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, f.Name+":", hang(f.Value, 2+width+2))
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "  note: %s\n", hang(n, len("  note: ")))
		}
		for _, p := range s.Problems {
			problems++
			fmt.Fprintf(&b, "  PROBLEM: %s\n", hang(p.What, len("  PROBLEM: ")))
			if p.Fix != "" {
				fmt.Fprintf(&b, "    fix: %s\n", hang(p.Fix, len("    fix: ")))
			}
		}
		b.WriteString("\n")
	}
	if problems == 0 {
		b.WriteString("no problem found\n")
	} else {
		fmt.Fprintf(&b, "%d problem(s) found\n", problems)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// hang indents the lines after the first of s by n spaces, so that a
// value of several lines (a list of problems) stays below its label.
func hang(s string, n int) string {
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", n))
}
