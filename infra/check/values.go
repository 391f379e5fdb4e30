package check

import (
	"strings"

	sitter "github.com/tree-sitter/go-tree-sitter"
)

// literalKind names the type of a literal: string, int, bool or null; "" for anything else.
func literalKind(f *BicepFile, n *sitter.Node) string {
	switch n.Kind() {
	case "string":
		return "string"
	case "number":
		return "int"
	case "boolean":
		return "bool"
	case "null":
		return "null"
	case "unary_expression":
		if arg := n.ChildByFieldName("argument"); arg != nil && arg.Kind() == "number" && strings.HasPrefix(f.Text(n), "-") {
			return "int"
		}
	}
	return ""
}

// literalsOf follows an expression to the literals it may evaluate to, as far as that can be told
// without evaluating it: through parentheses, both branches of a ternary, file variables, the body
// of a user-defined function, the arguments of union() and concat() and the array of filter().
// Anything else is returned as it is.
func (f *BicepFile) literalsOf(n *sitter.Node, depth int) []*sitter.Node {
	var out []*sitter.Node
	f.eachLiteral(n, depth, false, func(v *sitter.Node, _ bool) { out = append(out, v) })
	return out
}

// eachLiteral calls fn for each literal literalsOf finds, with partial true for the parts of a
// union() or concat(), which hold only some of the value's properties or items.
func (f *BicepFile) eachLiteral(n *sitter.Node, depth int, partial bool, fn func(v *sitter.Node, partial bool)) {
	if n == nil {
		return
	}
	if depth > 20 {
		fn(n, partial)
		return
	}
	switch n.Kind() {
	case "parenthesized_expression":
		if kids := named(n); len(kids) == 1 {
			f.eachLiteral(kids[0], depth+1, partial, fn)
			return
		}
	case "ternary_expression":
		f.eachLiteral(n.ChildByFieldName("consequence"), depth+1, partial, fn)
		f.eachLiteral(n.ChildByFieldName("alternative"), depth+1, partial, fn)
		return
	case "identifier":
		if v := f.Vars()[f.Text(n)]; v != nil && !shadowed(f, n) {
			f.eachLiteral(v, depth+1, partial, fn)
			return
		}
	case "call_expression":
		fnNode := n.ChildByFieldName("function")
		args := named(n.ChildByFieldName("arguments"))
		if fnNode == nil || fnNode.Kind() != "identifier" {
			break
		}
		switch name := f.Text(fnNode); name {
		case "union", "concat":
			for _, a := range args {
				f.eachLiteral(a, depth+1, true, fn)
			}
			return
		case "filter":
			if len(args) > 0 {
				f.eachLiteral(args[0], depth+1, partial, fn)
				return
			}
		default:
			if body := f.Funcs()[name]; body != nil {
				f.eachLiteral(body, depth+1, partial, fn)
				return
			}
		}
	}
	fn(n, partial)
}

// shadowed reports whether an identifier names a loop or lambda variable around it rather than a
// file-level symbol.
func shadowed(f *BicepFile, id *sitter.Node) bool {
	name := f.Text(id)
	for p := id.Parent(); p != nil; p = p.Parent() {
		switch p.Kind() {
		case "lambda_expression":
			if kids := named(p); len(kids) > 0 {
				params := kids[0]
				if params.Kind() == "identifier" && f.Text(params) == name {
					return true
				}
				for _, c := range named(params) {
					if f.Text(c) == name {
						return true
					}
				}
			}
		case "for_statement":
			if init := p.ChildByFieldName("initializer"); init != nil && f.Text(init) == name {
				return true
			}
			for _, c := range named(p) {
				if c.Kind() == "for_loop_parameters" {
					for _, v := range named(c) {
						if f.Text(v) == name {
							return true
						}
					}
				}
			}
		case "user_defined_function":
			for _, c := range named(p) {
				if c.Kind() == "parameters" {
					for _, prm := range named(c) {
						if k := named(prm); len(k) > 0 && f.Text(k[0]) == name {
							return true
						}
					}
				}
			}
		}
	}
	return false
}
