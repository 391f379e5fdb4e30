package opensky_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/recordings"
)

func TestDecodeRecordings(t *testing.T) {
	for _, rec := range recordings.States {
		t.Run(rec.Name, func(t *testing.T) {
			body := recordings.Read(t, "states/"+rec.Name)
			snap, err := opensky.Decode(body, live())
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(snap.Rejected) != 0 {
				t.Errorf("rejected %d states, first: %v", len(snap.Rejected), snap.Rejected[0])
			}
			if len(snap.States) != rec.States {
				t.Errorf("decoded %d states, the recording has %d", len(snap.States), rec.States)
			}
			// Cross-check against a generic decode of the same bytes.
			var generic struct {
				Time   int64   `json:"time"`
				States [][]any `json:"states"`
			}
			if err := json.Unmarshal(body, &generic); err != nil {
				t.Fatal(err)
			}
			if snap.Time != generic.Time {
				t.Errorf("time = %d, want %d", snap.Time, generic.Time)
			}
			for i, s := range snap.States {
				g := generic.States[i]
				if s.ICAO24 != g[0] || float64(s.LastContact) != g[4] || s.OnGround != g[8] {
					t.Fatalf("state %d = %+v, want %v", i, s, g)
				}
				if (s.BaroAltitude == nil) != (g[7] == nil) || (s.BaroAltitude != nil && *s.BaroAltitude != g[7]) {
					t.Fatalf("state %d baro_altitude = %v, want %v", i, s.BaroAltitude, g[7])
				}
				if (s.GeoAltitude == nil) != (g[13] == nil) || (s.GeoAltitude != nil && *s.GeoAltitude != g[13]) {
					t.Fatalf("state %d geo_altitude = %v, want %v", i, s.GeoAltitude, g[13])
				}
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	// Each file breaks one field of the small recording's first state.
	want := map[string]string{
		"states01.json": "state",
		"states02.json": "icao24",
		"states03.json": "callsign",
		"states04.json": "origin_country",
		"states05.json": "time_position",
		"states06.json": "last_contact",
		"states07.json": "longitude",
		"states08.json": "latitude",
		"states09.json": "baro_altitude",
		"states10.json": "velocity",
		"states11.json": "true_track",
		"states12.json": "vertical_rate",
		"states13.json": "geo_altitude",
		"states14.json": "squawk",
		"states15.json": "spi",
		"states16.json": "position_source",
		"states17.json": "on_ground",
		"states18.json": "sensors",
	}
	for file, field := range want {
		t.Run(file, func(t *testing.T) {
			snap, err := opensky.Decode(recordings.Read(t, "malformed/"+file), live())
			if err != nil {
				t.Fatalf("a bad state must not fail the envelope: %v", err)
			}
			if len(snap.States) != 0 || len(snap.Rejected) != 1 {
				t.Fatalf("got %d states and %d rejections, want 0 and 1", len(snap.States), len(snap.Rejected))
			}
			r := snap.Rejected[0]
			if r.Field != field || r.Index != 0 || r.Reason == "" {
				t.Errorf("rejection = %+v, want field %q", r, field)
			}
			if field != "icao24" && r.ICAO24 != "ac96b8" {
				t.Errorf("rejection names icao24 %q, want ac96b8", r.ICAO24)
			}
		})
	}
}

// state builds one state vector as JSON with field idx replaced by val.
func state(replace map[int]string, n int) string {
	f := []string{`"3c6444"`, `"DLH9LF  "`, `"Germany"`, `1634471389`, `1634471390`, `6.1`, `50.2`, `10668`, `false`,
		`230.5`, `90.1`, `-5.2`, `null`, `10900.4`, `"1000"`, `false`, `0`, `3`}
	f = f[:n]
	for i, v := range replace {
		f[i] = v
	}
	return "[" + strings.Join(f, ",") + "]"
}

func TestDecodeQuirks(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, s opensky.Snapshot)
	}{
		{"null states", `{"time":1,"states":null}`, func(t *testing.T, s opensky.Snapshot) {
			if len(s.States) != 0 || len(s.Rejected) != 0 || s.Time != 1 {
				t.Errorf("got %+v", s)
			}
		}},
		{"empty states", `{"time":1,"states":[]}`, func(t *testing.T, s opensky.Snapshot) {
			if len(s.States) != 0 {
				t.Errorf("got %+v", s)
			}
		}},
		{"integer altitude and padded callsign", `{"time":1634471390,"states":[` + state(nil, 17) + `]}`, func(t *testing.T, s opensky.Snapshot) {
			st := s.States[0]
			if *st.BaroAltitude != 10668 || *st.Callsign != "DLH9LF  " || st.Category != nil {
				t.Errorf("got %+v", st)
			}
		}},
		{"negative baro altitude", `{"time":1,"states":[` + state(map[int]string{7: "-30.48"}, 17) + `]}`, func(t *testing.T, s opensky.Snapshot) {
			if *s.States[0].BaroAltitude != -30.48 {
				t.Errorf("got %v", *s.States[0].BaroAltitude)
			}
		}},
		{"empty callsign and null position", `{"time":1,"states":[` + state(map[int]string{1: `""`, 3: "null", 5: "null", 6: "null"}, 17) + `]}`, func(t *testing.T, s opensky.Snapshot) {
			st := s.States[0]
			if *st.Callsign != "" || st.TimePosition != nil || st.Longitude != nil || st.Latitude != nil {
				t.Errorf("got %+v", st)
			}
		}},
		{"extended category", `{"time":1,"states":[` + state(nil, 18) + `]}`, func(t *testing.T, s opensky.Snapshot) {
			if c := s.States[0].Category; c == nil || *c != 3 {
				t.Errorf("category = %v, want 3", c)
			}
		}},
		{"sensors", `{"time":1,"states":[` + state(map[int]string{12: "[12, 4711]"}, 17) + `]}`, func(t *testing.T, s opensky.Snapshot) {
			if got := fmt.Sprint(s.States[0].Sensors); got != "[12 4711]" {
				t.Errorf("sensors = %s", got)
			}
		}},
		{"category out of range", `{"time":1,"states":[` + state(map[int]string{17: "21"}, 18) + `]}`, func(t *testing.T, s opensky.Snapshot) {
			if len(s.Rejected) != 1 || s.Rejected[0].Field != "category" {
				t.Errorf("rejected = %v", s.Rejected)
			}
		}},
		{"latitude out of range", `{"time":1,"states":[` + state(map[int]string{6: "91"}, 17) + `]}`, func(t *testing.T, s opensky.Snapshot) {
			if len(s.Rejected) != 1 || s.Rejected[0].Field != "latitude" {
				t.Errorf("rejected = %v", s.Rejected)
			}
		}},
		{"state not an array, others kept", `{"time":1,"states":[{"icao24":"x"},` + state(nil, 17) + `]}`, func(t *testing.T, s opensky.Snapshot) {
			if len(s.States) != 1 || len(s.Rejected) != 1 || s.Rejected[0].Index != 0 || s.Rejected[0].Field != "state" {
				t.Errorf("got %d states, rejected %v", len(s.States), s.Rejected)
			}
		}},
		{"upper-case icao24", `{"time":1,"states":[` + state(map[int]string{0: `"3C6444"`}, 17) + `]}`, func(t *testing.T, s opensky.Snapshot) {
			if len(s.Rejected) != 1 || s.Rejected[0].Field != "icao24" {
				t.Errorf("rejected = %v", s.Rejected)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := opensky.Decode([]byte(tt.body), opensky.Wide)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			tt.check(t, s)
		})
	}
}

func TestDecodeBrokenEnvelope(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"empty", ``, "ends early"},
		{"truncated", `{"time":1634471390,"states":[["3c6444","DLH`, "ends early"},
		{"html error page", `<html>502 Bad Gateway</html>`, "invalid JSON"},
		{"no time", `{"states":[]}`, `no "time"`},
		{"no states", `{"time":1}`, `no "states"`},
		{"states object", `{"time":1,"states":{}}`, "not an array"},
		{"time string", `{"time":"now","states":[]}`, "time"},
		{"array", `[]`, "not a JSON object"},
		{"trailing data", `{"time":1,"states":null} {}`, "more after"},
		{"duplicate states", `{"time":1,"states":null,"states":[]}`, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := opensky.Decode([]byte(tt.body), opensky.Wide)
			if !errors.Is(err, opensky.ErrEnvelope) {
				t.Fatalf("err = %v, want ErrEnvelope", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}
