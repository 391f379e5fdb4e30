package check

import (
	"fmt"
	"strings"
)

// asaAggregates are the Stream Analytics functions whose arguments are read per group (aggregate
// functions) or per event over a window of their own (analytic functions): a column inside them
// need not be grouped.
var asaAggregates = wordSet(`
	AVG COLLECT COLLECTTOP COUNT MAX MIN PERCENTILE_CONT PERCENTILE_DISC STDEV STDEVP SUM TOPONE
	VAR VARP LAG LAST ISFIRST`)

// clauseWords are the words that may follow a source where an alias could stand.
var clauseWords = wordSet(`WHERE GROUP HAVING TIMESTAMP PARTITION JOIN INNER LEFT OUTER CROSS ON
	UNION INTO SELECT WITH APPLY ORDER LIMIT WHEN OVER`)

// selectBlock is one SELECT of a query, with the tokens of its clauses at its own depth.
type selectBlock struct {
	line    int
	items   [][]qtoken // select list, split at top-level commas
	groupBy [][]qtoken // GROUP BY list
	having  []qtoken
	sources map[string]bool // names and aliases after FROM, JOIN and APPLY
}

// UngroupedColumns reports, for every SELECT with a GROUP BY, the columns in its select list and
// HAVING that are neither grouped nor inside an aggregate, as Stream Analytics rejects them when
// the job starts. A column counts as grouped when the GROUP BY names it, its record (latest for
// latest.callsign), or the same column through a source alias.
func UngroupedColumns(src string) ([]string, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, b := range selectBlocks(toks) {
		if b.groupBy == nil {
			continue
		}
		var grouped [][]string
		groupedExpr := map[string]bool{}
		for _, g := range b.groupBy {
			groupedExpr[exprKey(g)] = true
			for _, ref := range columnRefs(g) {
				grouped = append(grouped, b.unalias(ref))
			}
		}
		check := func(expr []qtoken, what string) {
			if groupedExpr[exprKey(expr)] {
				return
			}
			for _, ref := range columnRefs(expr) {
				if !isGrouped(b.unalias(ref), grouped) {
					problems = append(problems, fmt.Sprintf("line %d: %s %s is neither in the GROUP BY nor inside an aggregate", ref[0].line, what, joinRef(ref)))
				}
			}
		}
		for _, item := range b.items {
			check(stripAlias(item), "selected column")
		}
		if b.having != nil {
			check(b.having, "HAVING column")
		}
	}
	return problems, nil
}

// selectBlocks finds every SELECT, nested ones included, and splits its clauses.
func selectBlocks(toks []qtoken) []selectBlock {
	// depths[i] is the parenthesis depth of token i; match[i], for a "(", is the index of its ")"
	// (len(toks) if none), so that a block can step over what is nested in it.
	depths := make([]int, len(toks))
	match := make([]int, len(toks))
	var open []int
	d := 0
	for i, t := range toks {
		if t.kind == tokPunct && t.text == ")" {
			d--
			if len(open) > 0 {
				match[open[len(open)-1]] = i
				open = open[:len(open)-1]
			}
		}
		depths[i] = d
		if t.kind == tokPunct && t.text == "(" {
			d++
			match[i] = len(toks)
			open = append(open, i)
		}
	}
	isOpen := func(i int) bool { return toks[i].kind == tokPunct && toks[i].text == "(" }
	word := func(i int, w string) bool {
		return i < len(toks) && toks[i].kind == tokIdent && strings.EqualFold(toks[i].text, w)
	}
	var blocks []selectBlock
	for start := range toks {
		if !word(start, "SELECT") {
			continue
		}
		depth := depths[start]
		end := start + 1
		for end < len(toks) && depths[end] >= depth && !(depths[end] == depth && word(end, "SELECT")) {
			if isOpen(end) {
				end = match[end]
			}
			end++
		}
		end = min(end, len(toks))
		b := selectBlock{line: toks[start].line, sources: map[string]bool{}}
		clause, from := "select", start+1
		var cur []qtoken
		flush := func() {
			switch clause {
			case "select":
				b.items = splitCommas(cur)
			case "group":
				b.groupBy = splitCommas(cur)
			case "having":
				b.having = cur
			}
			cur = nil
		}
		for i := from; i < end; i++ {
			if isOpen(i) && word(i+1, "SELECT") {
				i = match[i] // a nested SELECT is a block of its own
				continue
			}
			t := toks[i]
			if depths[i] == depth && t.kind == tokIdent {
				next := ""
				switch up := strings.ToUpper(t.text); {
				case up == "DISTINCT" && clause == "select" && len(cur) == 0:
					continue
				case up == "TOP" && clause == "select" && len(cur) == 0 && i+1 < end:
					i++ // TOP n
					continue
				case up == "INTO" || up == "FROM" || up == "WHERE" || up == "UNION":
					next = strings.ToLower(up)
				case up == "GROUP" && word(i+1, "BY"):
					next = "group"
					i++
				case up == "HAVING":
					next = "having"
				case up == "JOIN" || up == "APPLY":
					next = "from"
				}
				if next != "" {
					flush()
					clause = next
					if clause == "from" {
						b.addSources(toks[i+1:end], depths[i+1:end], depth)
					}
					continue
				}
			}
			cur = append(cur, t)
		}
		flush()
		blocks = append(blocks, b)
	}
	return blocks
}

// addSources records the source after FROM, JOIN or APPLY and its alias (x, x AS a, x a).
func (b *selectBlock) addSources(rest []qtoken, depths []int, depth int) {
	i := 0
	if len(rest) > 0 && rest[0].kind == tokIdent {
		b.sources[strings.ToLower(rest[0].text)] = true
	}
	// Skip a call such as GetArrayElements(...) or a subquery to reach its alias.
	for i < len(rest) && (depths[i] > depth || rest[i].text == "(" || rest[i].text == ")" || i == 0) {
		i++
	}
	if i < len(rest) && strings.EqualFold(rest[i].text, "AS") {
		i++
	}
	if i < len(rest) && rest[i].kind == tokIdent && !clauseWords[strings.ToUpper(rest[i].text)] {
		b.sources[strings.ToLower(rest[i].text)] = true
	}
}

// unalias drops a leading source name or alias from a column reference (i.icao24 is icao24).
func (b *selectBlock) unalias(ref []qtoken) []string {
	var out []string
	for _, t := range ref {
		out = append(out, strings.ToLower(t.text))
	}
	if len(out) > 1 && b.sources[out[0]] {
		out = out[1:]
	}
	return out
}

func isGrouped(ref []string, grouped [][]string) bool {
	for _, g := range grouped {
		if len(g) <= len(ref) && strings.Join(ref[:len(g)], ".") == strings.Join(g, ".") {
			return true // the column itself, or a field of a grouped record
		}
	}
	return false
}

func splitCommas(toks []qtoken) [][]qtoken {
	var out [][]qtoken
	var cur []qtoken
	depth := 0
	for _, t := range toks {
		switch {
		case t.text == "(" && t.kind == tokPunct:
			depth++
		case t.text == ")" && t.kind == tokPunct:
			depth--
		case t.text == "," && t.kind == tokPunct && depth == 0:
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// stripAlias drops a trailing AS alias from a select item.
func stripAlias(item []qtoken) []qtoken {
	n := len(item)
	if n >= 2 && item[n-2].kind == tokIdent && strings.EqualFold(item[n-2].text, "AS") {
		return item[:n-2]
	}
	return item
}

func exprKey(toks []qtoken) string {
	var parts []string
	for _, t := range toks {
		parts = append(parts, strings.ToLower(t.text))
	}
	return strings.Join(parts, " ")
}

func joinRef(ref []qtoken) string {
	var parts []string
	for _, t := range ref {
		parts = append(parts, t.text)
	}
	return strings.Join(parts, ".")
}

// columnRefs lists the column references of an expression (a, a.b.c) outside aggregate and
// analytic calls (with their OVER clauses), skipping function names, keywords, type names after
// AS, and fields of a call's result (System.Window().Id).
func columnRefs(toks []qtoken) [][]qtoken {
	var refs [][]qtoken
	skipParens := func(i int) int { // i at "("; returns the index after the matching ")"
		depth := 0
		for ; i < len(toks); i++ {
			switch toks[i].text {
			case "(":
				depth++
			case ")":
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i := 0; i < len(toks); {
		t := toks[i]
		if t.kind != tokIdent {
			i++
			continue
		}
		// Read a dotted name.
		j := i + 1
		for j+1 < len(toks) && toks[j].text == "." && toks[j+1].kind == tokIdent {
			j += 2
		}
		var ref []qtoken
		for k := i; k < j; k += 2 {
			ref = append(ref, toks[k])
		}
		prev := ""
		if i > 0 {
			prev = toks[i-1].text
		}
		switch {
		case j < len(toks) && toks[j].text == "(":
			// A call: skip aggregates and their OVER clause whole; read other calls' arguments.
			if asaAggregates[strings.ToUpper(ref[len(ref)-1].text)] {
				j = skipParens(j)
				if j < len(toks) && strings.EqualFold(toks[j].text, "OVER") && j+1 < len(toks) && toks[j+1].text == "(" {
					j = skipParens(j + 1)
				}
			}
		case prev == "." || strings.EqualFold(prev, "AS"):
			// a field of a call's result, or a type name in CAST(x AS type)
		case len(ref) == 1 && isKeyword(t.text), strings.EqualFold(t.text, "System"):
			// a keyword, or System.Timestamp written without parentheses
		default:
			refs = append(refs, ref)
		}
		i = j
	}
	return refs
}
