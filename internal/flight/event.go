// Package flight holds the event schema (one event per aircraft state, see
// schema/event.schema.json) and the pure transform from OpenSky state vectors to encoded events.
package flight

import (
	"encoding/binary"
	"hash/crc64"
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

// EventID is the id of an event: icao24, last_contact (unix seconds) and a 64-bit checksum of
// the event's other fields, joined by '-', e.g. 3c6444-1634471390-9a3c0f1e2b4d5a67. It is made
// of the event's content alone (event_id and snapshot_time aside), so the same state seen in two
// snapshots, or sent again by a retry, has the same id, and consumers can drop repeats; two
// states that differ in any field (two positions reported with one last_contact) have different
// ids, so neither is dropped as the other's repeat. The checksum is CRC-64 (ECMA) of the fields
// in a fixed binary form (see appendContent); it is computed, not random, so an id never changes
// between runs or versions of the handler unless the schema does.
func EventID(e *Event) string {
	return string(appendEventID(nil, e, nil))
}

// appendEventID appends e's id to b; scratch is a buffer for appendContent to write into.
func appendEventID(b []byte, e *Event, scratch []byte) []byte {
	sum := crc64.Checksum(appendContent(scratch[:0], e), crcTable)
	b = append(b, e.ICAO24...)
	b = append(b, '-')
	b = strconv.AppendInt(b, e.LastContact.Unix(), 10)
	b = append(b, '-')
	const hex = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, hex[sum>>shift&0xf])
	}
	return b
}

var crcTable = crc64.MakeTable(crc64.ECMA)

// appendContent appends the fields an event id is made of, each unambiguously: strings with
// their length, numbers as their 8 bytes (a float64's bits, so -0 is not 0, as it is not in the
// JSON), and a null as a tag byte of its own.
func appendContent(b []byte, e *Event) []byte {
	b = appendLenString(b, e.ICAO24)
	b = appendContentString(b, e.Callsign)
	b = appendLenString(b, e.OriginCountry)
	if e.TimePosition == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint64(b, uint64(e.TimePosition.Unix()))
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(e.LastContact.Unix()))
	b = appendContentFloat(b, e.Longitude)
	b = appendContentFloat(b, e.Latitude)
	b = appendContentFloat(b, e.BaroAltitude)
	b = appendContentBool(b, e.OnGround)
	b = appendContentFloat(b, e.Velocity)
	b = appendContentFloat(b, e.TrueTrack)
	b = appendContentFloat(b, e.VerticalRate)
	if e.Sensors == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(e.Sensors)))
		for _, n := range e.Sensors {
			b = binary.AppendVarint(b, int64(n))
		}
	}
	b = appendContentFloat(b, e.GeoAltitude)
	b = appendContentString(b, e.Squawk)
	b = appendContentBool(b, e.SPI)
	b = binary.AppendVarint(b, int64(e.PositionSource))
	if e.Category == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.AppendVarint(b, int64(*e.Category))
	}
	return b
}

func appendLenString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendContentString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, 0)
	}
	return appendLenString(append(b, 1), *s)
}

func appendContentFloat(b []byte, f *float64) []byte {
	if f == nil {
		return append(b, 0)
	}
	return binary.LittleEndian.AppendUint64(append(b, 1), math.Float64bits(*f))
}

func appendContentBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// eventIDLen is the length of an id with a 6-character icao24 and a 10-digit last contact.
const eventIDLen = 6 + 1 + 10 + 1 + 16

// Transform turns the states of one snapshot into events. It is pure: the snapshot time comes in
// with the snapshot. Events share the states' nullable values (no copies are made). It allocates
// per snapshot, not per state: the events' ids are substrings of one buffer, and trimmed
// callsigns and time positions are held in one slab each, so any event kept keeps those alive.
func Transform(snap opensky.Snapshot) []Event {
	snapTime := time.Unix(snap.Time, 0).UTC()
	events := make([]Event, len(snap.States))
	// Time positions and trimmed callsigns point into one slab each, as the decoder's nullable
	// fields do.
	times := make([]time.Time, 0, len(snap.States))
	var callsigns []string
	// All event ids are written to one buffer, and each event's is a substring of it: a Builder's
	// String does not copy, and what it has returned stays unchanged as it grows. The size is for
	// eventIDLen; should that be short, the Builder grows and the ids written so far stay in the
	// old buffer.
	var ids strings.Builder
	ids.Grow(len(snap.States) * eventIDLen)
	// One buffer for an id and one for the fields it is made of (appendContent), each reused;
	// 256 bytes hold a state's fields unless its strings are unusually long.
	idBuf, scratch := make([]byte, 0, 64), make([]byte, 0, 256)
	for i := range snap.States {
		s := &snap.States[i]
		e := &events[i]
		e.SnapshotTime = snapTime
		e.ICAO24 = s.ICAO24
		// OpenSky pads callsigns with spaces; an empty one becomes null.
		e.Callsign = s.Callsign
		if c := s.Callsign; c != nil {
			if t := strings.TrimSpace(*c); t == "" {
				e.Callsign = nil
			} else if len(t) != len(*c) {
				if callsigns == nil {
					callsigns = make([]string, 0, len(snap.States)-i)
				}
				callsigns = append(callsigns, t)
				e.Callsign = &callsigns[len(callsigns)-1]
			}
		}
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
		// The id is made of the event's fields, so it comes last.
		start := ids.Len()
		idBuf = appendEventID(idBuf[:0], e, scratch)
		ids.Write(idBuf)
		e.EventID = ids.String()[start:]
	}
	return events
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

// Encode encodes events as JSON, one buffer for the whole snapshot, with a new Encoder: the Batch
// owns its buffers. See Encoder.Encode.
func Encode(snapshotTime time.Time, events []Event) (Batch, error) {
	var e Encoder
	return e.Encode(snapshotTime, events)
}

// Encoder encodes snapshots into Batches and keeps their buffers for the next snapshot. A handler
// that ticks all day then holds one buffer the size of its snapshots instead of allocating a new
// one each tick, which the runtime must zero and, after it has handed the last one back to the OS,
// fault in again page by page: that cost more than encoding itself. An Encoder is not safe for
// concurrent use. The zero value is ready to use.
type Encoder struct {
	buf     []byte
	records []Record
}

// bytesPerEvent is the buffer reserved per event: a world snapshot's events take about 420 bytes.
const bytesPerEvent = 448

// Encode encodes events as JSON, one buffer for the whole snapshot. The output is what
// encoding/json makes of an Event (a test holds them equal), written field by field: the schema is
// fixed, and reflection and the re-validation of time.Time's MarshalJSON cost more than the rest
// of a tick's CPU path together.
//
// The Batch is valid until the next call of Encode on e, which reuses its buffers: whoever keeps
// a record longer must copy it.
func (e *Encoder) Encode(snapshotTime time.Time, events []Event) (Batch, error) {
	size := len(events) * bytesPerEvent
	// Keep the buffers unless they are far larger than this snapshot needs (one huge answer should
	// not pin its memory for the rest of the process's life).
	if cap(e.buf) < size || cap(e.buf) > 4*size+64<<10 {
		e.buf = make([]byte, 0, size)
	}
	if cap(e.records) < len(events) || cap(e.records) > 4*len(events)+1024 {
		e.records = make([]Record, len(events))
	}
	// Records past this snapshot's would keep the last one's ids and bodies alive.
	clear(e.records[len(events):cap(e.records)])
	buf, start0 := e.buf[:0], cap(e.buf)
	records := e.records[:len(events)]
	var tc timeCache
	for i := range events {
		start := len(buf)
		buf = appendEvent(buf, &events[i], &tc)
		r := &records[i]
		r.ID, r.Key, r.Body = events[i].EventID, events[i].ICAO24, buf[start:len(buf):len(buf)]
		buf = append(buf, '\n')
	}
	if cap(buf) != start0 {
		// The buffer grew: bodies written before are in an old one.
		start := 0
		for i := range records {
			end := start + len(records[i].Body)
			records[i].Body = buf[start:end:end]
			start = end + 1
		}
	}
	e.buf, e.records = buf, records
	return Batch{SnapshotTime: snapshotTime, Records: records, NDJSON: buf}, nil
}

// timeCache holds the quoted text of seconds formatted so far in one snapshot, direct-mapped by
// the second: a snapshot's times (snapshot_time, time_position, last_contact) fall within a few
// minutes of each other, so they seldom collide.
type timeCache struct {
	slots [256]struct {
		unix int64
		ok   bool
		txt  [len(`"2006-01-02T15:04:05Z"`)]byte
	}
}

func (c *timeCache) append(b []byte, t time.Time) []byte {
	if t.Nanosecond() != 0 || t.Location() != time.UTC {
		return t.AppendFormat(b, `"`+time.RFC3339Nano+`"`)
	}
	u := t.Unix()
	s := &c.slots[uint64(u)%uint64(len(c.slots))]
	if !s.ok || s.unix != u {
		var buf [64]byte
		txt := t.AppendFormat(buf[:0], `"`+time.RFC3339Nano+`"`)
		if len(txt) != len(s.txt) { // a year outside 0000-9999
			return append(b, txt...)
		}
		copy(s.txt[:], txt)
		s.unix, s.ok = u, true
	}
	return append(b, s.txt[:]...)
}

func appendEvent(b []byte, e *Event, tc *timeCache) []byte {
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
	for i := 0; i < len(s); i++ {
		if !plain[s[i]] {
			b, _ = jsontext.AppendQuote(b, s)
			return b
		}
	}
	// Nothing to escape: ids, callsigns, most countries.
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plain marks the bytes a JSON string holds as they are, whatever the escaping options: printable
// ASCII but for the quote, the backslash and the characters HTML escaping would replace.
var plain = func() (p [256]bool) {
	for c := ' '; c <= '~'; c++ {
		p[c] = !strings.ContainsRune(`"\<>&`, c)
	}
	return p
}()

func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}
