package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/nonroot-init/nonroot-init/internal/fsx"
	"github.com/nonroot-init/nonroot-init/internal/secrets"
)

// Funcs returns the template functions of SPEC.md, bound to data. The
// argument order is Helm's and sprig's: the value a pipeline passes comes
// last, so `{{ env "LOG_LEVEL" | default "info" | quote }}` reads left to
// right.
func Funcs(data Data) template.FuncMap {
	return template.FuncMap{
		// env NAME: COMMAND's variable NAME, empty when unset.
		"env": func(name string) string { return data.Env[name] },
		// default DEFAULT VALUE: VALUE unless it is empty.
		"default": func(def, v any) any {
			if empty(v) {
				return def
			}
			return v
		},
		// required MESSAGE VALUE: VALUE, or an error with MESSAGE when empty.
		"required": func(msg string, v any) (any, error) {
			if empty(v) {
				return nil, errors.New(msg)
			}
			return v, nil
		},
		// port NAME: the resolved port of NAME in NONROOT_PORTS.
		"port": func(name string) (int, error) {
			p, ok := data.Ports[name]
			if !ok {
				// The name is not echoed: a value piped into port
				// (a secret) would come back in the message. The
				// template's file:line:column says which call.
				return 0, plainError{fmt.Errorf("the name given is not in NONROOT_PORTS (%s)", portNames(data.Ports))}
			}
			return p, nil
		},
		"split":     split,
		"join":      join,
		"contains":  func(substr, s string) bool { return strings.Contains(s, substr) },
		"hasPrefix": func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
		"hasSuffix": func(suffix, s string) bool { return strings.HasSuffix(s, suffix) },
		"lower":     strings.ToLower,
		"upper":     strings.ToUpper,
		"trim":      strings.TrimSpace,
		// quote VALUE: VALUE as a Go double-quoted string (%q).
		"quote":  func(v any) string { return strconv.Quote(toString(v)) },
		"toJSON": toJSON,
		// file PATH: the contents of the file at PATH, as they are.
		"file": readFile,
	}
}

// MaxFuncFile is the largest file the function file reads, the limit of
// a NONROOT_FILE_ENV file: it is for secrets and small values; a large
// file is copied, not read into a template.
const MaxFuncFile = secrets.MaxSize

// readFile is the function file PATH: the contents of the file at PATH
// (a mounted Secret's key), through symbolic links, with the bounded
// reader of NONROOT_FILE_ENV (a regular file of at most MaxFuncFile; a
// named pipe is refused, never waited on). Trailing newlines are kept:
// `file PATH | trim` drops them. PATH must be absolute: the init's
// working directory is not something a template should depend on. An
// error names PATH and the fix, never what was read.
func readFile(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("file %q: not an absolute path; name the file from /", path)
	}
	b, err := fsx.ReadFileLimit(path, MaxFuncFile)
	if err != nil {
		return "", fmt.Errorf("file %s: %s", path, secrets.Why(path, err))
	}
	return string(b), nil
}

func portNames(ports map[string]int) string {
	if len(ports) == 0 {
		return "which is empty"
	}
	names := make([]string, 0, len(ports))
	for n := range ports {
		names = append(names, n)
	}
	slices.Sort(names)
	return "which has " + strings.Join(names, ", ")
}

// split SEP STRING is strings.Split, except that an empty STRING gives an
// empty list rather than a list of one empty item, so that ranging over
// an unset variable's items does nothing.
func split(sep, s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, sep)
}

// join SEP LIST joins the items of any list (the result of split, a
// []any from toJSON's input, ...), each formatted as by print.
func join(sep string, list any) (string, error) {
	if list == nil {
		return "", nil
	}
	if s, ok := list.(string); ok {
		return s, nil
	}
	v := reflect.ValueOf(list)
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return "", fmt.Errorf("join: %T is not a list", list)
	}
	parts := make([]string, v.Len())
	for i := range parts {
		parts[i] = toString(v.Index(i).Interface())
	}
	return strings.Join(parts, sep), nil
}

func toString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// toJSON VALUE is VALUE as compact JSON. '<', '>' and '&' are kept as
// they are: the output goes into configuration files, not HTML.
func toJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("toJSON: %w", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// empty is sprig's notion of an empty value: nil, false, zero, and a
// string, list or map of length zero. A struct is never empty.
func empty(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return r.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return r.IsNil()
	case reflect.Struct:
		return false
	}
	return r.IsZero()
}
