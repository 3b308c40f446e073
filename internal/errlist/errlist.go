// Package errlist reports several problems as one error, in the one
// layout the whole program uses: a *multierror.Error whose ErrorFormat is
// Format. Every step imports it, so no step imports another for a joiner.
package errlist

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-multierror"
)

// Format is multierror's ErrorFormat for every list of problems. One
// problem is its own message. Several are counted, then listed one per
// line, indented; the lines of a problem that is itself a list are
// indented once more, so that a nested list stays readable.
func Format(es []error) string {
	switch len(es) {
	case 0:
		return "no problems"
	case 1:
		return es[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(es))
	for _, e := range es {
		b.WriteString("\n  ")
		b.WriteString(strings.ReplaceAll(e.Error(), "\n", "\n  "))
	}
	return b.String()
}

// OrNil returns list as one error laid out by Format, or nil when it
// holds no problem: multierror's ErrorOrNil, never a typed nil.
func OrNil(list *multierror.Error) error {
	if list == nil {
		return nil
	}
	list.ErrorFormat = Format
	return list.ErrorOrNil()
}

// Join returns the errors of errs that are not nil as one error laid out
// by Format, or nil when there are none. As with multierror.Append, the
// problems of a *multierror.Error among errs join the list one by one.
func Join(errs ...error) error {
	return OrNil(multierror.Append(nil, errs...))
}
