package tick_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/tick"
)

// A tick's summary stays small whatever the answer holds: an answer of 10 MB whose states all
// have a 10 KB icao24 (the adversarial run: 10 MB of stderr and a 20 MB invocation answer from 5
// such states) gives a summary of a few KB that still counts every rejection.
func TestTickSummaryBoundedWithHugeRejections(t *testing.T) {
	bad := `["` + strings.Repeat("x", 10_000) + `",null,"X",null,1518552809,null,null,null,false,null,null,null,null,null,null,false,0]`
	states := make([]string, 1000)
	for i := range states {
		states[i] = bad
	}
	body := `{"time":1518552809,"states":[` + strings.Join(states, ",") + `]}`
	now := time.Date(2018, 2, 13, 20, 14, 0, 0, time.UTC)
	src := &fakeSource{results: []fetchResult{{f: opensky.Fetched{Body: []byte(body), Remaining: 350, Attempts: 1}}}}
	sum, err := newRunner(src, &fakeSink{}, &now).Tick(context.Background(), tick.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.StatesRejected != len(states) || sum.RejectedByField["icao24"] != len(states) {
		t.Fatalf("rejected %d (%v), want %d on icao24", sum.StatesRejected, sum.RejectedByField, len(states))
	}
	b, _ := json.Marshal(sum)
	if len(b) > 4<<10 {
		t.Fatalf("summary of %d bytes for a %d-byte answer: %.300s", len(b), len(body), b)
	}
}

// A snapshot with more states than the handler's memory holds fails the tick before anything is
// published, with the reason and what to do about it (config's MaxStatesHint).
func TestTickFailsSnapshotOverMaxStates(t *testing.T) {
	now := time.Date(2018, 2, 13, 20, 14, 0, 0, time.UTC)
	snk := &fakeSink{}
	r := newRunner(&fakeSource{}, snk, &now) // twoStates: three states
	r.MaxStates, r.MaxStatesHint = 2, "raise HANDLER_MEMORY_MB"
	sum, err := r.Tick(context.Background(), tick.Request{})
	if !errors.Is(err, opensky.ErrTooManyStates) || !strings.Contains(err.Error(), "more than 2 states") || !strings.Contains(err.Error(), "raise HANDLER_MEMORY_MB") {
		t.Fatalf("err = %v", err)
	}
	if len(snk.batches) != 0 || sum.EventsPublished != 0 {
		t.Fatalf("published %d batches", len(snk.batches))
	}
	r.MaxStates = 3
	if _, err := r.Tick(context.Background(), tick.Request{}); err != nil {
		t.Fatalf("at the cap: %v", err)
	}
}
