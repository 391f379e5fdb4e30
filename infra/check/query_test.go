package check

import (
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// streamJob is what modules/streamanalytics.bicep declares about the job's inputs and outputs.
type streamJob struct {
	inputs  map[string]string // name -> datasource properties text
	outputs map[string]string // name -> properties expression text
	file    *BicepFile
}

func declaredStreamJob(t *testing.T) streamJob {
	t.Helper()
	f := bicep(t, "infra/modules/streamanalytics.bicep")
	job := streamJob{inputs: map[string]string{}, outputs: map[string]string{}, file: f}
	for _, r := range f.Resources() {
		if r.Type != "Microsoft.StreamAnalytics/streamingjobs" {
			continue
		}
		for key, into := range map[string]map[string]string{"inputs": job.inputs, "outputs": job.outputs} {
			arr := f.Property(r.Body, "properties", key)
			if arr == nil || arr.Kind() != "array" {
				t.Fatalf("the job's properties.%s is not an array literal", key)
			}
			for _, item := range named(arr) {
				name, ok := f.StringValue(f.Property(item, "name"))
				if !ok {
					t.Fatalf("an entry of properties.%s has no literal name: %s", key, clip(f.Text(item), 80))
				}
				if _, dup := into[name]; dup {
					t.Errorf("%s %s is declared twice", key, name)
				}
				into[name] = f.Text(f.Property(item, "properties"))
			}
		}
	}
	if len(job.inputs) == 0 || len(job.outputs) == 0 {
		t.Fatal("found no Stream Analytics job with inputs and outputs")
	}
	return job
}

func readQuery(t *testing.T) Query {
	t.Helper()
	src, err := os.ReadFile(repoPath(t, "infra/query.asaql"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseQuery(string(src))
	if err != nil {
		t.Fatalf("infra/query.asaql: %v", err)
	}
	return q
}

func TestQueryAliasesMatchTheJob(t *testing.T) {
	job, q := declaredStreamJob(t), readQuery(t)
	if got, want := q.Inputs, sortedKeys(job.inputs); !reflect.DeepEqual(got, want) {
		t.Errorf("the query reads FROM %v; the job declares inputs %v", got, want)
	}
	into := map[string]int{}
	for _, o := range q.Outputs {
		into[o]++
	}
	for o, n := range into {
		if n > 1 {
			t.Errorf("the query writes INTO %s %d times; give each result its own output", o, n)
		}
	}
	if got, want := sortedKeys(into), sortedKeys(job.outputs); !reflect.DeepEqual(got, want) {
		t.Errorf("the query writes INTO %v; the job declares outputs %v", got, want)
	}
}

func TestQueryReadsOnlySchemaFields(t *testing.T) {
	schema := eventSchemaFields(t)
	q := readQuery(t)
	for _, f := range q.Fields {
		if _, ok := schema[f]; !ok {
			t.Errorf("the query reads %q, which schema/event.schema.json does not define", f)
		}
	}
	// The outputs the issue asks for need these.
	for _, f := range []string{"event_id", "snapshot_time", "icao24", "callsign", "origin_country", "latitude", "longitude", "baro_altitude", "velocity", "on_ground", "squawk"} {
		if !contains(q.Fields, f) {
			t.Errorf("the query never reads %s", f)
		}
	}
}

func TestQueryTimestampsAndDeduplicates(t *testing.T) {
	q := readQuery(t)
	schema := eventSchemaFields(t)
	for _, in := range q.Inputs {
		ts, ok := q.TimestampBy[in]
		if !ok {
			for k, v := range q.TimestampBy {
				if strings.EqualFold(k, in) {
					ts, ok = v, true
				}
			}
		}
		if !ok || ts != "snapshot_time" {
			t.Errorf("input %s is read with TIMESTAMP BY %q, want snapshot_time", in, ts)
		}
	}
	if schema["snapshot_time"]["format"] != "date-time" {
		t.Errorf("snapshot_time is not a date-time in the schema: %v", schema["snapshot_time"])
	}
	src, _ := os.ReadFile(repoPath(t, "infra/query.asaql"))
	text := strings.Join(strings.Fields(string(src)), " ")
	dedup := regexp.MustCompile(`LAG\(event_id\) OVER \(PARTITION BY event_id LIMIT DURATION\(\w+, \d+\)\) IS NULL`)
	if !dedup.MatchString(text) {
		t.Error("the query does not drop repeated event_ids (LAG(event_id) OVER (PARTITION BY event_id ...) IS NULL)")
	}
	for _, code := range []string{"'7500'", "'7600'", "'7700'"} {
		if !strings.Contains(text, "squawk = "+code) {
			t.Errorf("the emergencies output does not test squawk = %s", code)
		}
	}
	if !strings.Contains(text, "GROUP BY origin_country, TumblingWindow(minute, 1)") {
		t.Error("the per-country output is not a one-minute tumbling window per origin_country")
	}
}

func TestStreamJobInputAndOutputs(t *testing.T) {
	job := declaredStreamJob(t)
	f := job.file
	for name, props := range job.inputs {
		for _, want := range []string{"type: 'Microsoft.ServiceBus/EventHub'", "authenticationMode: 'Msi'", "type: 'Json'", "encoding: 'UTF8'"} {
			if !strings.Contains(props, want) {
				t.Errorf("input %s lacks %s", name, want)
			}
		}
	}
	datasets := map[string]string{}
	for _, name := range []string{"livepositions", "countrystats", "emergencies"} {
		props := strings.Join(strings.Fields(job.outputs[name]), " ")
		m := regexp.MustCompile(`^enablePowerBi \? powerBiOutput\(powerBiWorkspaceId, ([^,]+), ([^)]+)\) : blobOutput\(`).FindStringSubmatch(props)
		if m == nil {
			t.Errorf("output %s is %q; want enablePowerBi ? powerBiOutput(powerBiWorkspaceId, dataset, table) : blobOutput(...)", name, props)
			continue
		}
		if other, dup := datasets[m[1]]; dup {
			t.Errorf("outputs %s and %s share the Power BI dataset %s; each needs its own", other, name, m[1])
		}
		datasets[m[1]] = name
	}
	if archive := job.outputs["archive"]; !strings.HasPrefix(archive, "blobOutput(") {
		t.Errorf("the archive output is %q; it must always go to Blob storage", archive)
	}

	funcs := f.Funcs()
	pbi, blob := funcs["powerBiOutput"], funcs["blobOutput"]
	if pbi == nil || blob == nil {
		t.Fatal("streamanalytics.bicep must define the functions powerBiOutput and blobOutput")
	}
	for _, c := range []struct {
		body  string
		path  []string
		value string
	}{
		{"powerBiOutput", []string{"datasource", "type"}, "PowerBI"},
		{"powerBiOutput", []string{"datasource", "properties", "authenticationMode"}, "Msi"},
		{"powerBiOutput", []string{"datasource", "properties", "groupId"}, "workspaceId"},
		{"blobOutput", []string{"datasource", "type"}, "Microsoft.Storage/Blob"},
		{"blobOutput", []string{"datasource", "properties", "authenticationMode"}, "Msi"},
		{"blobOutput", []string{"datasource", "properties", "pathPattern"}, "'${prefix}/{date}/{time}'"},
		{"blobOutput", []string{"datasource", "properties", "timeFormat"}, "HH"},
		{"blobOutput", []string{"serialization", "type"}, "Json"},
		{"blobOutput", []string{"serialization", "properties", "format"}, "LineSeparated"},
	} {
		if got := f.Value(f.Property(funcs[c.body], c.path...)); got != c.value {
			t.Errorf("%s: %s is %q, want %q", c.body, strings.Join(c.path, "."), got, c.value)
		}
	}
}

func TestParseQuery(t *testing.T) {
	for _, c := range []struct {
		name, src                  string
		inputs, outputs, fields    []string
		timestampBy, wantErrSubstr string
	}{
		{
			name:        "steps, aliases and record fields",
			src:         "WITH Step1 AS (SELECT a, TRY_CAST(b AS datetime) AS b_at FROM hub TIMESTAMP BY t) SELECT x.c AS c, b_at INTO out FROM Step1 -- d in a comment",
			inputs:      []string{"hub"},
			outputs:     []string{"out"},
			fields:      []string{"a", "b", "c", "t", "x"},
			timestampBy: "t",
		},
		{
			name:    "a misspelt field does not hide behind its alias",
			src:     "SELECT latest.calsign AS calsign INTO out FROM [in put] /* block\ncomment */",
			inputs:  []string{"in put"},
			outputs: []string{"out"},
			fields:  []string{"calsign", "latest"},
		},
		{
			name:    "strings, functions, System.Timestamp and time units are not fields",
			src:     "SELECT COUNT(*) AS n1, System.Timestamp() AS w INTO o FROM i WHERE v = 'it''s' GROUP BY TumblingWindow(minute, 1)",
			inputs:  []string{"i"},
			outputs: []string{"o"},
			fields:  []string{"v"},
		},
		{name: "unterminated string", src: "SELECT 'x INTO o FROM i", wantErrSubstr: "unterminated string"},
		{name: "unbalanced", src: "SELECT (a INTO o FROM i", wantErrSubstr: "unbalanced"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, err := ParseQuery(c.src)
			if c.wantErrSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErrSubstr) {
					t.Fatalf("err = %v, want one with %q", err, c.wantErrSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(q.Outputs)
			if !reflect.DeepEqual(q.Inputs, c.inputs) || !reflect.DeepEqual(q.Outputs, c.outputs) || !reflect.DeepEqual(q.Fields, c.fields) {
				t.Errorf("inputs %v outputs %v fields %v; want %v %v %v", q.Inputs, q.Outputs, q.Fields, c.inputs, c.outputs, c.fields)
			}
			if c.timestampBy != "" && q.TimestampBy[c.inputs[0]] != c.timestampBy {
				t.Errorf("TIMESTAMP BY = %v, want %s", q.TimestampBy, c.timestampBy)
			}
		})
	}
}
