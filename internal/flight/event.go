// Package flight holds the event schema (one event per aircraft state, see
// schema/event.schema.json) and the pure transform from OpenSky state vectors to encoded events.
package flight

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/opensky-eventhubs/handler/internal/opensky"
)

// SchemaVersion names the event schema; sinks attach it to each event as a property.
const SchemaVersion = "1"

// ContentType is the media type of an encoded event.
const ContentType = "application/json"

// Event is one aircraft state as published. Field names follow OpenSky's in snake_case; times are
// ISO-8601 UTC. A nil pointer is a JSON null.
type Event struct {
	EventID        string     `json:"event_id"`
	SnapshotTime   time.Time  `json:"snapshot_time"`
	ICAO24         string     `json:"icao24"`
	Callsign       *string    `json:"callsign"`
	OriginCountry  string     `json:"origin_country"`
	TimePosition   *time.Time `json:"time_position"`
	LastContact    time.Time  `json:"last_contact"`
	Longitude      *float64   `json:"longitude"`
	Latitude       *float64   `json:"latitude"`
	BaroAltitude   *float64   `json:"baro_altitude"`
	OnGround       bool       `json:"on_ground"`
	Velocity       *float64   `json:"velocity"`
	TrueTrack      *float64   `json:"true_track"`
	VerticalRate   *float64   `json:"vertical_rate"`
	Sensors        []int      `json:"sensors"`
	GeoAltitude    *float64   `json:"geo_altitude"`
	Squawk         *string    `json:"squawk"`
	SPI            bool       `json:"spi"`
	PositionSource int        `json:"position_source"`
	Category       *int       `json:"category,omitempty"`
}

// EventID is the stable id of a state: the same aircraft and last contact give the same id in
// every snapshot, so consumers can drop repeats.
func EventID(icao24 string, lastContact int64) string {
	return icao24 + "-" + strconv.FormatInt(lastContact, 10)
}

// Transform turns the states of one snapshot into events. It is pure: the snapshot time comes in
// with the snapshot. Events share the states' nullable values (no copies are made).
func Transform(snap opensky.Snapshot) []Event {
	snapTime := time.Unix(snap.Time, 0).UTC()
	events := make([]Event, len(snap.States))
	// Time positions point into one slab, as the decoder's nullable fields do.
	times := make([]time.Time, 0, len(snap.States))
	for i := range snap.States {
		s := &snap.States[i]
		e := &events[i]
		e.EventID = EventID(s.ICAO24, s.LastContact)
		e.SnapshotTime = snapTime
		e.ICAO24 = s.ICAO24
		e.Callsign = trimCallsign(s.Callsign)
		e.OriginCountry = s.OriginCountry
		if s.TimePosition != nil {
			times = append(times, time.Unix(*s.TimePosition, 0).UTC())
			e.TimePosition = &times[len(times)-1]
		}
		e.LastContact = time.Unix(s.LastContact, 0).UTC()
		e.Longitude = s.Longitude
		e.Latitude = s.Latitude
		e.BaroAltitude = s.BaroAltitude
		e.OnGround = s.OnGround
		e.Velocity = s.Velocity
		e.TrueTrack = s.TrueTrack
		e.VerticalRate = s.VerticalRate
		e.Sensors = s.Sensors
		e.GeoAltitude = s.GeoAltitude
		e.Squawk = s.Squawk
		e.SPI = s.SPI
		e.PositionSource = s.PositionSource
		e.Category = s.Category
	}
	return events
}

// trimCallsign drops OpenSky's space padding; an empty callsign becomes null.
func trimCallsign(c *string) *string {
	if c == nil {
		return nil
	}
	t := strings.TrimSpace(*c)
	if t == "" {
		return nil
	}
	if t == *c {
		return c
	}
	return &t
}

// Record is one encoded event, ready for a sink.
type Record struct {
	ID   string // event_id: the message id
	Key  string // icao24: keeps one aircraft's events together
	Body []byte // the JSON object, without a trailing newline
}

// Batch is the encoded events of one snapshot. Bodies share one buffer, which also holds them as
// newline-delimited JSON (NDJSON), so a file sink writes it in one call.
type Batch struct {
	SnapshotTime time.Time
	Records      []Record
	NDJSON       []byte
}

// Bytes is the total size of the event bodies.
func (b Batch) Bytes() int { return len(b.NDJSON) - len(b.Records) }

// Encode encodes events as JSON, one buffer for the whole snapshot. The output is what
// encoding/json makes of an Event (a test holds them equal), written field by field: the schema is
// fixed, and reflection and the re-validation of time.Time's MarshalJSON cost more than the rest
// of a tick's CPU path together.
func Encode(snapshotTime time.Time, events []Event) (Batch, error) {
	// A world snapshot's events take about 420 bytes each; grow once instead of doubling.
	buf := make([]byte, 0, len(events)*448)
	ends := make([]int, len(events))
	tc := timeCache{}
	for i := range events {
		buf = appendEvent(buf, &events[i], tc)
		buf = append(buf, '\n')
		ends[i] = len(buf)
	}
	b := Batch{SnapshotTime: snapshotTime, NDJSON: buf, Records: make([]Record, len(events))}
	start := 0
	for i, end := range ends {
		b.Records[i] = Record{ID: events[i].EventID, Key: events[i].ICAO24, Body: buf[start : end-1 : end-1]}
		start = end
	}
	return b, nil
}

// timeCache holds the quoted text of each second formatted so far in one snapshot: its times
// (snapshot_time, time_position, last_contact) fall within a few minutes of each other.
type timeCache map[int64][]byte

func (c timeCache) append(b []byte, t time.Time) []byte {
	if t.Nanosecond() != 0 || t.Location() != time.UTC {
		return t.AppendFormat(b, `"`+time.RFC3339Nano+`"`)
	}
	txt, ok := c[t.Unix()]
	if !ok {
		txt = t.AppendFormat(nil, `"`+time.RFC3339Nano+`"`)
		c[t.Unix()] = txt
	}
	return append(b, txt...)
}

func appendEvent(b []byte, e *Event, tc timeCache) []byte {
	b = append(b, `{"event_id":`...)
	b = appendString(b, e.EventID)
	b = append(b, `,"snapshot_time":`...)
	b = tc.append(b, e.SnapshotTime)
	b = append(b, `,"icao24":`...)
	b = appendString(b, e.ICAO24)
	b = append(b, `,"callsign":`...)
	b = appendOptString(b, e.Callsign)
	b = append(b, `,"origin_country":`...)
	b = appendString(b, e.OriginCountry)
	b = append(b, `,"time_position":`...)
	if e.TimePosition == nil {
		b = append(b, "null"...)
	} else {
		b = tc.append(b, *e.TimePosition)
	}
	b = append(b, `,"last_contact":`...)
	b = tc.append(b, e.LastContact)
	b = append(b, `,"longitude":`...)
	b = appendOptFloat(b, e.Longitude)
	b = append(b, `,"latitude":`...)
	b = appendOptFloat(b, e.Latitude)
	b = append(b, `,"baro_altitude":`...)
	b = appendOptFloat(b, e.BaroAltitude)
	b = append(b, `,"on_ground":`...)
	b = strconv.AppendBool(b, e.OnGround)
	b = append(b, `,"velocity":`...)
	b = appendOptFloat(b, e.Velocity)
	b = append(b, `,"true_track":`...)
	b = appendOptFloat(b, e.TrueTrack)
	b = append(b, `,"vertical_rate":`...)
	b = appendOptFloat(b, e.VerticalRate)
	b = append(b, `,"sensors":`...)
	if e.Sensors == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, n := range e.Sensors {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(n), 10)
		}
		b = append(b, ']')
	}
	b = append(b, `,"geo_altitude":`...)
	b = appendOptFloat(b, e.GeoAltitude)
	b = append(b, `,"squawk":`...)
	b = appendOptString(b, e.Squawk)
	b = append(b, `,"spi":`...)
	b = strconv.AppendBool(b, e.SPI)
	b = append(b, `,"position_source":`...)
	b = strconv.AppendInt(b, int64(e.PositionSource), 10)
	if e.Category != nil {
		b = append(b, `,"category":`...)
		b = strconv.AppendInt(b, int64(*e.Category), 10)
	}
	return append(b, '}')
}

// appendString quotes s as JSON; invalid UTF-8 becomes U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	b, _ = jsontext.AppendQuote(b, s)
	return b
}

func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

// appendOptFloat formats a number as encoding/json does (ES6 style: no exponent between 1e-6
// and 1e21, the shortest text that reads back the same).
func appendOptFloat(b []byte, f *float64) []byte {
	if f == nil {
		return append(b, "null"...)
	}
	x := *f
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(b, "null"...) // cannot come from JSON input; never emit invalid JSON
	}
	format := byte('f')
	if a := math.Abs(x); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, x, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
