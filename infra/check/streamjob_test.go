package check

import (
	"strings"
	"testing"
)

func TestStreamJobsMatchTheirQueries(t *testing.T) {
	expectNone(t, repoInfra(t).CheckStreamJobs())
}

// An output and an input the job does not declare, appended to a scratch copy of the query.
func TestUndeclaredQueryAliasesAreCaught(t *testing.T) {
	in := scratchInfra(t, map[string]func(string) string{
		"infra/query.asaql": appendText("SELECT icao24 INTO notAnOutput FROM notAnInput"),
	})
	problems := in.CheckStreamJobs()
	expectProblem(t, problems, "reads FROM notaninput, which is not one of the job's inputs")
	expectProblem(t, problems, "writes INTO notanoutput, which is not one of the job's outputs")
}

// The check reads the job however the names and the query are written, and reports a declared
// output that the query never writes and a non-grouped column.
func TestStreamJobChecks(t *testing.T) {
	job := func(query string) string {
		return `param extra bool
var archive = {
  name: 'Archive'
  properties: {}
}
resource job 'Microsoft.StreamAnalytics/streamingjobs@2021-10-01-preview' = {
  name: 'j'
  properties: {
    inputs: [
      {
        name: 'hub'
        properties: {}
      }
    ]
    outputs: concat([archive], extra ? [
      {
        name: 'live'
        properties: {}
      }
    ] : [])
    transformation: {
      name: 't'
      properties: {
        query: ` + query + `
      }
    }
  }
}
`
	}
	for name, c := range map[string]struct{ query, want string }{
		"all match":           {"'SELECT * INTO archive FROM hub SELECT a INTO live FROM hub'", ""},
		"unwritten output":    {"'SELECT * INTO archive FROM hub'", "output live is never written"},
		"unread input":        {"'WITH s AS (SELECT * FROM s2) SELECT * INTO archive FROM s SELECT * INTO live FROM s'", "input hub is never read"},
		"ungrouped column":    {"'SELECT a, b, COUNT(*) AS n INTO archive FROM hub GROUP BY a, TumblingWindow(minute, 1) SELECT * INTO live FROM hub'", "selected column b is neither"},
		"unreadable query":    {"toLower('x')", "the checks read only loadTextContent"},
		"query file is found": {"loadTextContent('q.asaql')", "input hub is never read"},
	} {
		t.Run(name, func(t *testing.T) {
			in := infraFromSources(t, map[string]string{
				"main.bicep": job(c.query),
				"q.asaql":    "SELECT * INTO archive FROM other SELECT * INTO live FROM other",
			})
			problems := in.CheckStreamJobs()
			if c.want == "" {
				expectNone(t, problems)
				return
			}
			expectProblem(t, problems, c.want)
			if strings.Contains(c.want, "never read") && c.query == "loadTextContent('q.asaql')" {
				expectProblem(t, problems, "reads FROM other")
			}
		})
	}
}

// The alias check reads valid queries of other shapes without false sources: CTE names, APPLY
// aliases, JOIN sources, lower-case keywords and bracketed names.
func TestQueryAliasesOfValidShapes(t *testing.T) {
	for name, c := range map[string]struct {
		src             string
		inputs, outputs string
	}{
		"steps and CROSS APPLY": {`WITH s AS (SELECT * FROM hub TIMESTAMP BY t),
			r AS (SELECT s.a, e.ArrayValue AS v FROM s CROSS APPLY GetArrayElements(s.arr) AS e)
			SELECT * INTO out FROM r`, "hub", "out"},
		"reference JOIN": {`SELECT h.a, r.name INTO out FROM hub h TIMESTAMP BY t JOIN refdata r ON h.k = r.k`, "hub refdata", "out"},
		"stream JOIN with DATEDIFF": {`SELECT a.x INTO out FROM hub a TIMESTAMP BY t
			JOIN hub2 b TIMESTAMP BY t ON a.k = b.k AND DATEDIFF(minute, a, b) BETWEEN 0 AND 5`, "hub hub2", "out"},
		"lower case, brackets, two outputs": {`with [my step] as (select a from [in put] timestamp by t)
			select a into [out one] from [my step]
			select a into out2 from [my step]`, "in put", "out one,out2"},
		"windows and LAG": {`WITH d AS (SELECT * FROM hub TIMESTAMP BY t WHERE LAG(id) OVER (PARTITION BY id LIMIT DURATION(hour, 1)) IS NULL)
			SELECT k, TopOne() OVER (ORDER BY t DESC) AS latest INTO out FROM d GROUP BY k, HoppingWindow(minute, 5, 1)`, "hub", "out"},
	} {
		t.Run(name, func(t *testing.T) {
			q, err := ParseQuery(c.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(q.Inputs, " "); got != c.inputs {
				t.Errorf("inputs %q, want %q", got, c.inputs)
			}
			if got := strings.Join(q.Outputs, ","); got != c.outputs {
				t.Errorf("outputs %q, want %q", got, c.outputs)
			}
			grouping, err := UngroupedColumns(c.src)
			if err != nil {
				t.Fatal(err)
			}
			expectNone(t, grouping)
		})
	}
}
