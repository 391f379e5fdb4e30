package check

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	tsbicep "github.com/tree-sitter-grammars/tree-sitter-bicep/bindings/go"
	sitter "github.com/tree-sitter/go-tree-sitter"
)

// BicepFile is one parsed .bicep file: the source and its tree-sitter syntax tree.
type BicepFile struct {
	Path string
	Src  []byte
	Root *sitter.Node
	tree *sitter.Tree
}

// ParseBicepFile reads and parses path. A file with syntax errors still parses (tree-sitter
// recovers); SyntaxErrors reports them.
func ParseBicepFile(path string) (*BicepFile, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseBicep(path, src)
}

// ParseBicep parses Bicep source; path only labels messages.
func ParseBicep(path string, src []byte) (*BicepFile, error) {
	p := sitter.NewParser()
	defer p.Close()
	if err := p.SetLanguage(sitter.NewLanguage(tsbicep.Language())); err != nil {
		return nil, fmt.Errorf("loading the Bicep grammar: %w", err)
	}
	tree := p.Parse(src, nil)
	if tree == nil {
		return nil, fmt.Errorf("parsing %s: no tree", path)
	}
	return &BicepFile{Path: path, Src: src, Root: tree.RootNode(), tree: tree}, nil
}

// SyntaxErrors lists the ERROR and MISSING nodes, each as path:line:column and the text around it.
func (f *BicepFile) SyntaxErrors() []string {
	var errs []string
	walk(f.Root, func(n *sitter.Node) bool {
		switch {
		case n.IsError():
			errs = append(errs, fmt.Sprintf("%s: syntax error at %q", f.pos(n), clip(f.Text(n), 60)))
			return false
		case n.IsMissing():
			errs = append(errs, fmt.Sprintf("%s: missing %s", f.pos(n), n.Kind()))
			return false
		}
		return true
	})
	return errs
}

func (f *BicepFile) pos(n *sitter.Node) string {
	p := n.StartPosition()
	return fmt.Sprintf("%s:%d:%d", f.Path, p.Row+1, p.Column+1)
}

// Text is the source text of n.
func (f *BicepFile) Text(n *sitter.Node) string { return n.Utf8Text(f.Src) }

// Param is a parameter declaration.
type Param struct {
	Name       string
	Type       string
	Default    *sitter.Node // nil when the parameter has no default
	Decorators []string     // decorator names, e.g. "secure", "description"
	// Allowed holds the values of @allowed([...]) or of a union of literal types ('a' | 'b'), each
	// as literalKey writes it; nil when any value of the type is allowed.
	Allowed []string
	// Limits holds the numbers of @minValue, @maxValue, @minLength and @maxLength, by name.
	Limits map[string]int
	Node   *sitter.Node
}

// Secure reports whether the parameter has the @secure() decorator.
func (p Param) Secure() bool { return contains(p.Decorators, "secure") }

// Output is an output declaration.
type Output struct {
	Name  string
	Type  string
	Value *sitter.Node
}

// Resource is a resource declaration.
type Resource struct {
	Symbol     string
	Type       string // e.g. Microsoft.EventHub/namespaces
	APIVersion string
	Existing   bool
	Body       *sitter.Node // the object literal, inside any if or for
	Node       *sitter.Node
}

// Module is a module declaration.
type Module struct {
	Symbol string
	Path   string // as written, relative to the declaring file
	Body   *sitter.Node
}

// Funcs maps each user-defined function name to its body expression.
func (f *BicepFile) Funcs() map[string]*sitter.Node {
	funcs := map[string]*sitter.Node{}
	f.topLevel(func(n *sitter.Node, _ []string) {
		if n.Kind() != "user_defined_function" {
			return
		}
		kids := named(n)
		if name := n.ChildByFieldName("name"); name != nil && len(kids) > 0 {
			funcs[f.Text(name)] = kids[len(kids)-1]
		}
	})
	return funcs
}

// Value is the value of a string literal, or else the source text of n ("" for nil).
func (f *BicepFile) Value(n *sitter.Node) string {
	if n == nil {
		return ""
	}
	if s, ok := f.StringValue(n); ok {
		return s
	}
	return f.Text(n)
}

// Params lists the parameter declarations in order.
func (f *BicepFile) Params() []Param {
	var out []Param
	f.topLevelDecorated(func(n *sitter.Node, decorators []*sitter.Node) {
		if n.Kind() != "parameter_declaration" {
			return
		}
		kids := named(n)
		p := Param{Node: n}
		if len(kids) > 0 {
			p.Name = f.Text(kids[0])
		}
		if len(kids) > 1 {
			p.Type = f.Text(kids[1])
			p.Allowed = f.literalUnion(kids[1])
		}
		if len(kids) > 2 {
			p.Default = kids[2]
		}
		for _, d := range decorators {
			name := f.decoratorName(d)
			p.Decorators = append(p.Decorators, name)
			switch name {
			case "allowed":
				p.Allowed = f.allowedValues(d)
			case "minValue", "maxValue", "minLength", "maxLength":
				if n, ok := f.intArgument(d); ok {
					if p.Limits == nil {
						p.Limits = map[string]int{}
					}
					p.Limits[name] = n
				}
			}
		}
		out = append(out, p)
	})
	return out
}

// Outputs lists the output declarations in order.
func (f *BicepFile) Outputs() []Output {
	var out []Output
	f.topLevel(func(n *sitter.Node, _ []string) {
		if n.Kind() != "output_declaration" {
			return
		}
		kids := named(n)
		if len(kids) < 3 {
			return
		}
		out = append(out, Output{Name: f.Text(kids[0]), Type: f.Text(kids[1]), Value: kids[len(kids)-1]})
	})
	return out
}

// Vars maps each variable name to its value expression.
func (f *BicepFile) Vars() map[string]*sitter.Node {
	vars := map[string]*sitter.Node{}
	f.topLevel(func(n *sitter.Node, _ []string) {
		if n.Kind() != "variable_declaration" {
			return
		}
		kids := named(n)
		if len(kids) >= 2 {
			vars[f.Text(kids[0])] = kids[len(kids)-1]
		}
	})
	return vars
}

// Resources lists the resource declarations in order.
func (f *BicepFile) Resources() []Resource {
	var out []Resource
	f.topLevel(func(n *sitter.Node, _ []string) {
		if n.Kind() != "resource_declaration" {
			return
		}
		kids := named(n)
		if len(kids) < 3 {
			return
		}
		r := Resource{Symbol: f.Text(kids[0]), Node: n, Body: bodyObject(kids[len(kids)-1])}
		typ, _ := f.StringValue(kids[1])
		r.Type, r.APIVersion, _ = strings.Cut(typ, "@")
		for i := uint(0); i < n.ChildCount(); i++ {
			if c := n.Child(i); c != nil && c.Kind() == "existing" {
				r.Existing = true
			}
		}
		out = append(out, r)
	})
	return out
}

// Modules lists the module declarations in order.
func (f *BicepFile) Modules() []Module {
	var out []Module
	f.topLevel(func(n *sitter.Node, _ []string) {
		if n.Kind() != "module_declaration" {
			return
		}
		kids := named(n)
		if len(kids) < 3 {
			return
		}
		path, _ := f.StringValue(kids[1])
		out = append(out, Module{Symbol: f.Text(kids[0]), Path: path, Body: bodyObject(kids[len(kids)-1])})
	})
	return out
}

// topLevel calls fn for each top-level statement with the names of the decorators before it.
func (f *BicepFile) topLevel(fn func(n *sitter.Node, decorators []string)) {
	f.topLevelDecorated(func(n *sitter.Node, decorators []*sitter.Node) {
		var names []string
		for _, d := range decorators {
			names = append(names, f.decoratorName(d))
		}
		fn(n, names)
	})
}

// topLevelDecorated calls fn for each top-level statement with the decorators before it.
func (f *BicepFile) topLevelDecorated(fn func(n *sitter.Node, decorators []*sitter.Node)) {
	var pending []*sitter.Node
	for _, n := range named(f.Root) {
		if n.Kind() == "decorators" {
			pending = append(pending, named(n)...)
			continue
		}
		fn(n, pending)
		pending = nil
	}
}

// allowedValues reads the array of an @allowed([...]) decorator.
func (f *BicepFile) allowedValues(d *sitter.Node) []string {
	var out []string
	for _, call := range Nodes(d, "call_expression") {
		args := named(call.ChildByFieldName("arguments"))
		if len(args) == 0 || args[0].Kind() != "array" {
			return nil
		}
		for _, v := range named(args[0]) {
			if k, ok := f.literalKey(v); ok {
				out = append(out, k)
			}
		}
		return out
	}
	return nil
}

// intArgument reads the integer argument of a decorator such as @maxValue(40).
func (f *BicepFile) intArgument(d *sitter.Node) (int, bool) {
	for _, call := range Nodes(d, "call_expression") {
		args := named(call.ChildByFieldName("arguments"))
		if len(args) == 1 && literalKind(f, args[0]) == "int" {
			n, err := strconv.Atoi(f.Text(args[0]))
			return n, err == nil
		}
		return 0, false
	}
	return 0, false
}

// literalUnion reads a type that is a union of literals ('a' | 'b') as its values, or nil.
func (f *BicepFile) literalUnion(typ *sitter.Node) []string {
	u := typ
	if u.Kind() == "type" && len(named(u)) == 1 {
		u = named(u)[0]
	}
	if u.Kind() != "union_type" {
		return nil
	}
	var out []string
	for _, m := range named(u) {
		k, ok := f.literalKey(m)
		if !ok {
			return nil
		}
		out = append(out, k)
	}
	return out
}

// literalKey writes a string, int or bool literal as Bicep would ('text', 3, true), so that
// values of different types never compare equal.
func (f *BicepFile) literalKey(n *sitter.Node) (string, bool) {
	if n == nil {
		return "", false
	}
	if s, ok := f.StringValue(n); ok {
		return "'" + s + "'", true
	}
	switch literalKind(f, n) {
	case "int", "bool":
		return f.Text(n), true
	}
	return "", false
}

func (f *BicepFile) decoratorName(d *sitter.Node) string {
	name := ""
	walk(d, func(n *sitter.Node) bool {
		if name != "" {
			return false
		}
		if n.Kind() == "call_expression" {
			if fn := n.ChildByFieldName("function"); fn != nil {
				name = f.Text(fn)
			}
			return false
		}
		return true
	})
	return name
}

// Property follows a path of property names through nested object literals and returns the value
// node, or nil.
func (f *BicepFile) Property(obj *sitter.Node, path ...string) *sitter.Node {
	cur := obj
	for _, key := range path {
		if cur == nil {
			return nil
		}
		cur = unwrap(cur)
		if cur.Kind() != "object" {
			return nil
		}
		var next *sitter.Node
		for _, prop := range named(cur) {
			if prop.Kind() != "object_property" {
				continue
			}
			kv := named(prop)
			if len(kv) < 2 {
				continue
			}
			k := f.Text(kv[0])
			if s, ok := f.StringValue(kv[0]); ok {
				k = s
			}
			if k == key {
				next = kv[len(kv)-1]
				break
			}
		}
		cur = next
	}
	return cur
}

// Keys lists the property names of an object literal.
func (f *BicepFile) Keys(obj *sitter.Node) []string {
	var keys []string
	if obj == nil || unwrap(obj).Kind() != "object" {
		return nil
	}
	for _, prop := range named(unwrap(obj)) {
		if prop.Kind() != "object_property" {
			continue
		}
		kv := named(prop)
		if len(kv) == 0 {
			continue
		}
		k := f.Text(kv[0])
		if s, ok := f.StringValue(kv[0]); ok {
			k = s
		}
		keys = append(keys, k)
	}
	return keys
}

// StringValue returns the value of a string literal without interpolation.
func (f *BicepFile) StringValue(n *sitter.Node) (string, bool) {
	if n == nil || n.Kind() != "string" {
		return "", false
	}
	var b strings.Builder
	for _, c := range named(n) {
		switch c.Kind() {
		case "string_content":
			b.WriteString(f.Text(c))
		case "escape_sequence":
			t := f.Text(c)
			switch t {
			case `\n`:
				b.WriteString("\n")
			case `\r`:
				b.WriteString("\r")
			case `\t`:
				b.WriteString("\t")
			default:
				b.WriteString(strings.TrimPrefix(t, `\`))
			}
		default: // interpolation
			return "", false
		}
	}
	return b.String(), true
}

// Strings lists every string literal in the file (interpolated strings as their source text).
func (f *BicepFile) Strings() []string {
	var out []string
	walk(f.Root, func(n *sitter.Node) bool {
		if n.Kind() == "string" {
			if s, ok := f.StringValue(n); ok {
				out = append(out, s)
			} else {
				out = append(out, f.Text(n))
			}
			return false
		}
		return true
	})
	return out
}

// Nodes lists every node of the given kind under n, in source order.
func Nodes(n *sitter.Node, kind string) []*sitter.Node {
	var out []*sitter.Node
	walk(n, func(c *sitter.Node) bool {
		if c.Kind() == kind {
			out = append(out, c)
		}
		return true
	})
	return out
}

// bodyObject finds the object literal of a resource or module body inside if and for.
func bodyObject(n *sitter.Node) *sitter.Node {
	switch n.Kind() {
	case "object":
		return n
	case "if_statement":
		kids := named(n)
		return bodyObject(kids[len(kids)-1])
	case "for_statement":
		if b := n.ChildByFieldName("body"); b != nil {
			return bodyObject(b)
		}
	case "array":
		// [for ...] is an array around a for_statement.
		for _, c := range named(n) {
			if o := bodyObject(c); o != nil {
				return o
			}
		}
	}
	return nil
}

func unwrap(n *sitter.Node) *sitter.Node {
	for n != nil && n.Kind() == "parenthesized_expression" {
		kids := named(n)
		if len(kids) == 0 {
			break
		}
		n = kids[0]
	}
	return n
}

// named returns the named children that are not comments.
func named(n *sitter.Node) []*sitter.Node {
	var out []*sitter.Node
	for i := uint(0); i < n.NamedChildCount(); i++ {
		c := n.NamedChild(i)
		if c == nil || c.Kind() == "comment" || c.Kind() == "diagnostic_comment" {
			continue
		}
		out = append(out, c)
	}
	return out
}

// walk visits n and its descendants depth first; fn returns false to skip a node's children.
func walk(n *sitter.Node, fn func(*sitter.Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	for i := uint(0); i < n.ChildCount(); i++ {
		walk(n.Child(i), fn)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
