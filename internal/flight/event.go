// Package flight holds the event schema (one event per aircraft state, see
// schema/event.schema.json) and the pure transform from OpenSky state vectors to encoded events.
package flight

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

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

// Encode encodes events as JSON, one buffer for the whole snapshot.
func Encode(snapshotTime time.Time, events []Event) (Batch, error) {
	var buf bytes.Buffer
	// A world snapshot's events take about 420 bytes each; grow once instead of doubling.
	buf.Grow(len(events) * 448)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	ends := make([]int, len(events))
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			return Batch{}, fmt.Errorf("encoding event %s: %w", events[i].EventID, err)
		}
		ends[i] = buf.Len()
	}
	b := Batch{SnapshotTime: snapshotTime, NDJSON: buf.Bytes(), Records: make([]Record, len(events))}
	start := 0
	for i, end := range ends {
		b.Records[i] = Record{ID: events[i].EventID, Key: events[i].ICAO24, Body: b.NDJSON[start : end-1 : end-1]}
		start = end
	}
	return b, nil
}
