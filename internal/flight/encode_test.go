package flight_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/recordings"
)

// stdlib encodes an event with encoding/json: the reference the field-by-field encoder must match.
func stdlib(t *testing.T, e *flight.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// Byte for byte what encoding/json writes, for every event of every recording.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	for _, rec := range recordings.States {
		t.Run(rec.Name, func(t *testing.T) {
			snap, err := opensky.Decode(recordings.Read(t, "states/"+rec.Name))
			if err != nil {
				t.Fatal(err)
			}
			events := flight.Transform(snap)
			b, err := flight.Encode(time.Unix(snap.Time, 0), events)
			if err != nil {
				t.Fatal(err)
			}
			for i := range events {
				if want := stdlib(t, &events[i]); !bytes.Equal(b.Records[i].Body, want) {
					t.Fatalf("event %d:\n got %s\nwant %s", i, b.Records[i].Body, want)
				}
			}
		})
	}
}

// Values the recordings lack: the same JSON values as encoding/json (bytes may differ only in how
// a replaced invalid byte is written).
func TestEncodeEdgeValues(t *testing.T) {
	ptr := func(f float64) *float64 { return &f }
	str := func(s string) *string { return &s }
	tp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cat := 20
	events := []flight.Event{
		{EventID: "abcdef-1", ICAO24: "abcdef", OriginCountry: `Côte d'Ivoire "CI" \ <&>`, Callsign: str("A\tB\u2028"),
			Longitude: ptr(-180), Latitude: ptr(1e-7), BaroAltitude: ptr(-0.5), Velocity: ptr(1e21), TrueTrack: ptr(123456789.125),
			VerticalRate: ptr(-1e-9), GeoAltitude: ptr(0), Squawk: str("7700"), Sensors: []int{1, -2, 300000}, Category: &cat,
			TimePosition: &tp, LastContact: tp, SnapshotTime: tp, OnGround: true, SPI: true, PositionSource: 3},
		{EventID: "abcdef-2", ICAO24: "abcdef", OriginCountry: "bad \xff byte", Sensors: []int{}},
	}
	b, err := flight.Encode(tp, events)
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		var got, want any
		if err := json.Unmarshal(b.Records[i].Body, &got); err != nil {
			t.Fatalf("event %d is not JSON: %v\n%s", i, err, b.Records[i].Body)
		}
		if err := json.Unmarshal(stdlib(t, &events[i]), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d:\n got %s\nwant %s", i, b.Records[i].Body, stdlib(t, &events[i]))
		}
	}
}

// Times as encoding/json writes them, through the encoder's cache of formatted seconds: seconds
// that share a slot, times off UTC or with fractions, and a year too long for a slot in between.
func TestEncodeTimes(t *testing.T) {
	tp := time.Date(2021, 10, 17, 11, 49, 50, 0, time.UTC)
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	far = far.Add(time.Duration((tp.Unix()-far.Unix())%256+256) * time.Second) // tp's slot
	if (far.Unix()-tp.Unix())%256 != 0 {
		t.Fatal("far does not share tp's slot")
	}
	times := []time.Time{
		tp, tp.Add(256 * time.Second), tp, tp.Add(time.Second), tp.Add(-256 * time.Second), tp,
		tp.Add(time.Nanosecond), tp.In(time.FixedZone("X", 3600)), tp.Local(), {}, time.Unix(0, 0).UTC(),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), far, tp, far, tp,
	}
	var events []flight.Event
	for i, tm := range times {
		events = append(events, flight.Event{EventID: flight.EventID("a", int64(i)), SnapshotTime: tp, TimePosition: &times[i], LastContact: tm})
	}
	b, err := flight.Encode(tp, events)
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if times[i].Year() > 9999 {
			// encoding/json refuses the year; the text is still RFC 3339's.
			want := `"` + times[i].Format(time.RFC3339Nano) + `"`
			if !bytes.Contains(b.Records[i].Body, []byte(`"last_contact":`+want)) {
				t.Errorf("event %d: %s, want last_contact %s", i, b.Records[i].Body, want)
			}
			continue
		}
		if want := stdlib(t, &events[i]); !bytes.Equal(b.Records[i].Body, want) {
			t.Errorf("event %d:\n got %s\nwant %s", i, b.Records[i].Body, want)
		}
	}
}

// Events longer than the buffer's estimate: the buffer grows, and the bodies are still slices of
// the NDJSON buffer, in order.
func TestEncodeBufferGrows(t *testing.T) {
	events := make([]flight.Event, 50)
	for i := range events {
		events[i] = flight.Event{EventID: flight.EventID("abc", int64(i)), ICAO24: "abc", OriginCountry: strings.Repeat("x", i*40)}
	}
	b, err := flight.Encode(time.Unix(1, 0), events)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := range events {
		body := stdlib(t, &events[i])
		if !bytes.Equal(b.Records[i].Body, body) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, b.Records[i].Body, body)
		}
		if start := len(want); &b.NDJSON[start] != &b.Records[i].Body[0] {
			t.Fatalf("event %d's body is not in the NDJSON buffer at %d", i, start)
		}
		want = append(append(want, body...), '\n')
	}
	if !bytes.Equal(b.NDJSON, want) {
		t.Errorf("NDJSON differs from the bodies")
	}
}
