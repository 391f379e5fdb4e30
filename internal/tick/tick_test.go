package tick_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/sink"
	"github.com/opensky-eventhubs/handler/internal/tick"
)

const twoStates = `{"time":1518552809,"states":[
["ac96b8","AAL2423 ","United States",1518552809,1518552809,-93.4581,44.9529,1150.62,false,116.59,94.3,0,null,1143,"2236",false,0],
["aa56db","UAL1711 ","United States",1518552808,1518552809,-80.8667,41.8291,11277.6,false,291.48,97.3,0,null,11376.66,"1031",false,"x"],
["a0cfbd","        ","United States",null,1518552809,null,null,null,true,0,0,null,null,null,null,false,0]]}`

// fakeSource answers from a queue of results and records queries.
type fakeSource struct {
	results []fetchResult
	queries []opensky.Query
}

type fetchResult struct {
	f   opensky.Fetched
	err error
}

func (s *fakeSource) States(_ context.Context, q opensky.Query) (opensky.Fetched, error) {
	s.queries = append(s.queries, q)
	if len(s.results) == 0 {
		return opensky.Fetched{Body: []byte(twoStates), Remaining: 350, Attempts: 1}, nil
	}
	r := s.results[0]
	s.results = s.results[1:]
	return r.f, r.err
}

// fakeSink keeps a copy of what it was given (the batch itself is the runner's again once Publish
// returns) and can fail or under-report.
type fakeSink struct {
	batches  []flight.Batch
	err      error
	accepted int // events accepted before err
	short    int
}

func (s *fakeSink) Publish(_ context.Context, b flight.Batch) (sink.Report, error) {
	s.batches = append(s.batches, copyBatch(b))
	if s.err != nil {
		return sink.Report{Events: s.accepted, Batches: min(s.accepted, 1)}, s.err
	}
	return sink.Report{Events: len(b.Records) - s.short, Batches: 1, Bytes: b.Bytes()}, nil
}

// copyBatch is a deep copy of b: its own NDJSON buffer, with the records' bodies slices of it.
func copyBatch(b flight.Batch) flight.Batch {
	c := flight.Batch{SnapshotTime: b.SnapshotTime, NDJSON: bytes.Clone(b.NDJSON), Records: slices.Clone(b.Records)}
	start := 0
	for i := range c.Records {
		end := start + len(c.Records[i].Body)
		c.Records[i].Body = c.NDJSON[start:end:end]
		start = end + 1
	}
	return c
}

func newRunner(src *fakeSource, snk *fakeSink, now *time.Time) *tick.Runner {
	return &tick.Runner{Source: src, Sink: snk, SinkName: "fake", Timeout: time.Minute, LowCredits: 40,
		Now: func() time.Time { return *now }}
}

func TestTickPublishesAndCountsRejections(t *testing.T) {
	now := time.Date(2018, 2, 13, 20, 14, 0, 0, time.UTC)
	src, snk := &fakeSource{}, &fakeSink{}
	sum, err := newRunner(src, snk, &now).Tick(context.Background(), tick.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.StatesReceived != 3 || sum.StatesRejected != 1 || sum.EventsPublished != 2 || sum.RejectedByField["position_source"] != 1 {
		t.Errorf("summary = %+v", sum)
	}
	if sum.SnapshotTime == nil || !sum.SnapshotTime.Equal(time.Unix(1518552809, 0)) || *sum.CreditsRemaining != 350 {
		t.Errorf("summary = %+v", sum)
	}
	if len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0], "aa56db") || !strings.Contains(sum.Warnings[0], "position_source") {
		t.Errorf("warnings = %v", sum.Warnings)
	}
	if len(snk.batches) != 1 || len(snk.batches[0].Records) != 2 {
		t.Fatalf("sink got %d batches", len(snk.batches))
	}
	if !strings.HasPrefix(sum.Line(), "tick ok: snapshot 2018-02-13T20:13:29Z, 3 states, 1 rejected, 2 events") {
		t.Errorf("line = %q", sum.Line())
	}
}

func TestTickFailures(t *testing.T) {
	tests := []struct {
		name      string
		src       *fakeSource
		snk       *fakeSink
		want      string
		noPublis  bool
		published int // events the summary counts as accepted
	}{
		{"broken envelope", &fakeSource{results: []fetchResult{{f: opensky.Fetched{Body: []byte(`{"time":1634471390,"states":[["ac`)}}}}, &fakeSink{}, "ends early", true, 0},
		{"snapshot time out of range", &fakeSource{results: []fetchResult{{f: opensky.Fetched{Body: []byte(`{"time":1e19,"states":[]}`)}}}}, &fakeSink{}, `not a /states/all snapshot: "time" is the number 1e19, not the snapshot's time`, true, 0},
		{"source error", &fakeSource{results: []fetchResult{{err: &opensky.Error{Status: 500}}}}, &fakeSink{}, "500", true, 0},
		{"sink error", &fakeSource{}, &fakeSink{err: errors.New("link detached")}, "publishing 2 events to fake: link detached", false, 0},
		{"partial publish", &fakeSource{}, &fakeSink{err: errors.New("partition 1 refused"), accepted: 1}, "partition 1 refused", false, 1},
		{"sink under-reports", &fakeSource{}, &fakeSink{short: 1}, "1 of 2 events", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			sum, err := newRunner(tt.src, tt.snk, &now).Tick(context.Background(), tick.Request{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			// A failed tick counts what the sink accepted before it failed, in the summary and
			// in the failure's log line.
			if sum.EventsPublished != tt.published {
				t.Errorf("a failed tick reports %d events published, the sink accepted %d", sum.EventsPublished, tt.published)
			}
			if got := fmt.Sprint(sum.LogAttrs()); !strings.Contains(got, fmt.Sprintf("events=%d ", tt.published)) {
				t.Errorf("the failure's log attributes %s do not say events=%d", got, tt.published)
			}
			if tt.noPublis && len(tt.snk.batches) != 0 {
				t.Errorf("sink was called on a failed fetch")
			}
		})
	}
}

func TestTickBlockedAfterLong429(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	src := &fakeSource{results: []fetchResult{{err: &opensky.Error{Status: 429, RetryAfter: 2 * time.Hour, Remaining: 0}}}}
	r := newRunner(src, &fakeSink{}, &now)
	if _, err := r.Tick(context.Background(), tick.Request{}); err == nil {
		t.Fatal("the 429 tick must fail")
	}
	now = now.Add(time.Hour)
	sum, err := r.Tick(context.Background(), tick.Request{})
	if err != nil || !strings.Contains(sum.Skipped, "2026-01-01T14:00:00Z") {
		t.Fatalf("tick inside the block: err %v skipped %q", err, sum.Skipped)
	}
	if len(src.queries) != 1 {
		t.Errorf("OpenSky was called %d times, want 1: a blocked tick must not call it", len(src.queries))
	}
	now = now.Add(time.Hour + time.Second)
	if sum, err := r.Tick(context.Background(), tick.Request{}); err != nil || sum.Skipped != "" || len(src.queries) != 2 {
		t.Fatalf("after the block: err %v summary %+v", err, sum)
	}
}

func TestTickPastDue(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 10, 0, 0, time.UTC)
	scheduled := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		auth      bool
		scheduled time.Time
		wantTime  int64
		warning   string
	}{
		{"authenticated fetches the scheduled time", true, scheduled, scheduled.Unix(), "fetching the snapshot for its scheduled time"},
		{"anonymous publishes the current one", false, scheduled, 0, "anonymous callers cannot"},
		{"too old", true, now.Add(-2 * time.Hour), 0, "more than OpenSky keeps"},
		{"no scheduled time", true, time.Time{}, 0, "gave no scheduled time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{}
			r := newRunner(src, &fakeSink{}, &now)
			r.Authenticated = tt.auth
			sum, err := r.Tick(context.Background(), tick.Request{IsPastDue: true, Scheduled: tt.scheduled})
			if err != nil {
				t.Fatal(err)
			}
			if src.queries[0].Time != tt.wantTime || !sum.PastDue {
				t.Errorf("query time %d, want %d", src.queries[0].Time, tt.wantTime)
			}
			if !strings.Contains(strings.Join(sum.Warnings, "|"), tt.warning) {
				t.Errorf("warnings = %v, want %q", sum.Warnings, tt.warning)
			}
		})
	}
}

func TestLowCreditsWarn(t *testing.T) {
	now := time.Now()
	src := &fakeSource{results: []fetchResult{{f: opensky.Fetched{Body: []byte(`{"time":1634471390,"states":null}`), Remaining: 12}}}}
	sum, err := newRunner(src, &fakeSink{}, &now).Tick(context.Background(), tick.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(sum.Warnings, "|"), "only 12 OpenSky credits left") {
		t.Errorf("warnings = %v", sum.Warnings)
	}
}

func TestBudget(t *testing.T) {
	tests := []struct {
		calls      float64
		credits    int
		allowance  int
		fits       bool
		suggestion string
	}{
		{96, 4, 400, true, ""},
		{1440, 4, 4000, false, "0 */2 * * * *"},
		{1440, 4, 400, false, "0 */15 * * * *"},
		{8640, 1, 4000, false, "0 */1 * * * *"},
		{720, 4, 8000, true, ""},
	}
	for _, tt := range tests {
		b := tick.NewBudget(tt.calls, tt.credits, tt.allowance)
		if b.Fits() != tt.fits || b.Suggestion != tt.suggestion {
			t.Errorf("%+v: fits %v suggestion %q", tt, b.Fits(), b.Suggestion)
		}
		if !tt.fits && !strings.Contains(b.Warning(), tt.suggestion) {
			t.Errorf("warning %q lacks the suggestion", b.Warning())
		}
		if tt.fits && b.Warning() != "" {
			t.Errorf("warning for a fitting budget: %q", b.Warning())
		}
	}
}

func TestEveryBudget(t *testing.T) {
	tests := []struct {
		every      time.Duration
		credits    int
		allowance  int
		perDay     float64
		suggestion string
	}{
		// The whole world every 5s, anonymously: about 69,000 credits a day against 400.
		{5 * time.Second, 4, 400, 69120, "14m24s"},
		{time.Minute, 4, 4000, 5760, "1m27s"},
		{15 * time.Minute, 4, 400, 384, ""},
		{30 * time.Second, 1, 4000, 2880, ""},
	}
	for _, tt := range tests {
		b := tick.NewEveryBudget(tt.every, tt.credits, tt.allowance)
		if b.CreditsPerDay != tt.perDay || b.Suggestion != tt.suggestion || b.Fits() != (tt.suggestion == "") {
			t.Errorf("%+v: %v credits a day, fits %v, suggestion %q", tt, b.CreditsPerDay, b.Fits(), b.Suggestion)
		}
		if w := b.Warning(); tt.suggestion != "" && (!strings.Contains(w, "--every "+tt.every.String()) || !strings.Contains(w, "--every "+tt.suggestion)) {
			t.Errorf("warning %q names neither the interval nor the suggestion", w)
		}
		// The suggestion itself fits.
		if s, err := time.ParseDuration(b.Suggestion); err == nil && !tick.NewEveryBudget(s, tt.credits, tt.allowance).Fits() {
			t.Errorf("suggested --every %s does not fit", s)
		}
	}
}

// snapshotBody is an answer with n states whose icao24s all start with prefix (two characters).
func snapshotBody(prefix string, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"time":1518552809,"states":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["%s%04x","DLH%d   ","Germany",1518552809,1518552809,6.1,50.2,1150.62,false,116.59,94.3,0,null,1143,"2236",false,0]`, prefix, i, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// bodySource answers each call with the next of its bodies; it is safe for concurrent use.
type bodySource struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (s *bodySource) States(context.Context, opensky.Query) (opensky.Fetched, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bodies[0]
	s.bodies = s.bodies[1:]
	return opensky.Fetched{Body: b, Remaining: -1, Attempts: 1}, nil
}

// funcSink publishes with a function.
type funcSink func(b flight.Batch) error

func (f funcSink) Publish(_ context.Context, b flight.Batch) (sink.Report, error) {
	if err := f(b); err != nil {
		return sink.Report{}, err
	}
	return sink.Report{Events: len(b.Records), Batches: 1, Bytes: b.Bytes()}, nil
}

// intact says whether b is one whole snapshot of n states whose icao24s start with prefix: every
// body a slice of NDJSON in order, and naming its own record's key.
func intact(b flight.Batch, prefix string, n int) error {
	if len(b.Records) != n {
		return fmt.Errorf("%d records, want %d", len(b.Records), n)
	}
	start := 0
	for i, r := range b.Records {
		if want := fmt.Sprintf("%s%04x", prefix, i); r.Key != want || !bytes.Contains(r.Body, []byte(`"icao24":"`+want+`"`)) {
			return fmt.Errorf("record %d: key %s, body %s; want %s", i, r.Key, r.Body, want)
		}
		if !bytes.Equal(b.NDJSON[start:start+len(r.Body)], r.Body) {
			return fmt.Errorf("record %d is not at %d of the NDJSON", i, start)
		}
		start += len(r.Body) + 1
	}
	return nil
}

// The next tick encodes into the buffers of the tick before (a snapshot no larger reuses them).
func TestTickReusesEncodeBuffers(t *testing.T) {
	src := &bodySource{bodies: [][]byte{snapshotBody("aa", 300), snapshotBody("bb", 200)}}
	var first []byte
	r := &tick.Runner{Source: src, SinkName: "fake", Sink: funcSink(func(b flight.Batch) error {
		if first == nil {
			first = b.NDJSON[:1]
			return intact(b, "aa", 300)
		}
		if &b.NDJSON[0] != &first[0] {
			t.Errorf("the second tick's events are in a new buffer, not the first tick's")
		}
		return intact(b, "bb", 200)
	})}
	for range 2 {
		if _, err := r.Tick(context.Background(), tick.Request{}); err != nil {
			t.Fatal(err)
		}
	}
}

// Concurrent ticks never share buffers: every tick is held inside Publish until all of them have
// encoded, and then each one's batch must still be its own snapshot, whole.
func TestConcurrentTicksKeepTheirBatches(t *testing.T) {
	const n = 6
	src := &bodySource{}
	for i := range n {
		src.bodies = append(src.bodies, snapshotBody(fmt.Sprintf("%02x", i), 50+i*40))
	}
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	r := &tick.Runner{Source: src, SinkName: "fake", Sink: funcSink(func(b flight.Batch) error {
		if len(b.Records) == 0 {
			return errors.New("empty batch")
		}
		prefix := b.Records[0].Key[:2]
		arrived.Done()
		<-all
		var i int
		fmt.Sscanf(prefix, "%02x", &i)
		return intact(b, prefix, 50+i*40)
	})}
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := r.Tick(context.Background(), tick.Request{})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestObserveSeesOnlyPublishedSnapshots(t *testing.T) {
	now := time.Date(2018, 2, 13, 20, 14, 0, 0, time.UTC)
	src, snk := &fakeSource{}, &fakeSink{}
	r := newRunner(src, snk, &now)
	var seen []string
	r.Observe = func(at time.Time, records []flight.Record) {
		// The icao24 and last_contact that begin the first event's id (the rest is its hash).
		id := strings.Join(strings.SplitN(records[0].ID, "-", 3)[:2], "-")
		seen = append(seen, fmt.Sprintf("%s %d %s", at.Format(time.RFC3339), len(records), id))
	}
	if _, err := r.Tick(context.Background(), tick.Request{}); err != nil {
		t.Fatal(err)
	}
	snk.err = errors.New("hub down")
	if _, err := r.Tick(context.Background(), tick.Request{}); err == nil {
		t.Fatal("a failed publish gave no error")
	}
	if want := []string{"2018-02-13T20:13:29Z 2 ac96b8-1518552809"}; !slices.Equal(seen, want) {
		t.Errorf("observed %q, want %q (the failed tick not shown)", seen, want)
	}
}
