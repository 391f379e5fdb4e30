package flight_test

import (
	"bytes"
	"encoding/json"
	"reflect"
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
