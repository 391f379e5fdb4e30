package flight_test

import (
	"bytes"
	"encoding/json"
	"fmt"
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
			snap, err := opensky.Decode(recordings.Read(t, "states/"+rec.Name), opensky.LimitsAt(time.Now(), 0))
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
		events = append(events, flight.Event{EventID: fmt.Sprintf("a-%d", i), SnapshotTime: tp, TimePosition: &times[i], LastContact: tm})
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
		events[i] = flight.Event{EventID: fmt.Sprintf("abc-%d", i), ICAO24: "abc", OriginCountry: strings.Repeat("x", i*40)}
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

// checkBatch holds b to what Encode (a fresh Encoder) makes of the same events: the same bodies,
// ids and keys, each body a slice of the NDJSON buffer, in order.
func checkBatch(t *testing.T, b flight.Batch, events []flight.Event) {
	t.Helper()
	fresh, err := flight.Encode(b.SnapshotTime, events)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != len(events) || !bytes.Equal(b.NDJSON, fresh.NDJSON) {
		t.Fatalf("%d records, NDJSON %d bytes; want %d, %d", len(b.Records), len(b.NDJSON), len(events), len(fresh.NDJSON))
	}
	start := 0
	for i, r := range b.Records {
		if r.ID != events[i].EventID || r.Key != events[i].ICAO24 || !bytes.Equal(r.Body, fresh.Records[i].Body) {
			t.Fatalf("record %d = %s %s %s, want %s %s %s", i, r.ID, r.Key, r.Body, events[i].EventID, events[i].ICAO24, fresh.Records[i].Body)
		}
		if len(r.Body) > 0 && &b.NDJSON[start] != &r.Body[0] {
			t.Fatalf("record %d's body is not in the NDJSON buffer at %d", i, start)
		}
		start += len(r.Body) + 1
	}
}

// eventsOf makes n events whose bodies grow with pad (origin countries of i*pad bytes).
func eventsOf(n, pad int) []flight.Event {
	events := make([]flight.Event, n)
	for i := range events {
		events[i] = flight.Event{EventID: fmt.Sprintf("%06x-%d", i, n), ICAO24: fmt.Sprintf("%06x", i),
			OriginCountry: strings.Repeat("x", i*pad), SnapshotTime: time.Unix(int64(n), 0).UTC()}
	}
	return events
}

// One Encoder through snapshots of every size in turn, including ones that outgrow its buffer and
// ones far smaller than it: each batch is what a fresh Encode makes.
func TestEncoderReusesBuffers(t *testing.T) {
	var enc flight.Encoder
	for _, c := range []struct{ n, pad int }{
		{100, 0}, {50, 0}, {100, 0}, {10, 200}, {300, 1}, {0, 0}, {3, 0}, {2000, 0}, {20, 0}, {40, 30},
	} {
		events := eventsOf(c.n, c.pad)
		b, err := enc.Encode(time.Unix(int64(c.n), 0).UTC(), events)
		if err != nil {
			t.Fatal(err)
		}
		checkBatch(t, b, events)
	}
}

// A snapshot no larger than the one before is encoded without allocating: the buffers are reused.
func TestEncoderAllocations(t *testing.T) {
	var enc flight.Encoder
	big, small := eventsOf(1000, 0), eventsOf(800, 0)
	if _, err := enc.Encode(time.Unix(1, 0), big); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(10, func() {
		if _, err := enc.Encode(time.Unix(1, 0), small); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("Encode of %d events on an Encoder that held %d: %v allocations, want 0", len(small), len(big), n)
	}
	if n := testing.AllocsPerRun(10, func() { _, _ = flight.Encode(time.Unix(1, 0), small) }); n == 0 {
		t.Errorf("a fresh Encode allocated nothing: the test cannot tell reuse from no work")
	}
}
