package check

import (
	"fmt"

	sitter "github.com/tree-sitter/go-tree-sitter"
)

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
				switch p, writeOnly := readPath(t, segs); {
				case writeOnly:
					problems = append(problems, fmt.Sprintf("%s: %s reads %s, which %s only takes, never returns (BCP077)", f.pos(n), f.Text(n), p, typeOf[sym]))
				case p != "":
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

// readPath walks segs through t and returns the first path that does not exist or is write-only,
// or "".
func readPath(t *TypeNode, segs []string) (path string, writeOnly bool) {
	segs = trimIndex(segs)
	cur := []*TypeNode{t}
	for _, seg := range segs {
		path = joinPath(path, seg)
		var next []*TypeNode
		for _, c := range cur {
			if c.open() {
				return "", false
			}
			_, byValue := c.variants()
			var vs []*TypeNode
			for _, k := range sortedKeys(byValue) {
				vs = append(vs, byValue[k])
			}
			next = append(next, c.candidates(seg, vs)...)
		}
		if len(next) == 0 {
			return path, false
		}
		if next[0].WriteOnly {
			return path, true
		}
		cur = next
	}
	return "", false
}
