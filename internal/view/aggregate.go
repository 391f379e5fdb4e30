// Package view is the local live map: it keeps the latest snapshot of aircraft events, computes
// the three aggregates the Stream Analytics query feeds Power BI (live positions, aircraft per
// country, emergencies) by the same rules, and serves them as JSON, server-sent events and an
// embedded web page. Every source (the handler's own ticks, an NDJSON file, an Event Hub) feeds
// it event JSON bodies through a Store.
package view

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Rules are the rules of infra/query.asaql that the view applies, by the query's column names.
// A test reads the same rules from the query text, so the two cannot drift apart silently.
var Rules = struct {
	// DedupeKey: an event whose DedupeKey was seen before is dropped (the States step's LAG).
	DedupeKey string
	// AircraftKey: one aircraft per distinct value of these columns in a snapshot, the one with
	// the greatest Latest (the PerSnapshot step's GROUP BY and TopOne).
	AircraftKey []string
	Latest      string
	// CountryKey and CountDistinct: aircraft per country is the number of distinct CountDistinct
	// values per CountryKey (the countrystats output).
	CountryKey    string
	CountDistinct string
	// EmergencySquawks: deduplicated events with one of these squawks are emergencies.
	EmergencySquawks []string
}{
	DedupeKey:        "event_id",
	AircraftKey:      []string{"icao24", "origin_country"},
	Latest:           "last_contact",
	CountryKey:       "origin_country",
	CountDistinct:    "icao24",
	EmergencySquawks: []string{"7500", "7600", "7700"},
}

// Event is one aircraft event as published (schema/event.schema.json): the fields the view reads,
// and the whole JSON object.
type Event struct {
	EventID       string    `json:"event_id"`
	SnapshotTime  time.Time `json:"snapshot_time"`
	ICAO24        string    `json:"icao24"`
	OriginCountry string    `json:"origin_country"`
	LastContact   time.Time `json:"last_contact"`
	Longitude     *float64  `json:"longitude"`
	Latitude      *float64  `json:"latitude"`
	Squawk        *string   `json:"squawk"`

	// Raw is the event's JSON object, compact, in a buffer of its own.
	Raw jsontext.Value `json:"-"`
}

// ParseEvent reads one event's JSON. The error names the field that is missing or wrong.
func ParseEvent(body []byte) (Event, error) {
	raw := jsontext.Value(bytes.Clone(bytes.TrimSpace(body)))
	if err := raw.Compact(); err != nil {
		return Event{}, fmt.Errorf("event is not valid JSON: %w", err)
	}
	if raw.Kind() != '{' {
		return Event{}, fmt.Errorf("event is a JSON %s, not an object", raw.Kind())
	}
	var e Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return Event{}, fmt.Errorf("event does not match schema/event.schema.json: %w", err)
	}
	switch {
	case e.EventID == "":
		return Event{}, fmt.Errorf("event has no event_id")
	case e.SnapshotTime.IsZero():
		return Event{}, fmt.Errorf("event %s has no snapshot_time", e.EventID)
	case e.ICAO24 == "":
		return Event{}, fmt.Errorf("event %s has no icao24", e.EventID)
	}
	e.Raw = raw
	return e, nil
}

// Emergency says whether the event's squawk is one of Rules.EmergencySquawks.
func (e *Event) Emergency() bool {
	return e.Squawk != nil && slices.Contains(Rules.EmergencySquawks, *e.Squawk)
}

// CountryCount is one row of the per-country table.
type CountryCount struct {
	OriginCountry string `json:"origin_country"`
	Aircraft      int    `json:"aircraft"`
}

// Snapshot is one snapshot's aircraft and its aggregates.
type Snapshot struct {
	Time time.Time
	// Aircraft holds one event per aircraft (Rules.AircraftKey), ordered by icao24.
	Aircraft []Event
	// Countries is aircraft per country, most first, then by name.
	Countries []CountryCount
	// Emergencies are the deduplicated events with an emergency squawk, ordered by icao24.
	Emergencies []Event
}

// Aggregate applies the query's rules to one snapshot's events, in arrival order.
func Aggregate(t time.Time, events []Event) Snapshot {
	s := Snapshot{Time: t}
	seen := make(map[string]bool, len(events))
	type key struct{ icao24, country string }
	latest := make(map[key]int, len(events))
	for _, e := range events {
		if seen[e.EventID] {
			continue
		}
		seen[e.EventID] = true
		if e.Emergency() {
			s.Emergencies = append(s.Emergencies, e)
		}
		k := key{e.ICAO24, e.OriginCountry}
		if i, ok := latest[k]; ok {
			// The first of equal last contacts stays, as TopOne keeps one of a tie.
			if e.LastContact.After(s.Aircraft[i].LastContact) {
				s.Aircraft[i] = e
			}
			continue
		}
		latest[k] = len(s.Aircraft)
		s.Aircraft = append(s.Aircraft, e)
	}
	byICAO := func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.ICAO24, b.ICAO24), cmp.Compare(a.OriginCountry, b.OriginCountry), cmp.Compare(a.EventID, b.EventID))
	}
	slices.SortFunc(s.Aircraft, byICAO)
	slices.SortFunc(s.Emergencies, byICAO)

	counts := map[string]map[string]bool{}
	for _, e := range s.Aircraft {
		if counts[e.OriginCountry] == nil {
			counts[e.OriginCountry] = map[string]bool{}
		}
		counts[e.OriginCountry][e.ICAO24] = true
	}
	s.Countries = make([]CountryCount, 0, len(counts))
	for c, ids := range counts {
		s.Countries = append(s.Countries, CountryCount{OriginCountry: c, Aircraft: len(ids)})
	}
	slices.SortFunc(s.Countries, func(a, b CountryCount) int {
		return cmp.Or(cmp.Compare(b.Aircraft, a.Aircraft), cmp.Compare(a.OriginCountry, b.OriginCountry))
	})
	return s
}
