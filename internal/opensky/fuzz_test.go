package opensky_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/recordings"
)

// stateFields are the names a rejection may give: the documented fields, or "state" for the shape
// of the whole vector (FACTS: state vector, by index).
var stateFields = map[string]bool{
	"state": true, "icao24": true, "callsign": true, "origin_country": true, "time_position": true,
	"last_contact": true, "longitude": true, "latitude": true, "baro_altitude": true, "on_ground": true,
	"velocity": true, "true_track": true, "vertical_rate": true, "sensors": true, "geo_altitude": true,
	"squawk": true, "spi": true, "position_source": true, "category": true,
}

// seedStates bounds how many states of a large recording go into its seed: a 2 MB seed would
// make every fuzzing run decode 2 MB, and the fuzzer learns nothing more from the 5,000th state.
const seedStates = 40

// FuzzDecode: Decode never panics, and every state of an accepted answer either decodes into a
// state within the documented ranges or is rejected with a field name and a reason. A broken
// envelope is an ErrEnvelope and yields nothing, so no part of it can be published. No message is
// longer than maxReason, whatever the answer holds. The events
// an accepted answer yields all fit the schema, and share an id only if they are the same event
// (checkEvents).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"time":1518552809,"states":null}`,
		`{"time":1e19,"states":[]}`,
		`{"time":1634471390,"states":[["3c6444","DLH9LF  ","Germany",1634471389,1634471390,6.1,50.2,10668,false,230.5,90.1,-5.2,null,10900.4,"1000",false,0],["3c6444","DLH9LF","Germany",1634471389,1634471390,6.2,50.2,10668,false,230.5,90.1,-5.2,null,10900.4,"1000",false,0],["3c6444","DLH9LF","Germany",1634471389,1634471390,6.1,50.2,10668,false,230.5,90.1,-5.2,null,10900.4,"1000",false,0]]}`,
		`{"time":1634471390,"states":[["3c6444","DLH9LF  ","Germany",1099511627776,1099511627776,6.1,50.2,10668,false,230.5,90.1,-5.2,null,10900.4,"1000",false,0,3]]}`,
		`{"time":1518552809,"states":[]}`,
		`{"time":1634471390,"states":[["3c6444","DLH9LF  ","Germany",1634471389,1634471390,6.1,50.2,10668,false,230.5,90.1,-5.2,null,10900.4,"1000",false,0,3]]}`,
		`{"time":1634471390,"states":[["3c6444",null,"Germany",null,1634471390,null,null,-30,true,0,null,null,[1,2],null,null,false,2]]}`,
		`{"time":1,"states":[["ac96b8","AAL`,
		`{"time":1.5,"states":[]}`,
		`{"states":[]}`,
		`{"time":1,"states":{}}`,
		`[]`, `null`, `{}`, ``,
	} {
		f.Add([]byte(s))
	}
	for _, seed := range recordingSeeds(f) {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		snap, err := opensky.Decode(body, fuzzLimits)
		if err != nil {
			if !errors.Is(err, opensky.ErrEnvelope) {
				t.Fatalf("error %q does not wrap ErrEnvelope", err)
			}
			if snap.States != nil || snap.Rejected != nil || snap.Time != 0 {
				t.Fatalf("a refused answer still yielded %d states and %d rejections", len(snap.States), len(snap.Rejected))
			}
			if err.Error() == "" || len(err.Error()) > maxReason {
				t.Fatalf("error text of %d bytes: %.300q", len(err.Error()), err)
			}
			return
		}

		// An accepted answer is JSON whose states the generic decoder counts the same.
		var generic struct {
			States []json.RawMessage `json:"states"`
		}
		if err := json.Unmarshal(body, &generic); err != nil {
			t.Fatalf("Decode accepted a body encoding/json refuses: %v", err)
		}
		if got := len(snap.States) + len(snap.Rejected); got != len(generic.States) {
			t.Fatalf("%d decoded + %d rejected, but the answer has %d states", len(snap.States), len(snap.Rejected), len(generic.States))
		}
		if snap.Time < fuzzLimits.Earliest || snap.Time > fuzzLimits.Latest {
			t.Fatalf("snapshot time %d out of range", snap.Time)
		}

		prev := -1
		for _, r := range snap.Rejected {
			if r.Index <= prev || r.Index >= len(generic.States) {
				t.Fatalf("rejection index %d after %d of %d states", r.Index, prev, len(generic.States))
			}
			prev = r.Index
			if !stateFields[r.Field] {
				t.Fatalf("rejection names no known field: %+v", r)
			}
			if strings.TrimSpace(r.Reason) == "" {
				t.Fatalf("rejection without a reason: %+v", r)
			}
			if len(r.String()) > maxReason {
				t.Fatalf("rejection text of %d bytes: %.300q", len(r.String()), r.String())
			}
			if !strings.Contains(r.String(), r.Field) {
				t.Fatalf("rejection text %q lacks the field", r.String())
			}
		}

		for i, s := range snap.States {
			switch {
			case len(s.ICAO24) != 6 || strings.Trim(s.ICAO24, "0123456789abcdef") != "":
				t.Fatalf("state %d: icao24 %q accepted", i, s.ICAO24)
			case s.Longitude != nil && (*s.Longitude < -180 || *s.Longitude > 180):
				t.Fatalf("state %d: longitude %v accepted", i, *s.Longitude)
			case s.Latitude != nil && (*s.Latitude < -90 || *s.Latitude > 90):
				t.Fatalf("state %d: latitude %v accepted", i, *s.Latitude)
			case s.PositionSource < 0 || s.PositionSource > 3:
				t.Fatalf("state %d: position_source %d accepted", i, s.PositionSource)
			case s.Category != nil && (*s.Category < 0 || *s.Category > 20):
				t.Fatalf("state %d: category %d accepted", i, *s.Category)
			case s.LastContact < fuzzLimits.Earliest || s.LastContact > fuzzLimits.Latest:
				t.Fatalf("state %d: last_contact %d accepted", i, s.LastContact)
			case s.TimePosition != nil && (*s.TimePosition < fuzzLimits.Earliest || *s.TimePosition > fuzzLimits.Latest):
				t.Fatalf("state %d: time_position %d accepted", i, *s.TimePosition)
			}
		}
		if err := checkEvents(snap); err != nil {
			t.Fatal(err)
		}
	})
}

// recordingSeeds returns the recorded answers (states/ and malformed/) as seeds, the large ones cut
// to their first seedStates states.
func recordingSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, dir := range []string{"states", "malformed"} {
		for _, name := range recordings.Names(f, dir) {
			seeds = append(seeds, shrink(f, recordings.Read(f, dir+"/"+name)))
		}
	}
	return seeds
}

// shrink keeps a recording's first seedStates states, with every number written as recorded.
func shrink(f *testing.F, b []byte) []byte {
	var env struct {
		Time   json.RawMessage   `json:"time"`
		States []json.RawMessage `json:"states"`
	}
	if err := json.Unmarshal(b, &env); err != nil || len(env.States) <= seedStates {
		return b
	}
	env.States = env.States[:seedStates]
	out, err := json.Marshal(env)
	if err != nil {
		f.Fatal(err)
	}
	return out
}
