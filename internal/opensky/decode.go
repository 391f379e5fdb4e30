package opensky

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Field indexes of a state vector, as OpenSky documents them.
const (
	idxICAO24 = iota
	idxCallsign
	idxOriginCountry
	idxTimePosition
	idxLastContact
	idxLongitude
	idxLatitude
	idxBaroAltitude
	idxOnGround
	idxVelocity
	idxTrueTrack
	idxVerticalRate
	idxSensors
	idxGeoAltitude
	idxSquawk
	idxSPI
	idxPositionSource
	idxCategory

	baseFields     = 17 // every state
	extendedFields = 18 // with extended=1
)

var fieldNames = [...]string{
	"icao24", "callsign", "origin_country", "time_position", "last_contact", "longitude", "latitude",
	"baro_altitude", "on_ground", "velocity", "true_track", "vertical_rate", "sensors", "geo_altitude",
	"squawk", "spi", "position_source", "category",
}

// State is one aircraft state vector as OpenSky sent it. Nullable fields are pointers; nil is null.
type State struct {
	ICAO24         string
	Callsign       *string // as sent: padded with spaces, possibly empty
	OriginCountry  string
	TimePosition   *int64
	LastContact    int64
	Longitude      *float64
	Latitude       *float64
	BaroAltitude   *float64
	OnGround       bool
	Velocity       *float64
	TrueTrack      *float64
	VerticalRate   *float64
	Sensors        []int
	GeoAltitude    *float64
	Squawk         *string
	SPI            bool
	PositionSource int
	Category       *int // only with extended=1
}

// Snapshot is one decoded /states/all answer.
type Snapshot struct {
	Time     int64       // the answer's time: when OpenSky took the snapshot (unix seconds)
	States   []State     // the states that decoded
	Rejected []Rejection // the states that did not, each with its reason
}

// Rejection says why one state vector was not taken.
type Rejection struct {
	Index  int    // position in the answer's states array
	ICAO24 string // when it could be read
	Field  string // the offending field's name, or "state" for the shape of the whole vector
	Reason string
}

func (r Rejection) String() string {
	id := r.ICAO24
	if id == "" {
		id = "?"
	}
	return fmt.Sprintf("states[%d] (%s): %s: %s", r.Index, id, r.Field, r.Reason)
}

// ErrEnvelope marks an answer whose outer object is broken; such a snapshot must not be published.
var ErrEnvelope = errors.New("OpenSky answer is not a /states/all snapshot")

// Decode decodes a /states/all answer. A broken envelope (not JSON, no time, states not an array)
// is an error wrapping ErrEnvelope. A state that does not fit the documented vector is left out
// and listed in Rejected with its reason; the other states are kept.
func Decode(body []byte) (Snapshot, error) {
	var env struct {
		Time   *float64        `json:"time"`
		States json.RawMessage `json:"states"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Snapshot{}, fmt.Errorf("%w: %s", ErrEnvelope, describeJSONError(body, err))
	}
	if env.Time == nil {
		return Snapshot{}, fmt.Errorf("%w: it has no \"time\" field", ErrEnvelope)
	}
	if *env.Time < 0 || *env.Time != math.Trunc(*env.Time) {
		return Snapshot{}, fmt.Errorf("%w: \"time\" is %v, not unix seconds", ErrEnvelope, *env.Time)
	}
	if env.States == nil {
		return Snapshot{}, fmt.Errorf("%w: it has no \"states\" field", ErrEnvelope)
	}
	snap := Snapshot{Time: int64(*env.Time)}
	raw := bytes.TrimSpace(env.States)
	if bytes.Equal(raw, []byte("null")) {
		return snap, nil // OpenSky sends null, not [], when nothing matched
	}
	var states []any
	if err := json.Unmarshal(raw, &states); err != nil {
		return Snapshot{}, fmt.Errorf("%w: \"states\" is not an array or null", ErrEnvelope)
	}
	snap.States = make([]State, 0, len(states))
	// Nullable fields point into these slabs: one allocation per snapshot instead of one per field.
	floats := make([]float64, 0, len(states)*7)
	ints := make([]int64, 0, len(states))
	strs := make([]string, 0, len(states)*2)
	for i, v := range states {
		d := stateDecoder{floats: floats, ints: ints, strs: strs}
		st, rej := d.decode(v)
		floats, ints, strs = d.floats, d.ints, d.strs
		if rej != nil {
			rej.Index = i
			snap.Rejected = append(snap.Rejected, *rej)
			continue
		}
		snap.States = append(snap.States, st)
	}
	return snap, nil
}

type stateDecoder struct {
	floats []float64
	ints   []int64
	strs   []string
	vec    []any
	err    *Rejection
}

func (d *stateDecoder) decode(v any) (State, *Rejection) {
	vec, ok := v.([]any)
	if !ok {
		return State{}, &Rejection{Field: "state", Reason: fmt.Sprintf("is %s, not an array", kind(v))}
	}
	if len(vec) != baseFields && len(vec) != extendedFields {
		r := &Rejection{Field: "state", Reason: fmt.Sprintf("has %d fields, want %d (or %d with extended=1)", len(vec), baseFields, extendedFields)}
		if len(vec) > 0 {
			r.ICAO24, _ = vec[0].(string)
		}
		return State{}, r
	}
	d.vec = vec
	var s State
	s.ICAO24 = d.str(idxICAO24)
	if d.err == nil && !isICAO24(s.ICAO24) {
		d.reject(idxICAO24, fmt.Sprintf("%q is not six hex digits", s.ICAO24))
	}
	s.Callsign = d.optStr(idxCallsign)
	s.OriginCountry = d.str(idxOriginCountry)
	s.TimePosition = d.optUnix(idxTimePosition)
	if lc := d.optUnix(idxLastContact); lc != nil {
		s.LastContact = *lc
	} else if d.err == nil {
		d.reject(idxLastContact, "is null; every state has a last contact time")
	}
	s.Longitude = d.optFloat(idxLongitude)
	s.Latitude = d.optFloat(idxLatitude)
	s.BaroAltitude = d.optFloat(idxBaroAltitude)
	s.OnGround = d.boolean(idxOnGround)
	s.Velocity = d.optFloat(idxVelocity)
	s.TrueTrack = d.optFloat(idxTrueTrack)
	s.VerticalRate = d.optFloat(idxVerticalRate)
	s.Sensors = d.sensors(idxSensors)
	s.GeoAltitude = d.optFloat(idxGeoAltitude)
	s.Squawk = d.optStr(idxSquawk)
	s.SPI = d.boolean(idxSPI)
	if ps := d.optInt(idxPositionSource, 0, 3); ps != nil {
		s.PositionSource = int(*ps)
	} else if d.err == nil {
		d.reject(idxPositionSource, "is null; want 0 (ADS-B), 1 (ASTERIX), 2 (MLAT) or 3 (FLARM)")
	}
	if len(vec) == extendedFields {
		if c := d.optInt(idxCategory, 0, 20); c != nil {
			n := int(*c)
			s.Category = &n
		}
	}
	if d.err == nil {
		if s.Longitude != nil && (*s.Longitude < -180 || *s.Longitude > 180) {
			d.reject(idxLongitude, fmt.Sprintf("%v is outside -180..180", *s.Longitude))
		} else if s.Latitude != nil && (*s.Latitude < -90 || *s.Latitude > 90) {
			d.reject(idxLatitude, fmt.Sprintf("%v is outside -90..90", *s.Latitude))
		}
	}
	if d.err != nil {
		if d.err.Field != fieldNames[idxICAO24] {
			d.err.ICAO24 = s.ICAO24
		}
		return State{}, d.err
	}
	return s, nil
}

func (d *stateDecoder) reject(idx int, reason string) {
	if d.err == nil {
		d.err = &Rejection{Field: fieldNames[idx], Reason: reason}
	}
}

func (d *stateDecoder) wrongType(idx int, want string) {
	d.reject(idx, fmt.Sprintf("is %s, want %s", kind(d.vec[idx]), want))
}

func (d *stateDecoder) str(idx int) string {
	s, ok := d.vec[idx].(string)
	if !ok {
		d.wrongType(idx, "a string")
	}
	return s
}

func (d *stateDecoder) optStr(idx int) *string {
	switch v := d.vec[idx].(type) {
	case nil:
		return nil
	case string:
		d.strs = append(d.strs, v)
		return &d.strs[len(d.strs)-1]
	}
	d.wrongType(idx, "a string or null")
	return nil
}

func (d *stateDecoder) optFloat(idx int) *float64 {
	switch v := d.vec[idx].(type) {
	case nil:
		return nil
	case float64:
		d.floats = append(d.floats, v)
		return &d.floats[len(d.floats)-1]
	}
	d.wrongType(idx, "a number or null")
	return nil
}

func (d *stateDecoder) optInt(idx int, lo, hi int64) *int64 {
	switch v := d.vec[idx].(type) {
	case nil:
		return nil
	case float64:
		if v != math.Trunc(v) || v < float64(lo) || v > float64(hi) {
			d.reject(idx, fmt.Sprintf("%v is not a whole number from %d to %d", v, lo, hi))
			return nil
		}
		d.ints = append(d.ints, int64(v))
		return &d.ints[len(d.ints)-1]
	}
	d.wrongType(idx, fmt.Sprintf("a whole number from %d to %d", lo, hi))
	return nil
}

// optUnix reads unix seconds; OpenSky sends whole numbers, but a fractional part is dropped.
func (d *stateDecoder) optUnix(idx int) *int64 {
	switch v := d.vec[idx].(type) {
	case nil:
		return nil
	case float64:
		if v < 0 || v > 1<<40 {
			d.reject(idx, fmt.Sprintf("%v is not unix seconds", v))
			return nil
		}
		d.ints = append(d.ints, int64(v))
		return &d.ints[len(d.ints)-1]
	}
	d.wrongType(idx, "unix seconds or null")
	return nil
}

func (d *stateDecoder) boolean(idx int) bool {
	b, ok := d.vec[idx].(bool)
	if !ok {
		d.wrongType(idx, "true or false")
	}
	return b
}

func (d *stateDecoder) sensors(idx int) []int {
	switch v := d.vec[idx].(type) {
	case nil:
		return nil
	case []any:
		out := make([]int, len(v))
		for i, e := range v {
			f, ok := e.(float64)
			if !ok || f != math.Trunc(f) {
				d.reject(idx, fmt.Sprintf("element %d is %s, want a sensor serial (whole number)", i, kind(e)))
				return nil
			}
			out[i] = int(f)
		}
		return out
	}
	d.wrongType(idx, "an array of sensor serials or null")
	return nil
}

func isICAO24(s string) bool {
	return len(s) == 6 && strings.Trim(s, "0123456789abcdef") == ""
}

func kind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if len(v) > 20 {
			v = v[:20] + "..."
		}
		return fmt.Sprintf("the string %q", v)
	case float64:
		return fmt.Sprintf("the number %v", v)
	case bool:
		return fmt.Sprintf("%v", v)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// describeJSONError says where a body stops being JSON, e.g. for a body cut off in transit.
func describeJSONError(body []byte, err error) string {
	if strings.Contains(err.Error(), "unexpected end of JSON input") {
		return fmt.Sprintf("the JSON ends early after %d bytes (a truncated answer)", len(body))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d of %d (%v)", se.Offset, len(body), se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q is a JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	return err.Error()
}
