package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"

	"github.com/nonroot-init/nonroot-init/internal/secrets"
)

// The limits of the templates step. Templates and ConfigMaps are trusted
// input from the image or the pod spec, but a mistake (a range over a
// large number, a template that calls itself, a database file dropped
// into SRC) must end in an error naming the file, not in an init that
// hangs, or is killed for its memory, before COMMAND starts. Everything
// is held in memory until every file is ready (nothing is written while
// anything fails), so the limits are also what the step may take.
const (
	// MaxFileSize is the largest source, copied file or template.
	MaxFileSize = 64 << 20
	// MaxOutput is the largest output of one template. It also bounds
	// any one value a template function makes.
	MaxOutput = 64 << 20
	// MaxTotal bounds every source read and every output together, and
	// separately everything the template functions make.
	MaxTotal = 256 << 20
	// Budget is how long rendering all the templates may take together.
	Budget = 10 * time.Second
)

// stopGrace is how long Render waits, once the budget is over, for the
// templates still running to notice it and stop.
const stopGrace = time.Second

// limits are the bounds of one Render, the constants above unless a test
// sets smaller ones.
type limits struct {
	fileSize int64
	output   int
	total    int64
	budget   time.Duration
}

func defaultLimits() limits {
	return limits{fileSize: MaxFileSize, output: MaxOutput, total: MaxTotal, budget: Budget}
}

// session is one Render: the budget's context, shared by every template,
// and the bytes held and made so far.
type session struct {
	ctx    context.Context
	limits limits
	held   atomic.Int64 // sources read and outputs rendered
	made   atomic.Int64 // results of template functions

	// read is what the function file returned, kept out of every
	// error of the session (an error echoing it, required's message
	// for one, has its detail withheld). Templates run at once.
	mu   sync.Mutex
	read secrets.Redactor
}

// readFile is the function file, remembering what it read.
func (s *session) readFile(path string) (string, error) {
	v, err := readFile(path)
	if err == nil {
		s.mu.Lock()
		s.read.Add(v, "contents of "+path)
		s.mu.Unlock()
	}
	return v, err
}

// scrub is err without anything the function file read.
func (s *session) scrub(err error) error {
	if err == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.read.Empty() {
		return err
	}
	return errors.New(s.read.String(err.Error()))
}

// errBudget stops a template once the budget is over; Render reports the
// template with budgetError instead.
var errBudget = errors.New("the render budget ran out")

// hold counts n more bytes kept in memory against the total.
func (s *session) hold(n int64) error {
	if s.held.Add(n) > s.limits.total {
		return fmt.Errorf("above the limit of %s for all of NONROOT_TEMPLATES together; copy large files at build time or mount them where COMMAND reads them", size(s.limits.total))
	}
	return nil
}

// size is n bytes as the README states limits: 64 MiB, or 1200 bytes.
func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// job is one template to execute.
type job struct {
	name string
	text []byte
	at   atomic.Pointer[string] // the last checkpoint it passed
	// Set by the job's goroutine before done is closed; read after.
	out    []byte
	err    error
	inTime bool // it ended before the budget was over
	done   chan struct{}
	late   error // set by executeAll when it ran past the budget
	// usedFile is set once the template calls file, whatever it does
	// with the contents: its output is then treated as secret.
	usedFile atomic.Bool
	// seesEnv: the run has NONROOT_FILE_ENV values and the template may
	// read the environment (readsEnv), so its output is treated as
	// secret too. Set by execute after the parse.
	seesEnv bool
	// readSecret is set once a call of file returned contents.
	readSecret atomic.Bool
}

// seesSecrets reports whether the template could see a secret value:
// the detail of its execution errors is then withheld (see plainError).
func (j *job) seesSecrets() bool { return j.seesEnv || j.readSecret.Load() }

// plainError is an error of the init's own template functions whose
// text never holds a value of the data (port's, the limits'): it is
// shown whole, even in a template that sees secret values.
type plainError struct{ error }

func (e plainError) Unwrap() error { return e.error }

// executeAll runs the jobs concurrently under the session's budget, so
// that a runaway template cannot make a healthy one after it miss the
// budget. It returns once every job is done, or soon after the budget is
// over, with an error for each job that was still running then, naming
// where it was.
func (s *session) executeAll(jobs []*job, data Data) {
	for _, j := range jobs {
		j.done = make(chan struct{})
		go func() {
			defer close(j.done)
			j.out, j.err = s.execute(j, data)
			j.inTime = s.ctx.Err() == nil
		}()
	}
	for _, j := range jobs {
		select {
		case <-j.done:
		case <-s.ctx.Done():
		}
	}
	if s.ctx.Err() == nil {
		return
	}
	// Each template checks the budget at every range iteration, template
	// call, function call and write, so it stops within one step.
	// text/template cannot be stopped from outside: one that does not
	// stop is named, and the init exits right after.
	grace, cancel := context.WithTimeout(context.Background(), stopGrace)
	defer cancel()
	for _, j := range jobs {
		select {
		case <-j.done:
		case <-grace.Done():
		}
		stuck := true
		select {
		case <-j.done: // checked again: both may be ready
			stuck = false
			if j.err == nil || j.inTime {
				continue
			}
		default:
		}
		where := j.name
		if at := j.at.Load(); at != nil {
			where = *at
		}
		j.late = budgetError(where, s.limits.budget, stuck)
	}
}

// result is what the job made, once executeAll returned. A job still
// running keeps its goroutine's fields to itself.
func (j *job) result() ([]byte, error) {
	if j.late != nil {
		return nil, j.late
	}
	return j.out, j.err
}

// result is the job's result, its error without what file read.
func (s *session) result(j *job) ([]byte, error) {
	out, err := j.result()
	return out, s.scrub(err)
}

func budgetError(where string, budget time.Duration, stuck bool) error {
	msg := fmt.Sprintf("%s: still rendering when the render budget of %v for all of NONROOT_TEMPLATES ran out; look for a range over a large number or a template that calls itself", where, budget)
	if stuck {
		msg += " (and it did not stop)"
	}
	return errors.New(msg)
}

// checkpointFunc is the function Render puts at the start of every range
// body and every template body. A user may call it too; it does nothing
// but check the budget.
const checkpointFunc = "_nonroot_init_checkpoint"

// execute parses and runs one template with missingkey=error and the
// functions of Funcs, each bounded by the session.
func (s *session) execute(j *job, data Data) ([]byte, error) {
	var places []string
	base := Funcs(data)
	base["file"] = func(path string) (string, error) {
		j.usedFile.Store(true)
		v, err := s.readFile(path)
		if err == nil {
			j.readSecret.Store(true)
		}
		return v, err
	}
	funcs := s.guard(base)
	funcs[checkpointFunc] = func(i int) (string, error) {
		if i >= 0 && i < len(places) {
			j.at.Store(&places[i])
		}
		if s.ctx.Err() != nil {
			return "", errBudget
		}
		return "", nil
	}
	t, err := template.New(j.name).Option("missingkey=error").Funcs(funcs).Parse(string(j.text))
	if err != nil {
		return nil, templateError(j.name, err)
	}
	j.seesEnv = len(data.Secrets) > 0 && readsEnv(t)
	if places, err = instrument(t, funcs); err != nil {
		return nil, fmt.Errorf("%s: %w", j.name, err)
	}
	out := &boundedWriter{s: s, name: j.name}
	if err := t.Execute(out, data); err != nil {
		terr := templateError(j.name, err)
		// A function's error (required's message, an index out of
		// range) can show a value in whatever form the template made
		// of it; the budget's and the writer's errors show none.
		var ee template.ExecError
		var plain plainError
		if j.seesSecrets() && errors.As(err, &ee) && !errors.Is(err, errBudget) && !errors.As(err, &plain) {
			return nil, errors.New(withhold(j.name, terr.Error()))
		}
		return nil, terr
	}
	return out.b.Bytes(), nil
}

// instrument puts a call of the checkpoint at the start of every range
// body and of every template's body. These are the only places where
// text/template loops, apart from writing (boundedWriter) and calling
// functions (guard): a range iterates, and a template that calls itself
// recurses (text/template stops at a depth of 100000, but two calls of
// itself per level take 2^depth steps). It returns the place each
// checkpoint stands for, "file:line:column (in ...)".
func instrument(t *template.Template, funcs template.FuncMap) ([]string, error) {
	var places []string
	checkpoint := func(tree *parse.Tree, n parse.Node, what string) (parse.Node, error) {
		loc, _ := tree.ErrorContext(n)
		places = append(places, loc+" ("+what+")")
		call := fmt.Sprintf("{{%s %d}}", checkpointFunc, len(places)-1)
		snippet, err := template.New("checkpoint").Funcs(funcs).Parse(call)
		if err != nil {
			return nil, err
		}
		return snippet.Tree.Root.Nodes[0], nil
	}
	var walk func(tree *parse.Tree, list *parse.ListNode) error
	walk = func(tree *parse.Tree, list *parse.ListNode) error {
		if list == nil {
			return nil
		}
		for _, n := range list.Nodes {
			var branch *parse.BranchNode
			switch n := n.(type) {
			case *parse.IfNode:
				branch = &n.BranchNode
			case *parse.WithNode:
				branch = &n.BranchNode
			case *parse.RangeNode:
				branch = &n.BranchNode
				if err := walk(tree, branch.List); err != nil {
					return err
				}
				if err := walk(tree, branch.ElseList); err != nil {
					return err
				}
				c, err := checkpoint(tree, n, "in a range")
				if err != nil {
					return err
				}
				branch.List.Nodes = append([]parse.Node{c}, branch.List.Nodes...)
				continue
			default:
				continue
			}
			if err := walk(tree, branch.List); err != nil {
				return err
			}
			if err := walk(tree, branch.ElseList); err != nil {
				return err
			}
		}
		return nil
	}
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Tree.Root == nil {
			continue
		}
		if err := walk(tt.Tree, tt.Tree.Root); err != nil {
			return nil, err
		}
		c, err := checkpoint(tt.Tree, tt.Tree.Root, fmt.Sprintf("in template %q", tt.Name()))
		if err != nil {
			return nil, err
		}
		tt.Tree.Root.Nodes = append([]parse.Node{c}, tt.Tree.Root.Nodes...)
	}
	return places, nil
}

// boundedWriter holds a template's output. It fails the write that would
// take it past the output limit or the total, and every write once the
// budget is over, which stops the template's execution.
type boundedWriter struct {
	s    *session
	name string
	b    bytes.Buffer
}

func (w *boundedWriter) Write(p []byte) (int, error) {
	if w.s.ctx.Err() != nil {
		return 0, errBudget
	}
	if w.b.Len()+len(p) > w.s.limits.output {
		return 0, fmt.Errorf("%s: rendered output is larger than %d bytes, the limit for one file", w.name, w.s.limits.output)
	}
	if err := w.s.hold(int64(len(p))); err != nil {
		return 0, fmt.Errorf("%s: rendered output: %w", w.name, err)
	}
	return w.b.Write(p)
}

// overrides are text/template's builtins that make values, given again
// (the same functions) so that guard bounds them too.
var overrides = map[string]any{
	"print":    fmt.Sprint,
	"printf":   fmt.Sprintf,
	"println":  fmt.Sprintln,
	"html":     template.HTMLEscaper,
	"js":       template.JSEscaper,
	"urlquery": template.URLQueryEscaper,
}

// growth is how many times the size of its arguments a function's result
// can be, at most: an escape or a quote turns one byte into several.
var growth = map[string]int64{
	"html": 5, "js": 6, "urlquery": 3, "quote": 4, "toJSON": 6, "upper": 3, "lower": 3,
}

// passThrough are the functions whose result is a value that exists
// already (an argument, or the data's): nothing new to count.
var passThrough = map[string]bool{"default": true, "required": true, "env": true, "port": true}

// guard wraps every function (and the builtins that make values) so that
// a call checks the budget first, refuses to make a value above the
// output limit (estimated from its arguments before it is made), and
// counts what it made against the total. A template that grows a value
// in a loop or a recursion without any output is stopped that way, at
// a bounded size. A wrapped function without an error result reports by
// panicking, which text/template turns into the call's error.
func (s *session) guard(funcs template.FuncMap) template.FuncMap {
	out := template.FuncMap{}
	for name, fn := range overrides {
		funcs[name] = fn
	}
	for name, fn := range funcs {
		v := reflect.ValueOf(fn)
		typ := v.Type()
		hasErr := typ.NumOut() == 2
		fail := func(err error) []reflect.Value {
			if !hasErr {
				panic(err)
			}
			return []reflect.Value{reflect.Zero(typ.Out(0)), reflect.ValueOf(&err).Elem()}
		}
		out[name] = reflect.MakeFunc(typ, func(args []reflect.Value) []reflect.Value {
			if s.ctx.Err() != nil {
				return fail(errBudget)
			}
			if est := estimate(name, args); est > int64(s.limits.output) {
				return fail(plainError{fmt.Errorf("its result would be about %d bytes, above the limit of %s for one value", est, size(int64(s.limits.output)))})
			}
			var res []reflect.Value
			if typ.IsVariadic() {
				res = v.CallSlice(args)
			} else {
				res = v.Call(args)
			}
			if passThrough[name] {
				return res
			}
			n := sizeOf(res[0])
			if n > int64(s.limits.output) {
				return fail(plainError{fmt.Errorf("its result is %d bytes, above the limit of %s for one value", n, size(int64(s.limits.output)))})
			}
			if s.made.Add(n) > s.limits.total {
				return fail(plainError{fmt.Errorf("the template functions together made more than %s, the limit (a value that keeps growing?)", size(s.limits.total))})
			}
			return res
		}).Interface()
	}
	return out
}

// estimate is about the largest result the call could make, from its
// arguments, for the functions whose result can be much larger than any
// one argument; 0 for the others (their result is counted once made).
func estimate(name string, args []reflect.Value) int64 {
	var in int64
	for _, a := range args {
		in += sizeOf(a)
	}
	switch name {
	case "print", "println":
		return in + int64(len(args))
	case "printf":
		if len(args) == 0 || args[0].Kind() != reflect.String {
			return in
		}
		format := args[0].String()
		var rest int64
		for _, a := range args[1].Interface().([]any) {
			rest = max(rest, sizeOf(reflect.ValueOf(a)))
		}
		// Each verb may print the largest argument (%[1]s repeats one)
		// padded to its width; fmt refuses widths above 1e6.
		verbs := int64(strings.Count(format, "%"))
		return int64(len(format)) + verbs*rest + widths(format)
	case "join":
		if len(args) != 2 {
			return 0
		}
		sep := sizeOf(args[0])
		list := args[1]
		for list.Kind() == reflect.Interface && !list.IsNil() {
			list = list.Elem()
		}
		if list.Kind() == reflect.Slice || list.Kind() == reflect.Array {
			return in + sep*int64(list.Len())
		}
		return in
	case "split":
		// One string header (16 bytes) per item, which split makes
		// before anything can count them.
		if len(args) != 2 || args[0].Kind() != reflect.String || args[1].Kind() != reflect.String {
			return 0
		}
		sep, s := args[0].String(), args[1].String()
		items := int64(strings.Count(s, sep)) + 1
		if sep == "" {
			items = int64(utf8.RuneCountInString(s))
		}
		return int64(len(s)) + 16*items
	}
	if g, ok := growth[name]; ok {
		return in * g
	}
	return 0
}

// widths is the sum of the widths and precisions written in a format
// (%*d counts as fmt's largest, 1e6).
func widths(format string) int64 {
	var sum int64
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("+-# 0.[]123456789*", format[j]) >= 0 {
			j++
		}
		spec := format[i+1 : j]
		sum += int64(strings.Count(spec, "*")) * 1e6
		for _, f := range strings.FieldsFunc(spec, func(r rune) bool { return r < '0' || r > '9' }) {
			if n, err := strconv.ParseInt(f, 10, 64); err == nil {
				sum += min(n, 1e6)
			}
		}
		i = j
	}
	return sum
}

// sizeOf is about how many bytes a value holds or prints as: the length
// of a string, the sizes of a list's or a map's items (16 more each, a
// header or a separator). It looks at most four levels down; the values
// a template sees (its data, lists from split) are not deeper.
func sizeOf(v reflect.Value) int64 { return sizeAt(v, 4) }

func sizeAt(v reflect.Value, depth int) int64 {
	if !v.IsValid() {
		return 0
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() || depth == 0 {
			return 8
		}
		return sizeAt(v.Elem(), depth-1)
	case reflect.String:
		return int64(v.Len())
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return int64(v.Len())
		}
		n := int64(16 * v.Len())
		if depth > 0 {
			for i := range v.Len() {
				n += sizeAt(v.Index(i), depth-1)
			}
		}
		return n
	case reflect.Map:
		n := int64(16 * v.Len())
		if depth > 0 {
			for it := v.MapRange(); it.Next(); {
				n += sizeAt(it.Key(), depth-1) + sizeAt(it.Value(), depth-1)
			}
		}
		return n
	case reflect.Struct:
		var n int64
		for i := range v.NumField() {
			if depth > 0 {
				n += sizeAt(v.Field(i), depth-1)
			}
		}
		return n + 8
	}
	return 8
}
