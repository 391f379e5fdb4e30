package check

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	sitter "github.com/tree-sitter/go-tree-sitter"
)

// CheckModuleArguments compares each module declaration with the parameters of the file it
// points at: every argument is a declared parameter (BCP037), every parameter without a default
// is passed (BCP035), an argument whose type can be told has the parameter's type, and an
// argument's literal values, or the @allowed values and limits of the caller's parameter it
// passes on, fit the parameter's @allowed list and @minValue/@maxValue/@minLength/@maxLength
// (BCP036, BCP327, BCP328, BCP332).
func (in *Infra) CheckModuleArguments() []string {
	var problems []string
	for _, f := range in.sorted() {
		env := in.env(f)
		for _, m := range f.Modules() {
			target := in.module(f, m)
			if target == nil {
				problems = append(problems, fmt.Sprintf("%s: module %s points at %s, which does not exist (BCP091)", f.pos(m.Body), m.Symbol, m.Path))
				continue
			}
			declared := paramsByName(target)
			args := f.Property(m.Body, "params")
			if args != nil && args.Kind() != "object" {
				continue // params built by an expression: nothing to compare by name
			}
			given := map[string]bool{}
			for _, prop := range objectProperties(f, args) {
				given[prop.key] = true
				p, ok := declared[prop.key]
				if !ok {
					problems = append(problems, fmt.Sprintf("%s: module %s passes %s, which %s does not declare (BCP037)", f.pos(prop.keyNode), m.Symbol, prop.key, target.Path))
					continue
				}
				where := fmt.Sprintf("%s: module %s: %s", f.pos(prop.value), m.Symbol, prop.key)
				problems = append(problems, checkValue(f, prop.value, p, target.Path, env, where, "BCP036")...)
			}
			for _, p := range target.Params() {
				if p.Default == nil && !given[p.Name] && !strings.HasSuffix(p.Type, "?") {
					problems = append(problems, fmt.Sprintf("%s: module %s does not pass %s, which %s requires (BCP035)", f.pos(m.Body), m.Symbol, p.Name, target.Path))
				}
			}
		}
	}
	return problems
}

// CheckParameterValues checks each parameter's default and each output's value against the
// declared type (BCP033, BCP026) and the parameter's @allowed list and limits.
func (in *Infra) CheckParameterValues() []string {
	var problems []string
	for _, f := range in.sorted() {
		env := in.env(f)
		for _, p := range f.Params() {
			if p.Default != nil {
				where := fmt.Sprintf("%s: param %s default", f.pos(p.Default), p.Name)
				problems = append(problems, checkValue(f, p.Default, p, f.Path, env, where, "BCP033")...)
			}
		}
		for _, o := range f.Outputs() {
			want := typeKind(o.Type)
			if got := f.typeOf(o.Value, env); want != "" && got != "" && got != want {
				problems = append(problems, fmt.Sprintf("%s: output %s is %s, but its value is %s (BCP026)", f.pos(o.Value), o.Name, want, got))
			}
		}
	}
	return problems
}

// valueEnv is what the file a value is written in declares that tells a value's type: its
// parameters, and the output types of the modules it calls.
type valueEnv struct {
	params        map[string]Param
	moduleOutputs map[string]map[string]string // module symbol -> output name -> type
}

func (in *Infra) env(f *BicepFile) valueEnv {
	env := valueEnv{params: paramsByName(f), moduleOutputs: map[string]map[string]string{}}
	for _, m := range f.Modules() {
		if target := in.module(f, m); target != nil {
			outs := map[string]string{}
			for _, o := range target.Outputs() {
				outs[o.Name] = o.Type
			}
			env.moduleOutputs[m.Symbol] = outs
		}
	}
	return env
}

// checkValue checks a value given for parameter p (declared in declFile) against p's type and
// allowed values. env describes the file the value is written in.
func checkValue(f *BicepFile, v *sitter.Node, p Param, declFile string, env valueEnv, where, code string) []string {
	var problems []string
	callerParams := env.params
	want := typeKind(p.Type)
	if got := f.typeOf(v, env); want != "" && got != "" && got != want {
		problems = append(problems, fmt.Sprintf("%s: %s declares %s as %s, and %s is %s (%s)", where, declFile, p.Name, p.Type, clip(f.Text(v), 40), got, code))
		return problems
	}
	for _, lit := range f.literalsOf(v, 0) {
		problems = append(problems, checkLimits(f, lit, p, declFile, callerParams, where)...)
		if p.Allowed == nil {
			continue
		}
		if k, ok := f.literalKey(lit); ok && !contains(p.Allowed, k) {
			problems = append(problems, fmt.Sprintf("%s: %s is not among the values %s allows for %s: %s (%s)", where, k, declFile, p.Name, strings.Join(p.Allowed, ", "), code))
		}
		if lit.Kind() != "identifier" || shadowed(f, lit) {
			continue
		}
		if from, ok := callerParams[f.Text(lit)]; ok && from.Allowed != nil {
			for _, k := range from.Allowed {
				if !contains(p.Allowed, k) {
					problems = append(problems, fmt.Sprintf("%s: %s passes %s, which allows %s; %s does not allow it for %s (%s)", where, f.Path, from.Name, k, declFile, p.Name, code))
				}
			}
		}
	}
	return problems
}

// limitCode is the Bicep diagnostic for a value past each limit.
var limitCode = map[string]string{"maxValue": " (BCP327)", "minValue": " (BCP328)", "maxLength": " (BCP332)", "minLength": ""}

// checkLimits checks a literal against p's @minValue, @maxValue, @minLength and @maxLength, and a
// caller's parameter passed on against them with its own limits or allowed numbers.
func checkLimits(f *BicepFile, lit *sitter.Node, p Param, declFile string, callerParams map[string]Param, where string) []string {
	if len(p.Limits) == 0 {
		return nil
	}
	var problems []string
	outside := func(what string, n int, kind string) {
		problems = append(problems, fmt.Sprintf("%s: %s is %d, and %s sets @%s(%d) on %s%s", where, what, n, declFile, kind, p.Limits[kind], p.Name, limitCode[kind]))
	}
	within := func(what string, n int, minKind, maxKind string) {
		if lo, ok := p.Limits[minKind]; ok && n < lo {
			outside(what, n, minKind)
		}
		if hi, ok := p.Limits[maxKind]; ok && n > hi {
			outside(what, n, maxKind)
		}
	}
	switch {
	case literalKind(f, lit) == "int":
		if n, err := strconv.Atoi(f.Text(lit)); err == nil {
			within("the value", n, "minValue", "maxValue")
		}
	case lit.Kind() == "string":
		if s, ok := f.StringValue(lit); ok {
			within("the length of '"+clip(s, 30)+"'", len([]rune(s)), "minLength", "maxLength")
		}
	case lit.Kind() == "identifier" && !shadowed(f, lit):
		from, ok := callerParams[f.Text(lit)]
		if !ok {
			break
		}
		// The caller's own limits, or its allowed numbers, must fit inside the module's.
		mayBe := func(n int, kind string) {
			problems = append(problems, fmt.Sprintf("%s: %s passes %s, which may be %d; %s sets @%s(%d) on %s%s", where, f.Path, from.Name, n, declFile, kind, p.Limits[kind], p.Name, limitCode[kind]))
		}
		for _, kind := range []string{"minValue", "minLength"} {
			if lo, ok := p.Limits[kind]; ok {
				if n, ok := from.Limits[kind]; ok && n < lo {
					mayBe(n, kind)
				}
			}
		}
		for _, kind := range []string{"maxValue", "maxLength"} {
			if hi, ok := p.Limits[kind]; ok {
				if n, ok := from.Limits[kind]; ok && n > hi {
					mayBe(n, kind)
				}
			}
		}
		for _, k := range from.Allowed {
			n, err := strconv.Atoi(k)
			if err != nil {
				continue
			}
			if lo, ok := p.Limits["minValue"]; ok && n < lo {
				mayBe(n, "minValue")
			}
			if hi, ok := p.Limits["maxValue"]; ok && n > hi {
				mayBe(n, "maxValue")
			}
		}
	}
	return problems
}

func paramsByName(f *BicepFile) map[string]Param {
	out := map[string]Param{}
	for _, p := range f.Params() {
		out[p.Name] = p
	}
	return out
}

type property struct {
	key            string
	keyNode, value *sitter.Node
}

func objectProperties(f *BicepFile, obj *sitter.Node) []property {
	var out []property
	if obj == nil || obj.Kind() != "object" {
		return nil
	}
	for _, prop := range named(obj) {
		kv := named(prop)
		if prop.Kind() != "object_property" || len(kv) < 2 {
			continue
		}
		key := f.Text(kv[0])
		if s, ok := f.StringValue(kv[0]); ok {
			key = s
		}
		out = append(out, property{key, kv[0], kv[len(kv)-1]})
	}
	return out
}

// typeKind reduces a declared type to string, int, bool, object or array; "" for types this
// check does not follow (user-defined types, resource types, any).
func typeKind(typ string) string {
	typ = strings.TrimSuffix(strings.TrimSpace(typ), "?")
	switch {
	case typ == "string" || typ == "int" || typ == "bool" || typ == "object" || typ == "array":
		return typ
	case strings.HasSuffix(typ, "[]"):
		return "array"
	case strings.HasPrefix(typ, "'"):
		return "string" // a union of string literals
	}
	return ""
}

// typeOf tells the type of an expression where that is plain from the text: literals, strings
// with interpolation, parameters, module outputs, and variables and ternaries made of those. ""
// means unknown.
func (f *BicepFile) typeOf(n *sitter.Node, env valueEnv) string {
	kinds := map[string]bool{}
	for _, v := range f.literalsOf(n, 0) {
		k := literalKind(f, v)
		switch {
		case k != "":
		case v.Kind() == "object" || v.Kind() == "array":
			k = v.Kind()
		case v.Kind() == "identifier" && !shadowed(f, v):
			if p, ok := env.params[f.Text(v)]; ok {
				k = typeKind(p.Type)
			}
		case v.Kind() == "member_expression":
			// module.outputs.name
			if root, segs, ok := f.chain(v); ok && len(segs) == 2 && segs[0] == "outputs" && !shadowed(f, root) {
				k = typeKind(env.moduleOutputs[f.Text(root)][segs[1]])
			}
		}
		if k == "" || k == "null" {
			return ""
		}
		kinds[k] = true
	}
	if len(kinds) != 1 {
		return ""
	}
	for k := range kinds {
		return k
	}
	return ""
}

// azdReference is an azd environment reference in a parameter file: ${NAME} or ${NAME=default}.
var azdReference = regexp.MustCompile(`^\$\{(\w+)(?:=(.*))?\}$`)

// CheckParameterFiles checks each <name>.parameters.json under infra/ against <name>.bicep: every
// parameter it sets is declared there, and every value it gives (or, for an azd ${VAR=default}
// reference, the default) has the parameter's type and is in its @allowed list.
func (in *Infra) CheckParameterFiles() ([]string, error) {
	var problems []string
	for _, f := range in.sorted() {
		path := filepath.Join(in.Root, filepath.FromSlash(strings.TrimSuffix(f.Path, ".bicep")+".parameters.json"))
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		rel := strings.TrimSuffix(f.Path, ".bicep") + ".parameters.json"
		var file struct {
			Parameters map[string]struct {
				Value     json.RawMessage `json:"value"`
				Reference json.RawMessage `json:"reference"`
			} `json:"parameters"`
		}
		if err := json.Unmarshal(b, &file); err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		params := paramsByName(f)
		for _, name := range sortedKeys(file.Parameters) {
			p, ok := params[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: sets %s, which %s does not declare", rel, name, f.Path))
				continue
			}
			raw := file.Parameters[name].Value
			if raw == nil {
				continue // a Key Vault reference
			}
			key, kind, ok := jsonLiteral(raw, typeKind(p.Type))
			if !ok {
				continue
			}
			if want := typeKind(p.Type); want != "" && kind != want {
				problems = append(problems, fmt.Sprintf("%s: %s is %s, and %s is %s", rel, name, p.Type, string(raw), kind))
				continue
			}
			if lo, ok := p.Limits["minValue"]; ok && kind == "int" && atoi(key) < lo {
				problems = append(problems, fmt.Sprintf("%s: %s = %s is below the @minValue(%d) of %s", rel, name, string(raw), lo, f.Path))
			}
			if hi, ok := p.Limits["maxValue"]; ok && kind == "int" && atoi(key) > hi {
				problems = append(problems, fmt.Sprintf("%s: %s = %s is above the @maxValue(%d) of %s", rel, name, string(raw), hi, f.Path))
			}
			if p.Allowed != nil && key != "" && !contains(p.Allowed, key) {
				problems = append(problems, fmt.Sprintf("%s: %s = %s is not among the values %s allows: %s", rel, name, string(raw), f.Path, strings.Join(p.Allowed, ", ")))
			}
		}
	}
	return problems, nil
}

// jsonLiteral reads a parameter file value as literalKey writes it, with its type. An azd
// reference stands for its default, read as the parameter's type (azd passes text); a reference
// without a default reports ok false, since its value is known only at deploy time.
func jsonLiteral(raw json.RawMessage, want string) (key, kind string, ok bool) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", "", false
	}
	if s, isString := v.(string); isString {
		m := azdReference.FindStringSubmatch(s)
		if m == nil {
			return "'" + s + "'", "string", true
		}
		if !strings.Contains(s, "=") {
			return "", "", false
		}
		def := m[2]
		switch want {
		case "int":
			if _, err := strconv.Atoi(def); err == nil {
				return def, "int", true
			}
		case "bool":
			if def == "true" || def == "false" {
				return def, "bool", true
			}
		}
		return "'" + def + "'", "string", true
	}
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), "int", true
	case bool:
		return strconv.FormatBool(x), "bool", true
	case map[string]any:
		return "", "object", true
	case []any:
		return "", "array", true
	}
	return "", "", false
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
