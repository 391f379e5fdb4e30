package view

import (
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Stats is the body of GET /api/stats.
type Stats struct {
	SnapshotTime *time.Time       `json:"snapshot_time"`
	Aircraft     int              `json:"aircraft"`
	Countries    []CountryCount   `json:"countries"`
	Emergencies  []jsontext.Value `json:"emergencies"`
}

// Stats returns the snapshot's aggregates; the zero Snapshot gives a null snapshot_time.
func (s *Snapshot) Stats() Stats {
	st := Stats{Aircraft: len(s.Aircraft), Countries: s.Countries, Emergencies: make([]jsontext.Value, len(s.Emergencies))}
	if !s.Time.IsZero() {
		t := s.Time
		st.SnapshotTime = &t
	}
	if st.Countries == nil {
		st.Countries = []CountryCount{}
	}
	for i, e := range s.Emergencies {
		st.Emergencies[i] = e.Raw
	}
	return st
}

// GeoJSON encodes the snapshot as a GeoJSON FeatureCollection (RFC 7946): one Feature per
// aircraft, its id the event_id, a Point at [longitude, latitude] or a null geometry when OpenSky
// gave no position, and the event's fields as properties. snapshot_time is a foreign member.
func (s *Snapshot) GeoJSON() []byte {
	size := 64
	for _, e := range s.Aircraft {
		size += len(e.Raw) + len(e.EventID) + 100
	}
	b := make([]byte, 0, size)
	b = append(b, `{"type":"FeatureCollection","snapshot_time":`...)
	if s.Time.IsZero() {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendQuote(b, s.Time.UTC().Format(time.RFC3339))
	}
	b = append(b, `,"features":[`...)
	for i, e := range s.Aircraft {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":"Feature","id":`...)
		b, _ = jsontext.AppendQuote(b, e.EventID)
		b = append(b, `,"geometry":`...)
		if e.Longitude != nil && e.Latitude != nil {
			b = append(b, `{"type":"Point","coordinates":[`...)
			b = strconv.AppendFloat(b, *e.Longitude, 'f', -1, 64)
			b = append(b, ',')
			b = strconv.AppendFloat(b, *e.Latitude, 'f', -1, 64)
			b = append(b, "]}"...)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, `,"properties":`...)
		b = append(b, e.Raw...)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// statsJSON encodes the snapshot's Stats.
func (s *Snapshot) statsJSON() []byte {
	b, err := json.Marshal(s.Stats())
	if err != nil {
		// Every field is a plain value or JSON already validated by ParseEvent.
		panic("view: encoding stats: " + err.Error())
	}
	return b
}
