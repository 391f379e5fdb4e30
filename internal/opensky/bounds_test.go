package opensky_test

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/schema"
)

// Times out of range never reach an event: the adversarial run's snapshot time of 1e19 (year
// 292277026596) and last_contact of 2^40 (year 11476) were published, and both break the schema.
// Whatever Decode takes, every event made of it fits schema/event.schema.json.
func TestOutOfRangeTimesYieldNoEvents(t *testing.T) {
	for _, tt := range []struct {
		name string
		body string
	}{
		{"snapshot time 1e19", `{"time":1e19,"states":[` + state(nil, 17) + `]}`},
		{"snapshot time 2^40", `{"time":1099511627776,"states":[` + state(nil, 17) + `]}`},
		{"snapshot time 1970", `{"time":0,"states":[` + state(nil, 17) + `]}`},
		{"last_contact 2^40", `{"time":1634471390,"states":[` + state(map[int]string{4: "1099511627776"}, 17) + `]}`},
		{"time_position 2^40", `{"time":1634471390,"states":[` + state(map[int]string{3: "1099511627776"}, 17) + `]}`},
		{"last_contact 1970", `{"time":1634471390,"states":[` + state(map[int]string{4: "0"}, 17) + `]}`},
		{"time_position 1999", `{"time":1634471390,"states":[` + state(map[int]string{3: "946684799"}, 17) + `]}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := opensky.Decode([]byte(tt.body), live())
			if err != nil {
				if !errors.Is(err, opensky.ErrEnvelope) {
					t.Fatalf("error %v is not an ErrEnvelope", err)
				}
				return
			}
			if err := checkEvents(snap); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// fuzzNow is the fuzzers' clock: a fixed one, so that a failing input fails again.
var fuzzNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// fuzzLimits are the limits a handler whose clock says fuzzNow decodes with.
var fuzzLimits = opensky.LimitsAt(fuzzNow, 0)

// live returns the limits of a handler running now.
func live() opensky.Limits { return opensky.LimitsAt(time.Now(), 0) }

// validator is the event schema, compiled once for every test and fuzz input.
var validator = sync.OnceValues(schema.NewValidator)

// checkEvents transforms and encodes snap as a tick does and says what is wrong with the events:
// one that does not fit the schema, two events with one id but different content, or two
// identical states with different ids.
func checkEvents(snap opensky.Snapshot) error {
	v, err := validator()
	if err != nil {
		return err
	}
	b, err := flight.Encode(time.Unix(snap.Time, 0).UTC(), flight.Transform(snap))
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	byID, byBody := map[string]int{}, map[string]int{}
	for i, r := range b.Records {
		if err := v.Validate(r.Body); err != nil {
			return fmt.Errorf("event %s does not fit the schema: %v\n%s", r.ID, err, r.Body)
		}
		if j, dup := byID[r.ID]; dup && string(b.Records[j].Body) != string(r.Body) {
			return fmt.Errorf("events %d and %d differ but share the id %s:\n%s\n%s", j, i, r.ID, b.Records[j].Body, r.Body)
		}
		byID[r.ID] = i
		// The same body with another id is right only for states that differ in what the JSON
		// cannot show (invalid UTF-8 bytes, each written as U+FFFD).
		if j, dup := byBody[string(r.Body)]; dup && b.Records[j].ID != r.ID &&
			diffValues("state", reflect.ValueOf(snap.States[j]), reflect.ValueOf(snap.States[i])) == "" {
			return fmt.Errorf("states %d and %d are identical but have the ids %s and %s", j, i, b.Records[j].ID, r.ID)
		}
		byBody[string(r.Body)] = i
	}
	return nil
}

// Every time is bounded by the limits, at both ends, in the fast path and the reference alike: a
// snapshot time out of range fails the answer naming the range, a state's time out of range
// rejects that state by field.
func TestDecodeTimeBounds(t *testing.T) {
	lim := fuzzLimits
	first, last := strconv.FormatInt(lim.Earliest, 10), strconv.FormatInt(lim.Latest, 10)
	before, after := strconv.FormatInt(lim.Earliest-1, 10), strconv.FormatInt(lim.Latest+1, 10)
	const snap = `{"time":1634471390,"states":[`
	for _, tt := range []struct {
		name, body string
		field      string // the rejected field, "" for none
		envelope   bool
	}{
		{"snapshot time at the earliest", `{"time":` + first + `,"states":[]}`, "", false},
		{"snapshot time at the latest", `{"time":` + last + `,"states":[]}`, "", false},
		{"snapshot time before", `{"time":` + before + `,"states":[]}`, "", true},
		{"snapshot time after", `{"time":` + after + `,"states":[]}`, "", true},
		{"snapshot time 1e19", `{"time":1e19,"states":[]}`, "", true},
		{"last_contact at the earliest", snap + state(map[int]string{4: first}, 17) + `]}`, "", false},
		{"last_contact at the latest", snap + state(map[int]string{4: last + ".9"}, 17) + `]}`, "", false},
		{"last_contact before", snap + state(map[int]string{4: before}, 17) + `]}`, "last_contact", false},
		{"last_contact after", snap + state(map[int]string{4: after}, 17) + `]}`, "last_contact", false},
		{"last_contact 2^40", snap + state(map[int]string{4: "1099511627776"}, 17) + `]}`, "last_contact", false},
		{"time_position before", snap + state(map[int]string{3: before}, 17) + `]}`, "time_position", false},
		{"time_position after", snap + state(map[int]string{3: after}, 17) + `]}`, "time_position", false},
		{"time_position 0", snap + state(map[int]string{3: "0"}, 17) + `]}`, "time_position", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := opensky.Decode([]byte(tt.body), lim)
			want, wantErr := opensky.DecodeTokens([]byte(tt.body), lim)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || diffSnapshots(got, want) != "" {
				t.Fatalf("Decode and the reference differ: %v / %v", err, wantErr)
			}
			if tt.envelope {
				if !errors.Is(err, opensky.ErrEnvelope) || !strings.Contains(err.Error(), `"time"`) ||
					!strings.Contains(err.Error(), "2000-01-01T00:00:00Z") || !strings.Contains(err.Error(), "2026-11-28T12:00:00Z") {
					t.Fatalf("error %v, want an ErrEnvelope naming \"time\" and the range", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.field == "" && len(got.Rejected) != 0:
				t.Fatalf("rejected %v", got.Rejected)
			case tt.field != "" && (len(got.Rejected) != 1 || got.Rejected[0].Field != tt.field):
				t.Fatalf("rejected %v, want one on %s", got.Rejected, tt.field)
			case tt.field != "" && !strings.Contains(got.Rejected[0].Reason, "2000-01-01T00:00:00Z"):
				t.Fatalf("reason %q does not name the range", got.Rejected[0].Reason)
			}
			if err := checkEvents(got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The schema's time patterns and the decoder's limits agree: the earliest time fits the schema,
// a second before it does not, and the latest time a handler takes today fits too.
func TestSchemaAgreesWithTimeLimits(t *testing.T) {
	event := func(unix int64) opensky.Snapshot {
		return opensky.Snapshot{Time: unix, States: []opensky.State{{ICAO24: "3c6444", OriginCountry: "Germany", LastContact: unix, TimePosition: &unix}}}
	}
	lim := live()
	for _, tt := range []struct {
		unix int64
		fits bool
	}{
		{lim.Earliest, true},
		{lim.Earliest - 1, false},
		{lim.Latest, true},
		{time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC).Unix(), true},
		{time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), false},
	} {
		err := checkEvents(event(tt.unix))
		if (err == nil) != tt.fits {
			t.Errorf("%s: fits the schema: %v, want %v (%v)", time.Unix(tt.unix, 0).UTC().Format(time.RFC3339), err == nil, tt.fits, err)
		}
	}
}

// An answer with more states than Limits.MaxStates fails with ErrTooManyStates, in the fast
// path and the reference alike, rejected states counting too; one at the cap decodes.
func TestDecodeMaxStates(t *testing.T) {
	good, bad := state(nil, 17), state(map[int]string{0: `"nothex"`}, 17)
	body := func(states ...string) []byte {
		return []byte(`{"time":1634471390,"states":[` + strings.Join(states, ",") + `]}`)
	}
	lim := fuzzLimits
	lim.MaxStates = 3
	for _, tt := range []struct {
		name    string
		body    []byte
		tooMany bool
	}{
		{"at the cap", body(good, good, good), false},
		{"at the cap with a rejected state", body(good, bad, good), false},
		{"one past", body(good, good, good, good), true},
		{"one past with a rejected state", body(good, good, bad, good), true},
		{"null states", []byte(`{"time":1634471390,"states":null}`), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, decode := range []func([]byte, opensky.Limits) (opensky.Snapshot, error){opensky.Decode, opensky.DecodeTokens} {
				_, err := decode(tt.body, lim)
				if tt.tooMany != errors.Is(err, opensky.ErrTooManyStates) || (!tt.tooMany && err != nil) {
					t.Fatalf("err = %v, want too many: %v", err, tt.tooMany)
				}
				if tt.tooMany && (errors.Is(err, opensky.ErrEnvelope) || !strings.Contains(err.Error(), "more than 3 states")) {
					t.Fatalf("err = %v", err)
				}
			}
			if _, ok := opensky.DecodeFast(tt.body, lim); ok == tt.tooMany && strings.Contains(tt.name, "one past") {
				t.Fatal("the fast path took an answer past the cap")
			}
		})
	}
}
