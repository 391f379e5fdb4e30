package view_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/view"
)

// queryRules are the rules read from the text of infra/query.asaql. The test relies on these
// parts of the query and fails, naming the part, when one is missing:
//   - the dedupe: LAG(<col>) OVER (PARTITION BY <col> ...) in a WITH step, and that step's name;
//   - the per-aircraft step: TopOne() OVER (ORDER BY <col> DESC), <col> possibly an alias made by
//     TRY_CAST(<field> AS datetime) AS <col>, and the plain columns of that statement's GROUP BY
//     (window functions and snapshot_time, constant within a snapshot, left out);
//   - the statement INTO countrystats: the plain columns of its GROUP BY and the column counted
//     in its COUNT(DISTINCT ...) (the value after DISTINCT, THEN or ELSE that is not NULL);
//   - the statement INTO emergencies: its FROM (must be the dedupe step) and every squawk literal
//     it compares with = or IN (...).
type queryRules struct {
	DedupeKey, DedupeStep string
	AircraftKey           []string
	Latest                string
	CountryKey            string
	CountDistinct         string
	EmergencyFrom         string
	EmergencySquawks      []string
}

var (
	reComment  = regexp.MustCompile(`--[^\n]*`)
	reLag      = regexp.MustCompile(`(?i)LAG\s*\(\s*(\w+)\s*\)\s*OVER\s*\(\s*PARTITION\s+BY\s+(\w+)`)
	reStep     = regexp.MustCompile(`(?i)(\w+)\s+AS\s*\(\s*SELECT\b`)
	reTopOne   = regexp.MustCompile(`(?i)TopOne\s*\(\s*\)\s*OVER\s*\(\s*ORDER\s+BY\s+(\w+)\s+DESC`)
	reSelect   = regexp.MustCompile(`(?i)\bSELECT\b`)
	reGroupBy  = regexp.MustCompile(`(?i)\bGROUP\s+BY\b`)
	reFrom     = regexp.MustCompile(`(?i)\bFROM\s+(\w+)`)
	reDistinct = regexp.MustCompile(`(?i)COUNT\s*\(\s*DISTINCT\b([^)]*)\)`)
	reValue    = regexp.MustCompile(`(?i)\b(?:DISTINCT|THEN|ELSE)\s+([\w.]+)`)
	reSquawk   = regexp.MustCompile(`(?i)\bsquawk\s*(?:=\s*'(\d+)'|IN\s*\(([^)]*)\))`)
	reLiteral  = regexp.MustCompile(`'(\d+)'`)
)

func parseQuery(text string) (queryRules, error) {
	q := reComment.ReplaceAllString(text, "")
	var r queryRules

	m := reLag.FindStringSubmatchIndex(q)
	if m == nil {
		return r, fmt.Errorf("no dedupe step: LAG(<col>) OVER (PARTITION BY <col> ...)")
	}
	lagCol, partCol := q[m[2]:m[3]], q[m[4]:m[5]]
	if lagCol != partCol {
		return r, fmt.Errorf("dedupe LAG(%s) is partitioned by %s, not by itself", lagCol, partCol)
	}
	r.DedupeKey = partCol
	for _, s := range reStep.FindAllStringSubmatchIndex(q, -1) {
		if s[0] < m[0] {
			r.DedupeStep = q[s[2]:s[3]]
		}
	}
	if r.DedupeStep == "" {
		return r, fmt.Errorf("the dedupe LAG is not inside a WITH step (<name> AS (SELECT ...))")
	}

	t := reTopOne.FindStringSubmatchIndex(q)
	if t == nil {
		return r, fmt.Errorf("no per-aircraft step: TopOne() OVER (ORDER BY <col> DESC)")
	}
	r.Latest = q[t[2]:t[3]]
	if c := regexp.MustCompile(`(?i)TRY_CAST\s*\(\s*(\w+)\s+AS\s+datetime\s*\)\s+AS\s+` + regexp.QuoteMeta(r.Latest) + `\b`).FindStringSubmatch(q); c != nil {
		r.Latest = c[1]
	}
	r.AircraftKey = groupBy(q[t[0]:])
	if len(r.AircraftKey) == 0 {
		return r, fmt.Errorf("the TopOne step has no GROUP BY columns")
	}

	stats, err := statement(q, "countrystats")
	if err != nil {
		return r, err
	}
	keys := groupBy(stats)
	if len(keys) != 1 {
		return r, fmt.Errorf("countrystats groups by %v, want one country column", keys)
	}
	r.CountryKey = keys[0]
	counted := map[string]bool{}
	for _, d := range reDistinct.FindAllStringSubmatch(stats, -1) {
		for _, v := range reValue.FindAllStringSubmatch("DISTINCT "+d[1], -1) {
			if c := v[1]; !strings.EqualFold(c, "NULL") && !strings.EqualFold(c, "CASE") {
				counted[c[strings.LastIndex(c, ".")+1:]] = true
			}
		}
	}
	if len(counted) != 1 {
		return r, fmt.Errorf("countrystats counts distinct %v, want one column", counted)
	}
	for c := range counted {
		r.CountDistinct = c
	}

	em, err := statement(q, "emergencies")
	if err != nil {
		return r, err
	}
	into := strings.Index(strings.ToUpper(em), "INTO EMERGENCIES")
	if f := reFrom.FindStringSubmatch(em[into:]); f != nil {
		r.EmergencyFrom = f[1]
	}
	for _, s := range reSquawk.FindAllStringSubmatch(em[into:], -1) {
		if s[1] != "" {
			r.EmergencySquawks = append(r.EmergencySquawks, s[1])
		}
		for _, l := range reLiteral.FindAllStringSubmatch(s[2], -1) {
			r.EmergencySquawks = append(r.EmergencySquawks, l[1])
		}
	}
	if len(r.EmergencySquawks) == 0 {
		return r, fmt.Errorf("the emergencies statement compares squawk with no literal")
	}
	sort.Strings(r.EmergencySquawks)
	return r, nil
}

// statement returns the SELECT statement writing INTO output: from its SELECT to the next
// SELECT at the top level, or the end.
func statement(q, output string) (string, error) {
	loc := regexp.MustCompile(`(?i)\bINTO\s+` + output + `\b`).FindStringIndex(q)
	if loc == nil {
		return "", fmt.Errorf("no statement INTO %s", output)
	}
	start := 0
	for _, s := range reSelect.FindAllStringIndex(q[:loc[0]], -1) {
		start = s[0]
	}
	end := len(q)
	if n := reSelect.FindStringIndex(q[loc[1]:]); n != nil {
		end = loc[1] + n[0]
	}
	return q[start:end], nil
}

// groupBy returns the plain columns of the first GROUP BY in s: window functions and
// snapshot_time (one value per snapshot) are left out.
func groupBy(s string) []string {
	loc := reGroupBy.FindStringIndex(s)
	if loc == nil {
		return nil
	}
	var cols []string
	depth, from := 0, loc[1]
	flush := func(to int) {
		c := strings.TrimSpace(s[from:to])
		if c != "" && !strings.Contains(c, "(") && c != "snapshot_time" {
			cols = append(cols, c[strings.LastIndex(c, ".")+1:])
		}
	}
	for i := loc[1]; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 { // the end of the WITH step
				flush(i)
				return cols
			}
		case ',':
			if depth == 0 {
				flush(i)
				from = i + 1
			}
		case '\n':
			if depth == 0 && strings.TrimSpace(s[from:i]) != "" && !strings.HasSuffix(strings.TrimSpace(s[from:i]), ",") {
				flush(i)
				return cols
			}
		}
	}
	flush(len(s))
	return cols
}

// reference applies rules read from the query to events decoded as generic JSON: a second,
// independent reading of the same rules.
func reference(r queryRules, events []map[string]any) (aircraft []string, countries []view.CountryCount, emergencies []string) {
	str := func(e map[string]any, col string) string {
		v, _ := e[col].(string) // event fields the rules name are strings (times as RFC 3339)
		return v
	}
	seen := map[string]bool{}
	var states []map[string]any
	for _, e := range events {
		if k := str(e, r.DedupeKey); !seen[k] {
			seen[k] = true
			states = append(states, e)
		}
	}
	latest := map[string]map[string]any{}
	var order []string
	for _, e := range states {
		var parts []string
		for _, c := range r.AircraftKey {
			parts = append(parts, str(e, c))
		}
		k := strings.Join(parts, "\x00")
		if cur, ok := latest[k]; !ok {
			latest[k] = e
			order = append(order, k)
		} else if str(e, r.Latest) > str(cur, r.Latest) { // RFC 3339 UTC sorts as time
			latest[k] = e
		}
		if r.EmergencyFrom == r.DedupeStep && slices.Contains(r.EmergencySquawks, str(e, "squawk")) {
			emergencies = append(emergencies, str(e, "event_id"))
		}
	}
	distinct := map[string]map[string]bool{}
	for _, k := range order {
		e := latest[k]
		aircraft = append(aircraft, str(e, "event_id"))
		c := str(e, r.CountryKey)
		if distinct[c] == nil {
			distinct[c] = map[string]bool{}
		}
		distinct[c][str(e, r.CountDistinct)] = true
	}
	for c, ids := range distinct {
		countries = append(countries, view.CountryCount{OriginCountry: c, Aircraft: len(ids)})
	}
	return aircraft, countries, emergencies
}

func readQuery(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "infra", "query.asaql"))
	if err != nil {
		t.Fatalf("reading the Stream Analytics query: %v", err)
	}
	return string(b)
}

// TestViewRulesAreTheQuerys: the rules the view applies are those written in the query.
func TestViewRulesAreTheQuerys(t *testing.T) {
	r, err := parseQuery(readQuery(t))
	if err != nil {
		t.Fatalf("infra/query.asaql: %v", err)
	}
	if r.DedupeKey != view.Rules.DedupeKey {
		t.Errorf("dedupe: query %s, view %s", r.DedupeKey, view.Rules.DedupeKey)
	}
	if !slices.Equal(r.AircraftKey, view.Rules.AircraftKey) || r.Latest != view.Rules.Latest {
		t.Errorf("one aircraft per %v, latest by %s in the query; the view: per %v by %s", r.AircraftKey, r.Latest, view.Rules.AircraftKey, view.Rules.Latest)
	}
	if r.CountryKey != view.Rules.CountryKey || r.CountDistinct != view.Rules.CountDistinct {
		t.Errorf("per country: query counts distinct %s per %s, the view %s per %s", r.CountDistinct, r.CountryKey, view.Rules.CountDistinct, view.Rules.CountryKey)
	}
	if r.EmergencyFrom != r.DedupeStep {
		t.Errorf("emergencies read %s, not the deduplicated %s the view reads", r.EmergencyFrom, r.DedupeStep)
	}
	if !slices.Equal(r.EmergencySquawks, view.Rules.EmergencySquawks) {
		t.Errorf("emergency squawks: query %v, view %v", r.EmergencySquawks, view.Rules.EmergencySquawks)
	}
}

// TestParseQueryFindsChanges: the parser reads what the query says, not what the view expects,
// so a changed query fails TestViewRulesAreTheQuerys.
func TestParseQueryFindsChanges(t *testing.T) {
	q := readQuery(t)
	for _, c := range []struct{ from, to, want string }{
		{"squawk = '7600' OR ", "", "[7500 7700]"},
		{"WHERE squawk = '7500' OR squawk = '7600' OR squawk = '7700'", "WHERE squawk IN ('7500', '7600', '7700', '7777')", "[7500 7600 7700 7777]"},
		{"PARTITION BY event_id", "PARTITION BY icao24", "error"},
	} {
		if !strings.Contains(q, c.from) {
			t.Fatalf("the query no longer contains %q; update this test", c.from)
		}
		r, err := parseQuery(strings.Replace(q, c.from, c.to, 1))
		got := fmt.Sprint(r.EmergencySquawks)
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("query with %q as %q: got %s (%v), want %s", c.from, c.to, got, err, c.want)
		}
	}
}

type evIn struct {
	id, icao, country, lastContact, squawk string
	lon, lat                               *float64
}

func f(v float64) *float64 { return &v }

func (e evIn) JSON() []byte {
	icao := e.icao
	if icao == "" {
		icao = strings.SplitN(e.id, "-", 2)[0]
	}
	lc := e.lastContact
	if lc == "" {
		lc = "2026-11-27T10:00:00Z"
	}
	m := map[string]any{
		"event_id": e.id, "snapshot_time": "2026-11-27T10:00:05Z", "icao24": icao, "callsign": "TEST1",
		"origin_country": e.country, "time_position": nil, "last_contact": lc, "longitude": e.lon, "latitude": e.lat,
		"baro_altitude": 1000.5, "on_ground": false, "velocity": 200.0, "true_track": 90.0, "vertical_rate": 0.0,
		"sensors": nil, "geo_altitude": nil, "squawk": nil, "spi": false, "position_source": 0,
	}
	if e.squawk != "" {
		m["squawk"] = e.squawk
	}
	b, _ := json.Marshal(m)
	return b
}

// aggregateCases are inputs and the outputs the query's rules give for them. Both the view and
// the reference reading of the query must give these.
var aggregateCases = []struct {
	name        string
	in          []evIn
	aircraft    []string // event_id of each aircraft's event, by icao24
	countries   []view.CountryCount
	emergencies []string // event_id, by icao24
}{
	{
		name: "one aircraft per country",
		in: []evIn{
			{id: "a1-1", country: "Germany", lon: f(8.5), lat: f(50)},
			{id: "b2-1", country: "France", lon: f(2.3), lat: f(48.8)},
		},
		aircraft:  []string{"a1-1", "b2-1"},
		countries: []view.CountryCount{{"France", 1}, {"Germany", 1}},
	},
	{
		name: "a repeated event counts once",
		in: []evIn{
			{id: "a1-1", country: "Germany", squawk: "7700"},
			{id: "a1-1", country: "Germany", squawk: "7700"},
			{id: "c3-1", country: "Germany"},
		},
		aircraft:    []string{"a1-1", "c3-1"},
		countries:   []view.CountryCount{{"Germany", 2}},
		emergencies: []string{"a1-1"},
	},
	{
		name: "two states of one aircraft: the latest contact is its position, both emergencies listed",
		in: []evIn{
			{id: "a1-2", country: "Spain", lastContact: "2026-11-27T10:00:02Z", squawk: "7600"},
			{id: "a1-1", country: "Spain", lastContact: "2026-11-27T10:00:01Z", squawk: "7500"},
			{id: "a1-3", country: "Spain", lastContact: "2026-11-27T10:00:00Z"},
		},
		aircraft:    []string{"a1-2"},
		countries:   []view.CountryCount{{"Spain", 1}},
		emergencies: []string{"a1-1", "a1-2"},
	},
	{
		name: "only 7500, 7600 and 7700 are emergencies; no position still counts",
		in: []evIn{
			{id: "a1-1", country: "Italy", squawk: "7000", lon: f(12), lat: f(41)},
			{id: "b1-1", country: "Italy", squawk: "7777"},
			{id: "c1-1", country: "Italy", squawk: "7700"},
			{id: "d1-1", country: "Austria", squawk: "0770"},
		},
		aircraft:    []string{"a1-1", "b1-1", "c1-1", "d1-1"},
		countries:   []view.CountryCount{{"Italy", 3}, {"Austria", 1}},
		emergencies: []string{"c1-1"},
	},
	{
		name: "empty",
	},
}

// TestAggregateTable holds the view and the query (as read from its text) to the same outputs.
func TestAggregateTable(t *testing.T) {
	rules, err := parseQuery(readQuery(t))
	if err != nil {
		t.Fatalf("infra/query.asaql: %v", err)
	}
	snapT := time.Date(2026, 11, 27, 10, 0, 5, 0, time.UTC)
	for _, c := range aggregateCases {
		t.Run(c.name, func(t *testing.T) {
			var events []view.Event
			var generic []map[string]any
			for _, in := range c.in {
				e, err := view.ParseEvent(in.JSON())
				if err != nil {
					t.Fatal(err)
				}
				events = append(events, e)
				var m map[string]any
				if err := json.Unmarshal(in.JSON(), &m); err != nil {
					t.Fatal(err)
				}
				generic = append(generic, m)
			}
			s := view.Aggregate(snapT, events)
			var ids, emIDs []string
			for _, a := range s.Aircraft {
				ids = append(ids, a.EventID)
			}
			for _, e := range s.Emergencies {
				emIDs = append(emIDs, e.EventID)
			}
			check(t, "view", ids, s.Countries, emIDs, c.aircraft, c.countries, c.emergencies)

			ra, rc, re := reference(rules, generic)
			sort.Strings(ra)
			sort.Strings(re)
			sort.Slice(rc, func(i, j int) bool {
				if rc[i].Aircraft != rc[j].Aircraft {
					return rc[i].Aircraft > rc[j].Aircraft
				}
				return rc[i].OriginCountry < rc[j].OriginCountry
			})
			check(t, "query", ra, rc, re, c.aircraft, c.countries, c.emergencies)
		})
	}
}

func check(t *testing.T, who string, aircraft []string, countries []view.CountryCount, emergencies []string, wantA []string, wantC []view.CountryCount, wantE []string) {
	t.Helper()
	if !slices.Equal(aircraft, wantA) {
		t.Errorf("%s: aircraft %v, want %v", who, aircraft, wantA)
	}
	if !slices.Equal(countries, wantC) && !(len(countries) == 0 && len(wantC) == 0) {
		t.Errorf("%s: countries %v, want %v", who, countries, wantC)
	}
	if !slices.Equal(emergencies, wantE) {
		t.Errorf("%s: emergencies %v, want %v", who, emergencies, wantE)
	}
}
