package check

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sitter "github.com/tree-sitter/go-tree-sitter"
)

// CheckStreamJobs compares each Stream Analytics job in the Bicep with its query: every FROM or
// JOIN source that is not a WITH step is a declared input, every declared input is read, every
// INTO target is a declared output and every declared output is written (names compared without
// case, as Stream Analytics does); and no selected column escapes its GROUP BY. The query is
// read from loadTextContent('...') or a string literal; the names from the job's inputs and
// outputs arrays, through variables, ternaries, concat() and union().
func (in *Infra) CheckStreamJobs() []string {
	var problems []string
	for _, f := range in.sorted() {
		for _, r := range f.Resources() {
			if !strings.EqualFold(r.Type, "Microsoft.StreamAnalytics/streamingjobs") || r.Existing {
				continue
			}
			report := func(format string, args ...any) {
				problems = append(problems, fmt.Sprintf("%s: job %s: %s", f.pos(r.Node), r.Symbol, fmt.Sprintf(format, args...)))
			}
			inputs, bad1 := f.itemNames(f.Property(r.Body, "properties", "inputs"))
			outputs, bad2 := f.itemNames(f.Property(r.Body, "properties", "outputs"))
			for _, n := range append(bad1, bad2...) {
				report("cannot tell the name of %s; give inputs and outputs literal names", clip(f.Text(n), 60))
			}
			queryNode := f.Property(r.Body, "properties", "transformation", "properties", "query")
			src, where, err := in.queryText(f, queryNode)
			if err != nil {
				report("%v", err)
				continue
			}
			q, err := ParseQuery(src)
			if err != nil {
				report("%s: %v", where, err)
				continue
			}
			read := lowerSet(q.Inputs)
			written := lowerSet(q.Outputs)
			for _, name := range sortedKeys(read) {
				if !inputs[name] {
					report("%s reads FROM %s, which is not one of the job's inputs (%s)", where, name, strings.Join(sortedKeys(inputs), ", "))
				}
			}
			for _, name := range sortedKeys(inputs) {
				if !read[name] {
					report("input %s is never read by %s", name, where)
				}
			}
			for _, name := range sortedKeys(written) {
				if !outputs[name] {
					report("%s writes INTO %s, which is not one of the job's outputs (%s)", where, name, strings.Join(sortedKeys(outputs), ", "))
				}
			}
			for _, name := range sortedKeys(outputs) {
				if !written[name] {
					report("output %s is never written by %s", name, where)
				}
			}
			grouping, err := UngroupedColumns(src)
			if err != nil {
				report("%s: %v", where, err)
			}
			for _, p := range grouping {
				report("%s: %s", where, p)
			}
		}
	}
	return problems
}

func lowerSet(names []string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		out[strings.ToLower(n)] = true
	}
	return out
}

// itemNames collects the literal name of every object an array expression may hold, lower-cased;
// bad lists the items whose name is not a literal.
func (f *BicepFile) itemNames(arr *sitter.Node) (names map[string]bool, bad []*sitter.Node) {
	names = map[string]bool{}
	for _, a := range f.literalsOf(arr, 0) {
		if a.Kind() != "array" {
			bad = append(bad, a)
			continue
		}
		for _, item := range named(a) {
			for _, obj := range f.literalsOf(item, 0) {
				name, ok := f.StringValue(f.Property(obj, "name"))
				if !ok {
					bad = append(bad, obj)
					continue
				}
				names[strings.ToLower(name)] = true
			}
		}
	}
	return names, bad
}

// queryText reads the query a job's transformation sets: loadTextContent('path') relative to the
// Bicep file, or a string literal.
func (in *Infra) queryText(f *BicepFile, n *sitter.Node) (src, where string, err error) {
	if n == nil {
		return "", "", fmt.Errorf("has no properties.transformation.properties.query")
	}
	if s, ok := f.StringValue(n); ok {
		return s, "the query", nil
	}
	if n.Kind() == "call_expression" && f.Text(n.ChildByFieldName("function")) == "loadTextContent" {
		args := named(n.ChildByFieldName("arguments"))
		if len(args) > 0 {
			if p, ok := f.StringValue(args[0]); ok {
				rel := filepath.ToSlash(filepath.Join(filepath.Dir(f.Path), p))
				b, err := os.ReadFile(filepath.Join(in.Root, filepath.FromSlash(rel)))
				if err != nil {
					return "", "", err
				}
				return string(b), rel, nil
			}
		}
	}
	return "", "", fmt.Errorf("the query is %s; the checks read only loadTextContent('file') or a string literal", clip(f.Text(n), 60))
}
