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

// Fact is one observation, such as "uid: 1000680000".
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Problem is something that will break COMMAND, with the fix that applies.
type Problem struct {
	What string `json:"what"`
	Fix  string `json:"fix,omitempty"`
}

// Section is one part of the report: identity, volumes, ports, ...
type Section struct {
	Name     string    `json:"name"`
	Facts    []Fact    `json:"facts"`
	Problems []Problem `json:"problems"`
	Notes    []string  `json:"notes,omitempty"`
}

// Add appends a fact.
func (s *Section) Add(name, format string, args ...any) {
	s.Facts = append(s.Facts, Fact{Name: name, Value: fmt.Sprintf(format, args...)})
}

// Problem appends a problem and its fix.
func (s *Section) Problem(what, fix string) {
	s.Problems = append(s.Problems, Problem{What: what, Fix: fix})
}

// Report is the whole doctor report.
type Report struct {
	Sections []Section `json:"sections"`
	OK       bool      `json:"ok"`
}

// New builds a report from sections; OK is true when none has a problem.
func New(sections ...Section) Report {
	r := Report{Sections: sections, OK: true}
	for i := range r.Sections {
		if r.Sections[i].Facts == nil {
			r.Sections[i].Facts = []Fact{}
		}
		if r.Sections[i].Problems == nil {
			r.Sections[i].Problems = []Problem{}
		}
		if len(r.Sections[i].Problems) > 0 {
			r.OK = false
		}
	}
	return r
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
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
			fmt.Fprintf(&b, "  %-*s  %s\n", width, f.Name+":", f.Value)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
		for _, p := range s.Problems {
			problems++
			fmt.Fprintf(&b, "  PROBLEM: %s\n", p.What)
			if p.Fix != "" {
				fmt.Fprintf(&b, "    fix: %s\n", p.Fix)
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
