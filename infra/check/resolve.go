package check

import (
	"fmt"
	"strings"

	sitter "github.com/tree-sitter/go-tree-sitter"
)

// CheckIdentifiers reports every name that does not resolve, as the Bicep compiler would (BCP057;
// BCP107 for a function missing from az. or sys.; BCP302 for a type): references to parameters,
// variables, resources, modules, loop and lambda variables, user-defined functions and types,
// imports, built-in functions (bare or as az./sys.) and decorators; and names declared twice in
// one file (BCP028, BCP145 for outputs). An output's name is not a symbol: reading it is an error.
func (in *Infra) CheckIdentifiers() []string {
	var problems []string
	for _, f := range in.sorted() {
		problems = append(problems, resolveFile(f)...)
	}
	return problems
}

type resolver struct {
	f        *BicepFile
	values   map[string]bool // file-level symbols an expression may use
	types    map[string]bool
	funcs    map[string]bool
	problems []string
}

// scope holds the local names of a loop, lambda or function, inside out.
type scope struct {
	names  map[string]bool
	parent *scope
	// inFunc: a user-defined function sees only its own parameters, other functions and types.
	inFunc bool
}

func (s *scope) has(name string) bool {
	for ; s != nil; s = s.parent {
		if s.names[name] {
			return true
		}
	}
	return false
}

func (s *scope) isFunc() bool {
	for ; s != nil; s = s.parent {
		if s.inFunc {
			return true
		}
	}
	return false
}

func (s *scope) with(names ...string) *scope {
	inner := &scope{names: map[string]bool{}, parent: s}
	for _, n := range names {
		inner.names[n] = true
	}
	return inner
}

func resolveFile(f *BicepFile) []string {
	r := &resolver{f: f, values: map[string]bool{}, types: map[string]bool{}, funcs: map[string]bool{}}
	declared := map[string]string{}
	declare := func(n *sitter.Node, kind string, into map[string]bool) {
		name := f.Text(n)
		if prev, dup := declared[name]; dup {
			r.report(n, "%s %s is declared more than once (also as a %s) (BCP028)", kind, name, prev)
		}
		declared[name] = kind
		into[name] = true
	}
	outputs := map[string]bool{} // outputs have names of their own, and nothing can read them
	for _, n := range named(f.Root) {
		kids := named(n)
		switch n.Kind() {
		case "output_declaration":
			if len(kids) > 0 && outputs[f.Text(kids[0])] {
				r.report(kids[0], "output %s is declared more than once (BCP145)", f.Text(kids[0]))
			} else if len(kids) > 0 {
				outputs[f.Text(kids[0])] = true
			}
		case "parameter_declaration", "variable_declaration", "resource_declaration", "module_declaration":
			if len(kids) > 0 {
				declare(kids[0], strings.TrimSuffix(n.Kind(), "_declaration"), r.values)
			}
		case "type_declaration":
			if len(kids) > 0 {
				declare(kids[0], "type", r.types)
			}
		case "user_defined_function":
			if name := n.ChildByFieldName("name"); name != nil {
				declare(name, "function", r.funcs)
			}
		case "import_functionality", "import_statement", "import_with_statement":
			// An imported name may be a value, a type or a function.
			for _, id := range kids {
				if id.Kind() == "identifier" {
					declare(id, "import", r.values)
					r.types[f.Text(id)] = true
					r.funcs[f.Text(id)] = true
				}
			}
		}
	}
	for _, n := range named(f.Root) {
		r.statement(n)
	}
	return r.problems
}

func (r *resolver) report(n *sitter.Node, format string, args ...any) {
	r.problems = append(r.problems, r.f.pos(n)+": "+fmt.Sprintf(format, args...))
}

func (r *resolver) statement(n *sitter.Node) {
	kids := named(n)
	switch n.Kind() {
	case "type_declaration":
		for _, k := range tail(kids) {
			r.typeRefs(k, nil)
		}
	case "parameter_declaration", "variable_declaration", "resource_declaration", "module_declaration",
		"output_declaration", "metadata_declaration", "assert_statement":
		for _, k := range tail(kids) { // kids[0] is the declared name
			r.visit(k, nil)
		}
	case "user_defined_function":
		sc := &scope{names: map[string]bool{}, inFunc: true}
		name := n.ChildByFieldName("name")
		for _, k := range kids {
			switch {
			case name != nil && k.Id() == name.Id():
			case k.Kind() == "parameters":
				for _, p := range named(k) {
					pk := named(p)
					if len(pk) > 0 {
						sc.names[r.f.Text(pk[0])] = true
					}
					for _, t := range tail(pk) {
						r.visit(t, sc)
					}
				}
			default:
				r.visit(k, sc)
			}
		}
	case "decorators":
		for _, d := range kids {
			r.visit(d, nil)
		}
	}
	// import, using, targetScope, extension: nothing to resolve
}

// visit checks the names used under n.
func (r *resolver) visit(n *sitter.Node, sc *scope) {
	switch n.Kind() {
	case "identifier":
		r.value(n, sc)
	case "property_identifier", "string_content", "escape_sequence", "number", "boolean", "null",
		"primitive_type", "loop_variable", "loop_enumerator", "comment", "diagnostic_comment":
	case "call_expression":
		r.call(n, sc)
	case "member_expression":
		obj := n.ChildByFieldName("object")
		if ns := r.namespace(obj, sc); ns != nil {
			if prop := n.ChildByFieldName("property"); prop != nil && !ns[r.f.Text(prop)] {
				r.report(prop, "%s has no function %s (BCP107)", r.f.Text(obj), r.f.Text(prop))
			}
			return
		}
		r.visit(obj, sc)
	case "resource_expression":
		r.visit(n.ChildByFieldName("object"), sc) // the nested resource name after :: is the parent's
	case "decorator":
		for _, c := range named(n) {
			if c.Kind() == "call_expression" {
				r.decorator(c, sc)
			}
		}
	case "object":
		// Nested resources are in scope inside the body that declares them.
		var nested []string
		for _, p := range named(n) {
			for _, c := range named(p) {
				if c.Kind() == "resource_declaration" {
					if k := named(c); len(k) > 0 {
						nested = append(nested, r.f.Text(k[0]))
					}
				}
			}
		}
		if len(nested) > 0 {
			sc = sc.with(nested...)
		}
		for _, c := range named(n) {
			r.visit(c, sc)
		}
	case "object_property":
		kids := named(n)
		for i, c := range kids {
			switch {
			case c.Kind() == "resource_declaration":
				for _, k := range tail(named(c)) {
					r.visit(k, sc)
				}
			case i == 0 && len(kids) > 1:
				if c.Kind() == "string" {
					r.visit(c, sc) // a key may be interpolated: '${identity.id}': {}
				}
			default:
				r.visit(c, sc)
			}
		}
	case "array":
		kids := named(n)
		for i := 0; i < len(kids); i++ {
			if misparsedCall(kids, i) {
				r.callName(kids[i])
				for _, a := range named(kids[i+1]) {
					r.visit(a, sc)
				}
				i++
				continue
			}
			r.visit(kids[i], sc)
		}
	case "for_statement":
		r.forLoop(n, sc)
	case "lambda_expression":
		kids := named(n)
		if len(kids) == 0 {
			return
		}
		var params []string
		if p := kids[0]; p.Kind() == "identifier" {
			params = append(params, r.f.Text(p))
		} else {
			for _, id := range named(p) {
				params = append(params, r.f.Text(id))
			}
		}
		r.visit(kids[len(kids)-1], sc.with(params...))
	case "type", "array_type", "nullable_type", "union_type", "parenthesized_type", "negated_type",
		"parameterized_type":
		r.typeRefs(n, sc)
	default:
		for _, c := range named(n) {
			r.visit(c, sc)
		}
	}
}

// value checks a name used as a value.
func (r *resolver) value(n *sitter.Node, sc *scope) {
	name := r.f.Text(n)
	switch {
	case sc.has(name):
	case r.values[name] && !sc.isFunc():
	case r.values[name]:
		r.report(n, "function body uses %s; a user-defined function sees only its parameters (BCP057)", name)
	case name == "az" || name == "sys":
	default:
		r.report(n, "undefined symbol %s (BCP057)", name)
	}
}

// namespace returns the functions of az or sys when n names one of them (and no local hides it).
func (r *resolver) namespace(n *sitter.Node, sc *scope) map[string]bool {
	if n == nil || n.Kind() != "identifier" {
		return nil
	}
	name := r.f.Text(n)
	if sc.has(name) || r.values[name] {
		return nil
	}
	switch name {
	case "az":
		return azFunctions
	case "sys":
		return sysFunctions
	}
	return nil
}

// misparsedCall reports whether kids[i] and kids[i+1] are a call that tree-sitter-bicep 1.1.0
// splits in two: in an array, f('x') as the first item parses as the identifier f followed by the
// parenthesized expression ('x').
func misparsedCall(kids []*sitter.Node, i int) bool {
	return i+1 < len(kids) && kids[i].Kind() == "identifier" && kids[i+1].Kind() == "parenthesized_expression" &&
		kids[i].EndByte() == kids[i+1].StartByte()
}

func (r *resolver) callName(fn *sitter.Node) {
	name := r.f.Text(fn)
	if !r.funcs[name] && !sysFunctions[name] && !azFunctions[name] && !strings.HasPrefix(name, "list") {
		r.report(fn, "%s is not a function Bicep knows or this file declares (BCP057)", name)
	}
}

func (r *resolver) call(n *sitter.Node, sc *scope) {
	fn := n.ChildByFieldName("function")
	if fn != nil && fn.Kind() == "identifier" {
		r.callName(fn)
	} else if fn != nil {
		r.visit(fn, sc) // a namespace call (az.x) or a resource function (vault.getSecret)
	}
	if args := n.ChildByFieldName("arguments"); args != nil {
		r.visit(args, sc)
	}
}

func (r *resolver) decorator(call *sitter.Node, sc *scope) {
	fn := call.ChildByFieldName("function")
	name := r.f.Text(fn)
	if after, ok := strings.CutPrefix(name, "sys."); ok {
		name = after
	}
	if !decorators[name] && !r.funcs[name] {
		r.report(fn, "@%s is not a decorator Bicep knows (BCP057)", name)
	}
	if args := call.ChildByFieldName("arguments"); args != nil {
		r.visit(args, sc)
	}
}

func (r *resolver) forLoop(n *sitter.Node, sc *scope) {
	var vars []string
	body := n.ChildByFieldName("body")
	init := n.ChildByFieldName("initializer")
	if init != nil {
		vars = append(vars, r.f.Text(init))
	}
	for _, c := range named(n) {
		switch {
		case c.Kind() == "for_loop_parameters":
			for _, v := range named(c) {
				vars = append(vars, r.f.Text(v))
			}
		case init != nil && c.Id() == init.Id(), body != nil && c.Id() == body.Id():
		default:
			r.visit(c, sc) // the collection
		}
	}
	if body != nil {
		r.visit(body, sc.with(vars...))
	}
}

// typeRefs checks the names used as types: declared or imported types.
func (r *resolver) typeRefs(n *sitter.Node, sc *scope) {
	walk(n, func(c *sitter.Node) bool {
		switch c.Kind() {
		case "parameterized_type": // resourceInput<'...'>: a built-in generic
			return false
		case "object_property":
			for _, k := range tail(named(c)) {
				r.typeRefs(k, sc)
			}
			return false
		case "member_expression": // ns.typeName from an import
			if obj := c.ChildByFieldName("object"); obj != nil && !r.types[r.f.Text(obj)] {
				r.report(obj, "undefined type namespace %s (BCP057)", r.f.Text(obj))
			}
			return false
		case "identifier":
			if !r.types[r.f.Text(c)] {
				r.report(c, "undefined type %s (BCP302)", r.f.Text(c))
			}
		}
		return true
	})
}

// tail is nodes without the first, which names what a declaration declares. A tree that
// tree-sitter recovered from an error may have none.
func tail(nodes []*sitter.Node) []*sitter.Node {
	if len(nodes) == 0 {
		return nil
	}
	return nodes[1:]
}
