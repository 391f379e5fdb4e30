package check

import (
	"os"
	"strings"
	"testing"
)

func TestQueryGroupsEverySelectedColumn(t *testing.T) {
	src, err := os.ReadFile(repoPath(t, "infra/query.asaql"))
	if err != nil {
		t.Fatal(err)
	}
	problems, err := UngroupedColumns(string(src))
	if err != nil {
		t.Fatal(err)
	}
	expectNone(t, problems)
}

// The example: a column that is neither grouped nor aggregated, put into the first
// SELECT with a GROUP BY of a scratch copy of the query.
func TestUngroupedColumnIsCaught(t *testing.T) {
	in := scratchInfra(t, map[string]func(string) string{"infra/query.asaql": func(src string) string {
		toks, err := tokenize(src)
		if err != nil {
			t.Fatal(err)
		}
		var line int
		for _, b := range selectBlocks(toks) {
			if b.groupBy != nil {
				line = b.line
				break
			}
		}
		if line == 0 {
			t.Fatal("infra/query.asaql has no GROUP BY to put an ungrouped column into")
		}
		lines := strings.Split(src, "\n")
		l := lines[line-1]
		at := strings.Index(strings.ToUpper(l), "SELECT") + len("SELECT")
		lines[line-1] = l[:at] + " notGroupedColumn," + l[at:]
		return strings.Join(lines, "\n")
	}})
	expectProblem(t, in.CheckStreamJobs(), "infra/query.asaql: line", "notGroupedColumn is neither in the GROUP BY nor inside an aggregate")
}

func TestUngroupedColumns(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string // substrings, one per expected problem
	}{
		{"plain", "SELECT a, b, COUNT(*) AS n INTO o FROM i GROUP BY a, TumblingWindow(minute, 1)", []string{"selected column b"}},
		{"in an expression", "SELECT a, CASE WHEN b > 1 THEN 'x' ELSE 'y' END AS c INTO o FROM i GROUP BY a, TumblingWindow(second, 5)", []string{"selected column b"}},
		{"in a non-aggregate call", "SELECT a, UPPER(b) AS c INTO o FROM i GROUP BY a, HoppingWindow(minute, 5, 1)", []string{"selected column b"}},
		{"in HAVING", "SELECT a, COUNT(*) AS n INTO o FROM i GROUP BY a, TumblingWindow(minute, 1) HAVING b > 3", []string{"HAVING column b"}},
		{"inside a CTE", "WITH s AS (SELECT a, b, MAX(c) AS m FROM i GROUP BY a, TumblingWindow(minute, 1)) SELECT * INTO o FROM s", []string{"selected column b"}},
		{"record field of an ungrouped record", "SELECT a, r.x AS x INTO o FROM i GROUP BY a, TumblingWindow(minute, 1)", []string{"selected column r.x"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			problems, err := UngroupedColumns(c.src)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != len(c.want) {
				t.Fatalf("got %d problems, want %d: %q", len(problems), len(c.want), problems)
			}
			for i, w := range c.want {
				if !strings.Contains(problems[i], w) {
					t.Errorf("problem %q does not say %q", problems[i], w)
				}
			}
		})
	}
}

// Valid Stream Analytics queries of the shapes the query may take pass: windows, TopOne with
// OVER, CTEs, LAG, CROSS APPLY, source aliases, DISTINCT and TOP, System.Timestamp and
// System.Window().Id, CAST, and grouped expressions.
func TestValidGroupingPasses(t *testing.T) {
	for name, src := range map[string]string{
		"tumbling window with aggregates": `SELECT origin_country, System.Timestamp() AS window_end,
			COUNT(DISTINCT CASE WHEN latest.on_ground = 1 THEN NULL ELSE icao24 END) AS airborne,
			AVG(CASE WHEN latest.on_ground = 1 THEN NULL ELSE latest.velocity END) AS v
			INTO countrystats FROM PerSnapshot GROUP BY origin_country, TumblingWindow(minute, 1)`,
		"TopOne over a window per key": `WITH Latest AS (
			SELECT icao24, TopOne() OVER (ORDER BY snapshot_time DESC) AS latest
			FROM opensky TIMESTAMP BY snapshot_time GROUP BY icao24, TumblingWindow(minute, 1))
			SELECT icao24, latest.callsign AS callsign, latest.latitude AS latitude INTO live FROM Latest`,
		"grouped record field and alias": `SELECT s.icao24, latest.callsign, COUNT(*) AS n INTO o
			FROM Steps s GROUP BY s.icao24, latest, SlidingWindow(minute, 10)`,
		"System.Timestamp without parentheses": `SELECT a, System.Timestamp AS t, COUNT(*) AS n INTO o FROM i GROUP BY a, TumblingWindow(minute, 1)`,
		"one-letter alias":                     `SELECT d.a, COUNT(*) AS n INTO o FROM x d GROUP BY a, TumblingWindow(minute, 1)`,
		"source alias both ways":               `SELECT i.a, b, SUM(i.c) AS total INTO o FROM input AS i GROUP BY a, i.b, TumblingWindow(hour, 1)`,
		"grouped expression": `SELECT CAST(snapshot_time AS datetime) AS t, COUNT(*) AS n INTO o FROM i
			GROUP BY CAST(snapshot_time AS datetime), TumblingWindow(minute, 1)`,
		"LAG and CROSS APPLY without GROUP BY": `WITH Dedup AS (
			SELECT event_id, icao24 FROM opensky TIMESTAMP BY snapshot_time
			WHERE LAG(event_id) OVER (PARTITION BY event_id LIMIT DURATION(hour, 1)) IS NULL)
			SELECT d.icao24, e.ArrayValue AS v INTO o FROM Dedup d CROSS APPLY GetArrayElements(d.sensors) AS e`,
		"window id and HAVING on aggregates": `SELECT origin_country, System.Window().Id AS w, COUNT(*) AS n INTO o FROM i
			GROUP BY origin_country, Windows(TumblingWindow(minute, 1) AS 'one', TumblingWindow(minute, 5) AS 'five')
			HAVING COUNT(*) > 10`,
		"DISTINCT, TOP and a nested step": `WITH a AS (SELECT DISTINCT x FROM i GROUP BY x, TumblingWindow(minute, 1)),
			b AS (SELECT TOP 10 x, COLLECT() AS all_rows FROM a GROUP BY x, HoppingWindow(Duration(minute, 5), Hop(minute, 1)))
			SELECT x INTO o FROM b`,
		"UNION of two grouped selects": `SELECT a, COUNT(*) AS n FROM i GROUP BY a, TumblingWindow(minute, 1)
			UNION SELECT b, COUNT(*) AS n FROM j GROUP BY b, TumblingWindow(minute, 1)`,
	} {
		t.Run(name, func(t *testing.T) {
			problems, err := UngroupedColumns(src)
			if err != nil {
				t.Fatal(err)
			}
			expectNone(t, problems)
		})
	}
}

// The query checks read any text without panicking: the query is edited by hand.
func FuzzQueryChecks(f *testing.F) {
	if src, err := os.ReadFile("testdata/repo/infra/query.asaql"); err == nil {
		f.Add(string(src))
	}
	for _, s := range []string{
		"SELECT a, COUNT(*) AS n INTO o FROM i d GROUP BY a, TumblingWindow(minute, 1) HAVING COUNT(*) > 1",
		"WITH s AS (SELECT TOP 3 DISTINCT x FROM i) SELECT s.x INTO o FROM s CROSS APPLY GetArrayElements(s.a) AS e",
		"SELECT System.Window().Id, [a b].c FROM (SELECT 1) GROUP BY",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if _, err := ParseQuery(src); err != nil {
			return
		}
		if _, err := UngroupedColumns(src); err != nil {
			t.Errorf("ParseQuery read %q but UngroupedColumns failed: %v", src, err)
		}
	})
}
