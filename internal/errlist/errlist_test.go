package errlist

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/hashicorp/go-multierror"
)

var (
	errA = errors.New("a is wrong")
	errB = errors.New("b is wrong")
)

func TestFormat(t *testing.T) {
	nested := Join(errors.New("x"), errors.New("y"))
	tests := []struct {
		in   []error
		want string
	}{
		{nil, "no problems"},
		{[]error{errA}, "a is wrong"},
		{[]error{errA, errB}, "2 problems:\n  a is wrong\n  b is wrong"},
		{[]error{errA, fmt.Errorf("NONROOT_PORTS: %w", nested)}, "2 problems:\n  a is wrong\n  NONROOT_PORTS: 2 problems:\n    x\n    y"},
	}
	for _, tt := range tests {
		if got := Format(tt.in); got != tt.want {
			t.Errorf("Format(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestJoin(t *testing.T) {
	if err := Join(); err != nil {
		t.Errorf("Join() = %#v; want nil", err)
	}
	if err := Join(nil, nil); err != nil {
		t.Errorf("Join(nil, nil) = %#v; want nil", err)
	}
	err := Join(nil, errA, fs.ErrNotExist)
	if got, want := err.Error(), "2 problems:\n  a is wrong\n  file does not exist"; got != want {
		t.Errorf("Join(nil, a, ErrNotExist) = %q; want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, errA) {
		t.Errorf("errors.Is(%v, each joined error) = false; want true", err)
	}
	if got := Join(errA).Error(); got != "a is wrong" {
		t.Errorf("Join(a) = %q; want the problem alone", got)
	}
}

func TestOrNil(t *testing.T) {
	var none *multierror.Error
	if err := OrNil(none); err != nil {
		t.Errorf("OrNil(nil *multierror.Error) = %#v; want an untyped nil", err)
	}
	if err := OrNil(&multierror.Error{}); err != nil {
		t.Errorf("OrNil(empty) = %#v; want an untyped nil", err)
	}
	list := multierror.Append(nil, errA, errB)
	if got, want := OrNil(list).Error(), Format([]error{errA, errB}); got != want {
		t.Errorf("OrNil(a, b) = %q; want %q", got, want)
	}
}
