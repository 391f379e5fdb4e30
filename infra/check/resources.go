package check

import (
	"fmt"

	"strings"

	sitter "github.com/tree-sitter/go-tree-sitter"
)

// bicepOnlyKeys are resource body keys that Bicep takes itself and never sends to ARM.
var bicepOnlyKeys = wordSet("parent scope dependsOn")

// CheckResourceProperties compares every resource declaration with the property paths of its
// type@version in rt (generated from Azure/bicep-types-az): each property written must exist
// (BCP037) and not be read-only (BCP073), literal values must have the property's type and be
// in its closed set of values (BCP036), and whole object literals must set the required
// properties (BCP035). Values are followed through variables, ternaries,
// user-defined functions, union(), concat() and filter(). Where a type is discriminated (kind,
// type), a literal discriminator selects its variant; otherwise a path valid in any variant
// passes. Open objects (tags, any) end the check below them.
func (in *Infra) CheckResourceProperties(rt *ResourceTypes) []string {
	var problems []string
	for _, f := range in.sorted() {
		for _, r := range f.Resources() {
			name := r.Type + "@" + r.APIVersion
			root, ok := rt.Lookup(name)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %s is not in %s; add it with `cd infra/check && go run ./cmd/gentypes`", f.pos(r.Node), name, ResourceTypesFile))
				continue
			}
			if r.Body == nil {
				continue
			}
			pc := &propChecker{f: f, resource: name, visited: in.visited}
			pc.object(r.Body, root, "", true, !r.Existing)
			problems = append(problems, pc.problems...)
		}
	}
	return problems
}

type propChecker struct {
	f        *BicepFile
	resource string
	problems []string
	visited  map[uintptr]bool // object properties checked, for the coverage test
}

func (pc *propChecker) report(n *sitter.Node, format string, args ...any) {
	pc.problems = append(pc.problems, fmt.Sprintf("%s: %s: %s", pc.f.pos(n), pc.resource, fmt.Sprintf(format, args...)))
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	if name == "[]" {
		return path + name
	}
	return path + "." + name
}

// value checks the value written at path against its type node.
func (pc *propChecker) value(n *sitter.Node, t *TypeNode, path string) {
	if t.open() {
		if pc.visited != nil { // nothing below an open type is checked: it counts as seen
			for _, c := range Nodes(n, "object_property") {
				pc.visited[c.Id()] = true
			}
		}
		return
	}
	pc.f.eachLiteral(n, 0, false, func(v *sitter.Node, partial bool) {
		switch v.Kind() {
		case "object":
			if t.Type != "object" {
				pc.report(v, "%s is %s, not an object (BCP036)", path, t.describe())
				return
			}
			pc.object(v, t, path, false, !partial)
		case "array":
			if t.Type != "array" {
				pc.report(v, "%s is %s, not an array (BCP036)", path, t.describe())
				return
			}
			item := t.Children["[]"]
			if item == nil {
				return
			}
			for _, e := range named(v) {
				if e.Kind() == "for_statement" {
					if body := e.ChildByFieldName("body"); body != nil {
						pc.value(body, item, path+"[]")
					}
					continue
				}
				pc.value(e, item, path+"[]")
			}
		default:
			if kind := literalKind(pc.f, v); kind != "" {
				pc.scalar(v, kind, t, path)
			}
		}
	})
}

// scalar checks a string, int, bool or null literal.
func (pc *propChecker) scalar(v *sitter.Node, kind string, t *TypeNode, path string) {
	want := t.Type
	if want == "" {
		want = "string"
	}
	if kind == "null" {
		return // null leaves a property out
	}
	if kind != want {
		pc.report(v, "%s is %s; %s is %s (BCP036)", path, t.describe(), pc.f.Text(v), kind)
		return
	}
	if s, ok := pc.f.StringValue(v); ok && t.Type == "" && !contains(t.Values, s) {
		pc.report(v, "%s is %s; '%s' is not one of them (BCP036)", path, t.describe(), s)
	}
}

// object checks the properties of an object literal written at path. whole says the literal is
// the entire value, not one part of a union(), so that a required property missing is an error.
func (pc *propChecker) object(obj *sitter.Node, t *TypeNode, path string, resourceBody, whole bool) {
	variants := pc.variantsFor(obj, t, path)
	if whole {
		pc.required(obj, t, variants, path)
	}
	for _, prop := range named(obj) {
		if prop.Kind() != "object_property" {
			continue
		}
		kv := named(prop)
		if len(kv) < 2 || kv[0].Kind() == "resource_declaration" {
			continue // a nested resource is a declaration of its own
		}
		if pc.visited != nil {
			pc.visited[prop.Id()] = true
		}
		key := pc.f.Text(kv[0])
		if s, ok := pc.f.StringValue(kv[0]); ok {
			key = s
		}
		if resourceBody && bicepOnlyKeys[key] {
			continue
		}
		p := joinPath(path, key)
		// With an unknown discriminator the property may belong to any variant: it passes if
		// its value fits one of them.
		candidates := t.candidates(key, variants)
		if len(candidates) == 0 {
			pc.report(kv[0], "%s is not a property of %s (BCP037)%s", p, describePath(path), hint(key, t.names(variants)))
			continue
		}
		var best []string
		for i, c := range candidates {
			sub := &propChecker{f: pc.f, resource: pc.resource, visited: pc.visited}
			if c.ReadOnly {
				sub.report(kv[0], "%s is read-only (BCP073)", p)
			} else {
				sub.value(kv[len(kv)-1], c, p)
			}
			if len(sub.problems) == 0 {
				best = nil
				break
			}
			if i == 0 {
				best = sub.problems
			}
		}
		pc.problems = append(pc.problems, best...)
	}
}

// required reports the required, writable properties of t (and of its variant, when the
// discriminator selects one) that obj does not set (BCP035).
func (pc *propChecker) required(obj *sitter.Node, t *TypeNode, variants []*TypeNode, path string) {
	set := map[string]bool{}
	for _, k := range pc.f.Keys(obj) {
		set[k] = true
	}
	nodes := []*TypeNode{t}
	if len(variants) == 1 {
		nodes = append(nodes, variants[0])
	}
	var missing []string
	for _, n := range nodes {
		for _, name := range sortedKeys(n.Children) {
			if c := n.Children[name]; c.Required && !c.ReadOnly && !set[name] {
				missing = append(missing, joinPath(path, name))
			}
		}
	}
	if len(missing) > 0 {
		pc.report(obj, "%s requires %s, which it does not set (BCP035)", describePath(path), strings.Join(missing, ", "))
	}
}

// variantsFor returns the variants of t that obj may be: the one its literal discriminator names,
// or every one.
func (pc *propChecker) variantsFor(obj *sitter.Node, t *TypeNode, path string) []*TypeNode {
	key, byValue := t.variants()
	if key == "" {
		return nil
	}
	d := pc.f.Property(obj, key)
	if s, ok := pc.f.StringValue(d); ok {
		if v := byValue[s]; v != nil {
			return []*TypeNode{v}
		}
		pc.report(d, "%s is one of %s; '%s' is not (BCP036)", joinPath(path, key), strings.Join(sortedKeys(byValue), ", "), s)
		return nil
	}
	all := make([]*TypeNode, 0, len(byValue))
	for _, k := range sortedKeys(byValue) {
		all = append(all, byValue[k])
	}
	return all
}

// candidates lists the nodes property name may be under t: its own, or one per variant, or the
// open-object entry.
func (t *TypeNode) candidates(name string, variants []*TypeNode) []*TypeNode {
	if c := t.Children[name]; c != nil {
		return []*TypeNode{c}
	}
	var out []*TypeNode
	for _, v := range variants {
		if c := v.Children[name]; c != nil {
			out = append(out, c)
		}
	}
	if len(out) > 0 {
		return out
	}
	if c := t.child(name, variants); c != nil {
		return []*TypeNode{c}
	}
	return nil
}

func describePath(path string) string {
	if path == "" {
		return "the resource"
	}
	return path
}

// hint suggests the allowed name that differs only in case, or lists the allowed names.
func hint(key string, allowed []string) string {
	for _, a := range allowed {
		if strings.EqualFold(a, key) {
			return fmt.Sprintf("; did you mean %s?", a)
		}
	}
	if len(allowed) > 12 {
		return fmt.Sprintf("; it has %s, ... (%d in all)", strings.Join(allowed[:12], ", "), len(allowed))
	}
	return "; it has " + strings.Join(allowed, ", ")
}

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

// CheckPropertyReads checks what the Bicep reads from resource and module symbols: a resource's
// property path must exist for its type@version (BCP053), a module offers name and the outputs
// its file declares.
func (in *Infra) CheckPropertyReads(rt *ResourceTypes) []string {
	var problems []string
	for _, f := range in.sorted() {
		resources := map[string]*TypeNode{}
		typeOf := map[string]string{}
		for _, r := range f.Resources() {
			name := r.Type + "@" + r.APIVersion
			if t, ok := rt.Lookup(name); ok {
				resources[r.Symbol], typeOf[r.Symbol] = t, name
			}
		}
		modules := map[string]map[string]bool{}
		for _, m := range f.Modules() {
			if target := in.module(f, m); target != nil {
				outs := map[string]bool{}
				for _, o := range target.Outputs() {
					outs[o.Name] = true
				}
				modules[m.Symbol] = outs
			}
		}
		walk(f.Root, func(n *sitter.Node) bool {
			if n.Kind() != "member_expression" || !outermost(n) {
				return true
			}
			root, segs, ok := f.chain(n)
			if !ok || shadowed(f, root) {
				return true
			}
			sym := f.Text(root)
			if t, ok := resources[sym]; ok {
				if p := readPath(t, segs); p != "" {
					problems = append(problems, fmt.Sprintf("%s: %s reads %s, which %s does not have (BCP053)", f.pos(n), f.Text(n), p, typeOf[sym]))
				}
			}
			if outs, ok := modules[sym]; ok {
				segs = trimIndex(segs)
				switch {
				case len(segs) == 0:
				case segs[0] == "name":
				case segs[0] == "outputs" && len(segs) > 1 && !outs[segs[1]]:
					problems = append(problems, fmt.Sprintf("%s: %s reads output %s, which module %s does not declare (BCP053)", f.pos(n), f.Text(n), segs[1], sym))
				case segs[0] != "outputs":
					problems = append(problems, fmt.Sprintf("%s: %s: a module has name and outputs, not %s (BCP053)", f.pos(n), f.Text(n), segs[0]))
				}
			}
			return true
		})
	}
	return problems
}

// outermost reports whether n is not itself the object of a larger member or index expression,
// nor the function of a call (vault.getSecret(...)).
func outermost(n *sitter.Node) bool {
	p := n.Parent()
	if p == nil {
		return true
	}
	switch p.Kind() {
	case "member_expression", "subscript_expression":
		if o := p.ChildByFieldName("object"); o != nil && o.Id() == n.Id() {
			return false
		}
	case "call_expression":
		if fn := p.ChildByFieldName("function"); fn != nil && fn.Id() == n.Id() {
			return false
		}
	}
	return true
}

// chain splits a.b[0].c['d'] into its root identifier and the segments b, [], c, d. ok is false
// for chains that do not start at an identifier or that pass through a call.
func (f *BicepFile) chain(n *sitter.Node) (root *sitter.Node, segs []string, ok bool) {
	switch n.Kind() {
	case "identifier":
		return n, nil, true
	case "member_expression":
		root, segs, ok = f.chain(n.ChildByFieldName("object"))
		if prop := n.ChildByFieldName("property"); ok && prop != nil {
			segs = append(segs, f.Text(prop))
		}
		return root, segs, ok
	case "subscript_expression":
		root, segs, ok = f.chain(n.ChildByFieldName("object"))
		if s, isString := f.StringValue(n.ChildByFieldName("index")); isString {
			return root, append(segs, s), ok
		}
		return root, append(segs, "[]"), ok
	}
	return nil, nil, false
}

func trimIndex(segs []string) []string {
	if len(segs) > 0 && segs[0] == "[]" {
		return segs[1:] // an element of a resource or module loop
	}
	return segs
}

// readPath walks segs through t and returns the first path that does not exist, or "".
func readPath(t *TypeNode, segs []string) string {
	segs = trimIndex(segs)
	var path string
	cur := []*TypeNode{t}
	for _, seg := range segs {
		path = joinPath(path, seg)
		var next []*TypeNode
		for _, c := range cur {
			if c.open() {
				return ""
			}
			_, byValue := c.variants()
			var vs []*TypeNode
			for _, k := range sortedKeys(byValue) {
				vs = append(vs, byValue[k])
			}
			next = append(next, c.candidates(seg, vs)...)
		}
		if len(next) == 0 {
			return path
		}
		cur = next
	}
	return ""
}
