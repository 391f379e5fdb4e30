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
// properties (BCP035). Values are followed as literalsOf does. Where a type is discriminated
// (kind, type), a literal discriminator selects its variant; otherwise a path valid in any
// variant passes. Open objects (tags, any) end the check below them.
func (in *Infra) CheckResourceProperties(rt *ResourceTypes) []string {
	var problems []string
	for _, f := range in.sorted() {
		params := paramsByName(f)
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
			pc := &propChecker{f: f, resource: name, params: params, visited: in.visited}
			pc.object(r.Body, root, "", true, !r.Existing)
			problems = append(problems, pc.problems...)
		}
	}
	return problems
}

type propChecker struct {
	f        *BicepFile
	resource string
	params   map[string]Param // of the file, for values that are parameters
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
		case "identifier":
			if p, ok := pc.params[pc.f.Text(v)]; ok && !shadowed(pc.f, v) {
				pc.param(v, p, t, path)
			}
		default:
			if kind := literalKind(pc.f, v); kind != "" {
				pc.scalar(v, kind, t, path)
			}
		}
	})
}

// param checks a parameter used as a value: its declared type, and its @allowed values against a
// closed set.
func (pc *propChecker) param(v *sitter.Node, p Param, t *TypeNode, path string) {
	kind, want := typeKind(p.Type), t.Type
	if want == "" {
		want = "string"
	}
	if kind != "" && kind != want {
		pc.report(v, "%s is %s; parameter %s is %s (BCP036)", path, t.describe(), p.Name, p.Type)
		return
	}
	if t.Type != "" {
		return
	}
	for _, k := range p.Allowed {
		if s := strings.Trim(k, "'"); !contains(t.Values, s) {
			pc.report(v, "%s is %s; parameter %s allows '%s' (BCP036)", path, t.describe(), p.Name, s)
		}
	}
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
			sub := &propChecker{f: pc.f, resource: pc.resource, params: pc.params, visited: pc.visited}
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

// CheckResourceNesting checks how child resources name their parent: a parent: symbol must be a
// resource of the parent type (BCP171), and then the name is one segment (BCP170); without a
// parent the name has one segment per level of the type (BCP169). Only the literal text of a
// name is counted: an interpolated part may hold slashes of its own.
func (in *Infra) CheckResourceNesting() []string {
	var problems []string
	for _, f := range in.sorted() {
		types := map[string]string{}
		for _, r := range f.Resources() {
			types[r.Symbol] = r.Type
		}
		for _, r := range f.Resources() {
			if r.Body == nil || !strings.Contains(r.Type, "/") {
				continue // no body, or no Namespace/type: the property check reports it
			}
			name := f.Property(r.Body, "name")
			slashes, interpolated := nameSlashes(f, name)
			levels := strings.Count(r.Type, "/") - 1 // Microsoft.X/a/b has two levels, so one slash
			parent := f.Property(r.Body, "parent")
			switch {
			case parent != nil:
				want := r.Type[:strings.LastIndex(r.Type, "/")]
				if got, ok := types[f.Text(parent)]; ok && !strings.EqualFold(got, want) {
					problems = append(problems, fmt.Sprintf("%s: %s (%s) is not a valid child of parent %s (%s) (BCP171)", f.pos(parent), r.Symbol, r.Type, f.Text(parent), got))
				}
				if slashes > 0 {
					problems = append(problems, fmt.Sprintf("%s: %s has a parent, so its name must not contain / (BCP170)", f.pos(name), r.Symbol))
				}
			case name != nil && (slashes > levels || slashes < levels && !interpolated):
				problems = append(problems, fmt.Sprintf("%s: the name of %s (%s) needs %d / (BCP169)", f.pos(name), r.Symbol, r.Type, levels))
			}
		}
	}
	return problems
}

// nameSlashes counts the slashes in the literal parts of a name string.
func nameSlashes(f *BicepFile, name *sitter.Node) (slashes int, interpolated bool) {
	if name == nil || name.Kind() != "string" {
		return 0, true // not a string literal: unknown
	}
	for _, c := range named(name) {
		if c.Kind() == "interpolation" {
			interpolated = true
			continue
		}
		slashes += strings.Count(f.Text(c), "/")
	}
	return slashes, interpolated
}
