package flight_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/recordings"
	"github.com/opensky-eventhubs/handler/schema"
)

func ptr[T any](v T) *T { return &v }

func TestTransform(t *testing.T) {
	base := opensky.State{
		ICAO24: "3c6444", Callsign: ptr("DLH9LF  "), OriginCountry: "Germany",
		TimePosition: ptr(int64(1634471389)), LastContact: 1634471390,
		Longitude: ptr(6.1), Latitude: ptr(50.2), BaroAltitude: ptr(10668.0), GeoAltitude: ptr(10900.4),
		Velocity: ptr(230.5), TrueTrack: ptr(90.1), VerticalRate: ptr(-5.2), Squawk: ptr("1000"), PositionSource: 2,
	}
	tests := []struct {
		name   string
		modify func(s *opensky.State)
		want   map[string]any // expected JSON fields (others as in base)
		absent []string
	}{
		{"full state", nil, map[string]any{
			// Pinned: an id must not change between releases, or dedupe fails across a deploy.
			"event_id": "3c6444-1634471390-fbeeae47c1200944", "snapshot_time": "2021-10-17T11:49:50Z", "callsign": "DLH9LF",
			"time_position": "2021-10-17T11:49:49Z", "last_contact": "2021-10-17T11:49:50Z",
			"baro_altitude": 10668.0, "geo_altitude": 10900.4, "position_source": 2.0, "sensors": nil,
		}, []string{"category"}},
		{"empty callsign is null", func(s *opensky.State) { s.Callsign = ptr("        ") }, map[string]any{"callsign": nil}, nil},
		{"null callsign stays null", func(s *opensky.State) { s.Callsign = nil }, map[string]any{"callsign": nil}, nil},
		{"no position time", func(s *opensky.State) { s.TimePosition = nil; s.Longitude = nil; s.Latitude = nil },
			map[string]any{"time_position": nil, "longitude": nil, "latitude": nil}, nil},
		{"altitudes not swapped", func(s *opensky.State) { s.BaroAltitude = ptr(-30.0); s.GeoAltitude = ptr(15.0) },
			map[string]any{"baro_altitude": -30.0, "geo_altitude": 15.0}, nil},
		{"extended category", func(s *opensky.State) { s.Category = ptr(3) }, map[string]any{"category": 3.0}, nil},
		{"sensors", func(s *opensky.State) { s.Sensors = []int{7, 9} }, map[string]any{"sensors": []any{7.0, 9.0}}, nil},
	}
	v, err := schema.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			if tt.modify != nil {
				tt.modify(&s)
			}
			snap := opensky.Snapshot{Time: 1634471390, States: []opensky.State{s}}
			events := flight.Transform(snap)
			b, err := flight.Encode(time.Unix(snap.Time, 0), events)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Records) != 1 || b.Records[0].ID != events[0].EventID || !strings.HasPrefix(b.Records[0].ID, "3c6444-1634471390-") || b.Records[0].Key != "3c6444" {
				t.Fatalf("records = %+v", b.Records)
			}
			body := b.Records[0].Body
			if err := v.Validate(body); err != nil {
				t.Errorf("event does not fit the schema: %v\n%s", err, body)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.want {
				if gj, wj := mustJSON(got[k]), mustJSON(want); gj != wj {
					t.Errorf("%s = %s, want %s", k, gj, wj)
				}
				if _, ok := got[k]; !ok {
					t.Errorf("%s is missing", k)
				}
			}
			for _, k := range tt.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s is present, want absent", k)
				}
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Every event of every recording fits the schema, and the NDJSON buffer holds exactly the records.
func TestRecordingsEncodeToSchema(t *testing.T) {
	v, err := schema.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recordings.States {
		t.Run(rec.Name, func(t *testing.T) {
			snap, err := opensky.Decode(recordings.Read(t, "states/"+rec.Name), opensky.LimitsAt(time.Now(), 0))
			if err != nil {
				t.Fatal(err)
			}
			b, err := flight.Encode(time.Unix(snap.Time, 0), flight.Transform(snap))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Records) != rec.States {
				t.Fatalf("%d records, want %d", len(b.Records), rec.States)
			}
			sc := bufio.NewScanner(bytes.NewReader(b.NDJSON))
			sc.Buffer(nil, 1<<20)
			i := 0
			for sc.Scan() {
				if !bytes.Equal(sc.Bytes(), b.Records[i].Body) {
					t.Fatalf("line %d differs from record %d", i, i)
				}
				i++
			}
			if i != len(b.Records) {
				t.Fatalf("%d lines, want %d", i, len(b.Records))
			}
			total := 0
			for _, r := range b.Records {
				if err := v.Validate(r.Body); err != nil {
					t.Fatalf("event %s does not fit the schema: %v", r.ID, err)
				}
				if strings.Contains(string(r.Body), "\n") {
					t.Fatalf("event %s holds a newline", r.ID)
				}
				total += len(r.Body)
			}
			if b.Bytes() != total {
				t.Errorf("Bytes() = %d, want %d", b.Bytes(), total)
			}
		})
	}
}

// Event ids cut from Transform's one string are EventID's, whatever the lengths of icao24, last
// contact and the other fields; trimmed callsigns are the states' trimmed.
func TestTransformEventIDs(t *testing.T) {
	var states []opensky.State
	for _, rec := range recordings.States {
		snap, err := opensky.Decode(recordings.Read(t, "states/"+rec.Name), opensky.LimitsAt(time.Now(), 0))
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, snap.States...)
	}
	for _, lc := range []int64{0, 7, -1, -1634471390, 1634471390, 99999999999, 1 << 62, math.MinInt64, math.MaxInt64} {
		for _, icao := range []string{"", "a", "3c6444", "long-icao24-value"} {
			states = append(states, opensky.State{ICAO24: icao, LastContact: lc, Callsign: ptr(" X ")})
		}
	}
	events := flight.Transform(opensky.Snapshot{Time: 1634471390, States: states})
	for i, s := range states {
		e := events[i]
		if want := flight.EventID(&e); e.EventID != want {
			t.Fatalf("state %d: event id %q, want %q", i, e.EventID, want)
		}
		var want *string
		if s.Callsign != nil && strings.TrimSpace(*s.Callsign) != "" {
			want = ptr(strings.TrimSpace(*s.Callsign))
		}
		if (e.Callsign == nil) != (want == nil) || e.Callsign != nil && *e.Callsign != *want {
			t.Fatalf("state %d: callsign %v, want %v", i, e.Callsign, want)
		}
	}
}

// Transform allocates per snapshot, not per state.
func TestTransformAllocsPerSnapshot(t *testing.T) {
	states := make([]opensky.State, 1000)
	for i := range states {
		states[i] = opensky.State{
			ICAO24: fmt.Sprintf("%06x", i), Callsign: ptr(fmt.Sprintf("DLH%d  ", i)), OriginCountry: "Germany",
			TimePosition: ptr(int64(1634471389 - i)), LastContact: int64(1634471390 - i), Longitude: ptr(6.1),
		}
	}
	snap := opensky.Snapshot{Time: 1634471390, States: states}
	if n := testing.AllocsPerRun(10, func() { flight.Transform(snap) }); n >= 10 {
		t.Errorf("Transform of %d states: %v allocations, want fewer than 10", len(states), n)
	}
}

// Distinct states get distinct event ids, and one state the same id wherever it is seen: the
// adversarial run found two states with one icao24 and last_contact but different positions
// sharing an id, so that dedupe downstream dropped one.
func TestEventIDsDistinguishStates(t *testing.T) {
	base := opensky.State{
		ICAO24: "3c6444", Callsign: ptr("DLH9LF  "), OriginCountry: "Germany",
		TimePosition: ptr(int64(1634471389)), LastContact: 1634471390,
		Longitude: ptr(6.1), Latitude: ptr(50.2), BaroAltitude: ptr(10668.0), GeoAltitude: ptr(10900.4),
		Velocity: ptr(230.5), TrueTrack: ptr(90.1), VerticalRate: ptr(-5.2), Squawk: ptr("1000"), PositionSource: 2,
	}
	id := func(snapTime int64, s opensky.State) string {
		return flight.Transform(opensky.Snapshot{Time: snapTime, States: []opensky.State{s}})[0].EventID
	}
	want := id(1634471390, base)
	if got := id(1634471400, base); got != want {
		t.Errorf("the same state in a later snapshot: id %q, want %q", got, want)
	}
	same := base
	same.Callsign = ptr("DLH9LF") // the event is the same: callsigns are trimmed
	if got := id(1634471390, same); got != want {
		t.Errorf("the same event from a callsign padded otherwise: id %q, want %q", got, want)
	}
	seen := map[string]string{want: "base"}
	for _, tt := range []struct {
		name   string
		modify func(s *opensky.State)
	}{
		{"longitude", func(s *opensky.State) { s.Longitude = ptr(6.2) }},
		{"longitude null", func(s *opensky.State) { s.Longitude = nil }},
		{"longitude -0", func(s *opensky.State) { s.Longitude = ptr(math.Copysign(0, -1)) }},
		{"longitude 0", func(s *opensky.State) { s.Longitude = ptr(0.0) }},
		{"latitude", func(s *opensky.State) { s.Latitude = ptr(50.3) }},
		{"baro_altitude", func(s *opensky.State) { s.BaroAltitude = ptr(10669.0) }},
		{"geo_altitude", func(s *opensky.State) { s.GeoAltitude = nil }},
		{"velocity", func(s *opensky.State) { s.Velocity = ptr(230.6) }},
		{"true_track", func(s *opensky.State) { s.TrueTrack = ptr(90.2) }},
		{"vertical_rate", func(s *opensky.State) { s.VerticalRate = ptr(5.2) }},
		{"callsign", func(s *opensky.State) { s.Callsign = ptr("DLH9LG") }},
		{"callsign null", func(s *opensky.State) { s.Callsign = nil }},
		{"origin_country", func(s *opensky.State) { s.OriginCountry = "Austria" }},
		{"time_position", func(s *opensky.State) { s.TimePosition = ptr(int64(1634471388)) }},
		{"time_position null", func(s *opensky.State) { s.TimePosition = nil }},
		{"on_ground", func(s *opensky.State) { s.OnGround = true }},
		{"sensors", func(s *opensky.State) { s.Sensors = []int{1} }},
		{"sensors empty", func(s *opensky.State) { s.Sensors = []int{} }},
		{"squawk", func(s *opensky.State) { s.Squawk = ptr("7700") }},
		{"squawk null", func(s *opensky.State) { s.Squawk = nil }},
		{"spi", func(s *opensky.State) { s.SPI = true }},
		{"position_source", func(s *opensky.State) { s.PositionSource = 0 }},
		{"category", func(s *opensky.State) { s.Category = ptr(0) }},
		{"country and callsign run together", func(s *opensky.State) { s.Callsign = ptr("DLH9LFG"); s.OriginCountry = "ermany" }},
	} {
		s := base
		tt.modify(&s)
		got := id(1634471390, s)
		if other, dup := seen[got]; dup {
			t.Errorf("%s: id %q, the same as %s's", tt.name, got, other)
		}
		seen[got] = tt.name
		if !strings.HasPrefix(got, "3c6444-1634471390") {
			t.Errorf("%s: id %q does not start with icao24-last_contact", tt.name, got)
		}
	}
}
