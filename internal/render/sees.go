package render

import (
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// readsEnv reports whether a template may read the environment: it
// names Env (a field of the data, of a variable or of a chain), calls
// env, or hands on the data whole (. or $: to toJSON, to index, to
// another template). It errs on the side of yes: in a run with secret
// values such a template may hold one in any form it makes of it (upper,
// a slice, printf %x), which no search for the value finds. Every
// template defined in t is looked at.
func readsEnv(t *template.Template) bool {
	for _, d := range t.Templates() {
		if d.Tree != nil && nodeReadsEnv(d.Tree.Root) {
			return true
		}
	}
	return false
}

func nodeReadsEnv(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return false
		}
		return slices.ContainsFunc(n.Nodes, nodeReadsEnv)
	case *parse.ActionNode:
		return nodeReadsEnv(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return false
		}
		return slices.ContainsFunc(n.Cmds, func(c *parse.CommandNode) bool { return nodeReadsEnv(c) })
	case *parse.CommandNode:
		return slices.ContainsFunc(n.Args, nodeReadsEnv)
	case *parse.IfNode:
		return branchReadsEnv(&n.BranchNode)
	case *parse.RangeNode:
		return branchReadsEnv(&n.BranchNode)
	case *parse.WithNode:
		return branchReadsEnv(&n.BranchNode)
	case *parse.TemplateNode:
		// The called template is one of t.Templates(), looked at on
		// its own; what it gets is its argument.
		return nodeReadsEnv(n.Pipe)
	case *parse.FieldNode:
		return slices.Contains(n.Ident, "Env")
	case *parse.VariableNode:
		return slices.Contains(n.Ident, "Env") || len(n.Ident) == 1 && n.Ident[0] == "$"
	case *parse.ChainNode:
		return slices.Contains(n.Field, "Env") || nodeReadsEnv(n.Node)
	case *parse.IdentifierNode:
		return n.Ident == "env"
	case *parse.DotNode:
		return true
	}
	return false
}

func branchReadsEnv(b *parse.BranchNode) bool {
	return nodeReadsEnv(b.Pipe) || nodeReadsEnv(b.List) || nodeReadsEnv(b.ElseList)
}

// withheldDetail stands for what an execution error said after its
// place, in a template that could see secret values.
const withheldDetail = "(detail withheld: this template can see secret values, NONROOT_FILE_ENV's or file's, and the detail may show one; render it without them to read it)"

// withhold keeps the place of msg, an execution error of the template
// name as templateError writes it ("name:line:column: at <expression>:
// detail"), and withholds the detail. The expression is the template's
// own text; a ">: " inside it only cuts it short. Without that form only
// name stays.
func withhold(name, msg string) string {
	if i := strings.Index(msg, ": at <"); i >= 0 {
		if j := strings.Index(msg[i:], ">: "); j >= 0 {
			return msg[:i+j+1] + ": " + withheldDetail
		}
	}
	return name + ": " + withheldDetail
}
