package check

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Query is what a Stream Analytics query says about its inputs, outputs and fields, read from its
// text. No tool here compiles the language, so this is a tokenizer and a few rules, not a parser:
// it expects one alias per AS, FROM/INTO followed by a plain name, and fields referenced bare or as
// alias.field.
type Query struct {
	Inputs  []string // FROM and JOIN sources that are not WITH steps
	Outputs []string // INTO targets, in order
	Steps   []string // WITH step names
	Aliases []string // names declared with AS (columns and sources)
	// Fields are the identifiers that name neither a keyword, a function, a step, an input, an
	// output nor an alias declared before them: what the query reads from its events.
	Fields []string
	// TimestampBy maps each input to the field after its TIMESTAMP BY.
	TimestampBy map[string]string
}

type tokenKind int

const (
	tokIdent tokenKind = iota
	tokString
	tokNumber
	tokPunct
)

type qtoken struct {
	kind tokenKind
	text string
	line int
}

// asaKeywords holds the keywords, type names and time units that are never fields, in upper case.
var asaKeywords = wordSet(`
	SELECT FROM WHERE GROUP BY HAVING AS WITH INTO TIMESTAMP OVER PARTITION LIMIT DURATION WHEN
	IS NULL NOT AND OR CASE THEN ELSE END ORDER ASC DESC DISTINCT ALL UNION JOIN INNER LEFT
	OUTER CROSS APPLY ON BETWEEN LIKE IN TRUE FALSE SYSTEM
	DATETIME BIGINT FLOAT NVARCHAR MAX BIT RECORD ARRAY
	YEAR YY YYYY QUARTER QQ Q MONTH MM M DAYOFYEAR DY Y DAY DD D WEEK WK WW WEEKDAY DW
	HOUR HH MINUTE MI N SECOND SS S MILLISECOND MS MICROSECOND MCS NANOSECOND NS`)

func wordSet(words string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

func isKeyword(s string) bool { return asaKeywords[strings.ToUpper(s)] }

// ParseQuery reads a Stream Analytics query's text.
func ParseQuery(src string) (Query, error) {
	toks, err := tokenize(src)
	if err != nil {
		return Query{}, err
	}
	q := Query{TimestampBy: map[string]string{}}
	steps := map[string]bool{}
	aliases := map[string]int{} // name -> index of the token that declares it first
	from := map[string]bool{}
	outputs := map[string]bool{}

	at := func(i int) qtoken {
		if i < 0 || i >= len(toks) {
			return qtoken{kind: tokPunct}
		}
		return toks[i]
	}
	is := func(i int, word string) bool {
		t := at(i)
		return t.kind == tokIdent && strings.EqualFold(t.text, word)
	}

	// First pass: declarations.
	depth := 0
	for i, t := range toks {
		if t.kind == tokPunct {
			switch t.text {
			case "(":
				depth++
			case ")":
				depth--
			}
			continue
		}
		if t.kind != tokIdent {
			continue
		}
		switch {
		case depth == 0 && at(i+1).kind == tokIdent && is(i+1, "AS") && at(i+2).text == "(":
			// name AS ( ... ) at the top level is a WITH step, whatever its name (a step may be
			// called d or s, which are also date parts).
			if !steps[strings.ToLower(t.text)] {
				steps[strings.ToLower(t.text)] = true
				q.Steps = append(q.Steps, t.text)
			}
		case is(i, "AS") && at(i+1).kind == tokIdent && at(i+2).text != "(" && !isKeyword(at(i+1).text):
			if _, seen := aliases[strings.ToLower(at(i+1).text)]; !seen {
				aliases[strings.ToLower(at(i+1).text)] = i + 1
			}
		case (is(i, "FROM") || is(i, "JOIN")) && at(i+1).kind == tokIdent:
			from[strings.ToLower(at(i+1).text)] = true
			if is(i+2, "TIMESTAMP") && is(i+3, "BY") && at(i+4).kind == tokIdent {
				q.TimestampBy[at(i+1).text] = at(i + 4).text
			}
		case is(i, "INTO"):
			if at(i+1).kind != tokIdent {
				return Query{}, fmt.Errorf("line %d: INTO is not followed by an output name", t.line)
			}
			q.Outputs = append(q.Outputs, at(i+1).text)
			outputs[strings.ToLower(at(i+1).text)] = true
		}
	}
	if depth != 0 {
		return Query{}, fmt.Errorf("unbalanced parentheses")
	}
	for name := range from {
		if !steps[name] {
			q.Inputs = append(q.Inputs, name)
		}
	}
	sort.Strings(q.Inputs)
	for a := range aliases {
		q.Aliases = append(q.Aliases, a)
	}
	sort.Strings(q.Aliases)

	// Second pass: every other identifier is a field.
	fields := map[string]bool{}
	for i, t := range toks {
		if t.kind != tokIdent || isKeyword(t.text) {
			continue
		}
		lower := strings.ToLower(t.text)
		prev, next := at(i-1), at(i+1)
		switch {
		case next.text == "(":
			continue // a function
		case prev.kind == tokIdent && (is(i-1, "AS") || is(i-1, "FROM") || is(i-1, "JOIN") || is(i-1, "INTO")):
			continue // a declaration or a source
		case prev.text == "." && is(i-2, "System"):
			continue
		case steps[lower] || from[lower] || outputs[lower]:
			continue
		}
		// An alias counts only where it was declared earlier, so that a misspelt field cannot hide
		// behind its own alias (latest.calsign AS calsign).
		if pos, ok := aliases[lower]; ok && pos < i {
			continue
		}
		fields[t.text] = true
	}
	for f := range fields {
		q.Fields = append(q.Fields, f)
	}
	sort.Strings(q.Fields)
	return q, nil
}

func tokenize(src string) ([]qtoken, error) {
	var toks []qtoken
	r := []rune(src)
	line := 1
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case c == '\n':
			line++
			i++
		case unicode.IsSpace(c):
			i++
		case c == '-' && i+1 < len(r) && r[i+1] == '-':
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(r) && r[i+1] == '*':
			j := i + 2
			for ; j+1 < len(r) && !(r[j] == '*' && r[j+1] == '/'); j++ {
				if r[j] == '\n' {
					line++
				}
			}
			if j+1 >= len(r) {
				return nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			i = j + 2
		case c == '\'':
			j := i + 1
			for ; j < len(r); j++ {
				if r[j] == '\'' {
					if j+1 < len(r) && r[j+1] == '\'' {
						j++
						continue
					}
					break
				}
			}
			if j >= len(r) {
				return nil, fmt.Errorf("line %d: unterminated string", line)
			}
			toks = append(toks, qtoken{tokString, string(r[i+1 : j]), line})
			i = j + 1
		case c == '[':
			j := i + 1
			for j < len(r) && r[j] != ']' {
				j++
			}
			if j >= len(r) {
				return nil, fmt.Errorf("line %d: unterminated [name]", line)
			}
			toks = append(toks, qtoken{tokIdent, string(r[i+1 : j]), line})
			i = j + 1
		case c == '_' || unicode.IsLetter(c):
			j := i
			for j < len(r) && (r[j] == '_' || unicode.IsLetter(r[j]) || unicode.IsDigit(r[j])) {
				j++
			}
			toks = append(toks, qtoken{tokIdent, string(r[i:j]), line})
			i = j
		case unicode.IsDigit(c):
			j := i
			for j < len(r) && (unicode.IsDigit(r[j]) || r[j] == '.') {
				j++
			}
			toks = append(toks, qtoken{tokNumber, string(r[i:j]), line})
			i = j
		default:
			toks = append(toks, qtoken{tokPunct, string(c), line})
			i++
		}
	}
	return toks, nil
}
