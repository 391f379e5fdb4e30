package opensky

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
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

// ErrTooManyStates marks an answer with more states than Limits.MaxStates allows.
var ErrTooManyStates = errors.New("OpenSky answer has too many states")

// Limits bound what Decode takes. The zero value takes no time at all: use LimitsAt.
type Limits struct {
	// Earliest and Latest bound every time in an answer (the snapshot's, time_position and
	// last_contact), in unix seconds. A snapshot time out of range fails the answer; a state's
	// time out of range rejects that state.
	Earliest, Latest int64
	// MaxStates is the most state vectors an answer may hold (rejected ones count too); more
	// fail the answer with ErrTooManyStates as soon as the decoder reaches one past it. 0 means
	// no cap.
	MaxStates int
}

// EarliestTime is the earliest time an answer may hold. OpenSky began in 2013; a time before
// 2000 is a broken value, not history. schema/event.schema.json says the same in its patterns
// (a test holds them together).
var EarliestTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// MaxAhead is how far past the host's clock a time may be: clocks disagree by seconds, not a day.
const MaxAhead = 24 * time.Hour

// LimitsAt returns the Limits of an answer read at now: every time from EarliestTime to now plus
// MaxAhead, and at most maxStates states (0: no cap). Decode is pure, so now comes from the caller.
func LimitsAt(now time.Time, maxStates int) Limits {
	return Limits{Earliest: EarliestTime.Unix(), Latest: now.Add(MaxAhead).Unix(), MaxStates: maxStates}
}

// unixTime reads x as unix seconds, dropping a fraction as OpenSky's whole seconds never have
// one, and reports whether it is within the limits.
func (l Limits) unixTime(x float64) (int64, bool) {
	t := math.Trunc(x)
	if !(t >= float64(l.Earliest) && t <= float64(l.Latest)) {
		return 0, false
	}
	return int64(t), true
}

// timeRange says which times the limits take, for a message.
func (l Limits) timeRange() string {
	return fmt.Sprintf("unix seconds from %d (%s) to %d (%s)", l.Earliest, formatUnix(l.Earliest), l.Latest, formatUnix(l.Latest))
}

func formatUnix(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

// tooManyStates is the error of an answer past Limits.MaxStates.
type tooManyStates int

func (e tooManyStates) Error() string {
	return fmt.Sprintf("it has more than %d states, the most this handler takes", int(e))
}

// decodeOptions: OpenSky's strings are taken as sent, even with a stray invalid byte, rather than
// failing a whole snapshot over one callsign.
var decodeOptions = jsontext.AllowInvalidUTF8(true)

// Decode decodes a /states/all answer within lim. A broken envelope (not JSON, no time or one out
// of lim's range, states not an array) is an error wrapping ErrEnvelope, and more states than
// lim.MaxStates one wrapping ErrTooManyStates. A state that does not fit the documented vector
// (or has a time out of range) is left out and listed in Rejected with its reason; the other
// states are kept.
//
// Ordinary answers take a fast path (decodeFast, scan.go): a byte scanner for exactly the shape
// OpenSky sends, with allocations per snapshot rather than per state. At the first thing out of
// the ordinary (an escape in a string, an unknown key, a sensors list, a state to reject, broken
// JSON) it gives up, and the whole body is decoded again by the reference decoder
// (decodeTokens), which alone writes rejections and errors; both give the same Snapshot for what
// the fast path takes.
func Decode(body []byte, lim Limits) (Snapshot, error) {
	if snap, ok := decodeFast(body, lim); ok {
		return snap, nil
	}
	return decodeTokens(body, lim)
}

// decodeTokens is the reference decoder. It reads the answer as a stream of JSON tokens
// (jsontext, the tokenizer of encoding/json/v2) straight into State values: no tree of
// interfaces per state, and nullable fields point into a few slabs allocated per snapshot rather
// than one allocation each.
func decodeTokens(body []byte, lim Limits) (Snapshot, error) {
	d := &decoder{dec: jsontext.NewDecoder(bytes.NewReader(body), decodeOptions), body: body, lim: lim}
	snap, err := d.snapshot()
	if err != nil {
		var tm tooManyStates
		if errors.As(err, &tm) {
			return Snapshot{}, fmt.Errorf("%w: %v", ErrTooManyStates, tm)
		}
		return Snapshot{}, fmt.Errorf("%w: %s", ErrEnvelope, describeJSONError(body, err))
	}
	return snap, nil
}

// envelopeError is a well-formed answer of the wrong shape.
type envelopeError string

func (e envelopeError) Error() string { return string(e) }

type decoder struct {
	dec  *jsontext.Decoder
	body []byte
	lim  Limits
	// Slabs that nullable fields point into, and repeated strings (countries, squawks) shared.
	floats []float64
	ints   []int64
	strs   []string
	intern map[string]string
}

func (d *decoder) snapshot() (Snapshot, error) {
	if k := d.dec.PeekKind(); k != '{' {
		if _, err := d.dec.ReadToken(); err != nil {
			return Snapshot{}, err
		}
		return Snapshot{}, envelopeError("it is not a JSON object")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return Snapshot{}, err
	}
	var (
		snap                Snapshot
		haveTime, haveState bool
	)
	for d.dec.PeekKind() != '}' {
		name, err := d.dec.ReadToken()
		if err != nil {
			return Snapshot{}, err
		}
		switch name.String() {
		case "time":
			v, err := d.dec.ReadValue()
			if err != nil {
				return Snapshot{}, err
			}
			x, ok := parseNumber(v)
			t, inRange := d.lim.unixTime(x)
			if !ok || x != math.Trunc(x) || !inRange {
				return Snapshot{}, envelopeError(fmt.Sprintf("\"time\" is %s, not the snapshot's time in whole %s", describe(v), d.lim.timeRange()))
			}
			snap.Time, haveTime = t, true
		case "states":
			haveState = true
			if err := d.states(&snap); err != nil {
				return Snapshot{}, err
			}
		default:
			if err := d.dec.SkipValue(); err != nil {
				return Snapshot{}, err
			}
		}
	}
	if _, err := d.dec.ReadToken(); err != nil { // the closing brace
		return Snapshot{}, err
	}
	if _, err := d.dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = envelopeError("there is more after the JSON object")
		}
		return Snapshot{}, err
	}
	switch {
	case !haveTime:
		return Snapshot{}, envelopeError("it has no \"time\" field")
	case !haveState:
		return Snapshot{}, envelopeError("it has no \"states\" field")
	}
	return snap, nil
}

// bytesPerState is about what one state vector takes in an answer; it sizes the slabs.
const bytesPerState = 130

// slabStates is how many states the slabs are sized for: as many as the body could hold at
// bytesPerState each, but no more than the limits allow.
func slabStates(bodyLen int, lim Limits) int {
	n := bodyLen/bytesPerState + 1
	if lim.MaxStates > 0 {
		n = min(n, lim.MaxStates+1)
	}
	return n
}

// internHint sizes the map of repeated strings: a world snapshot has about 150 origin countries.
// A smaller answer gets a map no larger than its states (a map for 256 costs more than decoding a
// few states).
const internHint = 256

func (d *decoder) states(snap *Snapshot) error {
	switch d.dec.PeekKind() {
	case 'n':
		_, err := d.dec.ReadToken() // OpenSky sends null, not [], when nothing matched
		return err
	case '[':
	default:
		v, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		return envelopeError(fmt.Sprintf("\"states\" is %s, not an array or null", describe(v)))
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	n := slabStates(len(d.body), d.lim)
	snap.States = make([]State, 0, n)
	d.floats = make([]float64, 0, n*7)
	d.ints = make([]int64, 0, n*2)
	d.strs = make([]string, 0, n)
	d.intern = make(map[string]string, min(n, internHint))
	for i := 0; d.dec.PeekKind() != ']'; i++ {
		if d.lim.MaxStates > 0 && i == d.lim.MaxStates {
			return tooManyStates(d.lim.MaxStates)
		}
		st, rej, err := d.state()
		if err != nil {
			return err
		}
		if rej != nil {
			rej.Index = i
			snap.Rejected = append(snap.Rejected, *rej)
			continue
		}
		snap.States = append(snap.States, st)
	}
	_, err := d.dec.ReadToken() // the closing bracket
	return err
}

// state reads one element of the states array. A syntax error is returned as err (the answer is
// broken); a well-formed element that is not a state vector is a rejection.
func (d *decoder) state() (State, *Rejection, error) {
	if d.dec.PeekKind() != '[' {
		v, err := d.dec.ReadValue()
		if err != nil {
			return State{}, nil, err
		}
		return State{}, &Rejection{Field: "state", Reason: fmt.Sprintf("is %s, not an array", describe(v))}, nil
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return State{}, nil, err
	}
	var (
		s State
		f = fieldDecoder{d: d}
		n int
	)
	for ; d.dec.PeekKind() != ']'; n++ {
		v, err := d.dec.ReadValue()
		if err != nil {
			return State{}, nil, err
		}
		f.field(&s, n, v)
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return State{}, nil, err
	}
	if n != baseFields && n != extendedFields {
		id := s.ICAO24
		if !isICAO24(id) {
			id = ""
		}
		return State{}, &Rejection{ICAO24: id, Field: "state", Reason: fmt.Sprintf("has %d fields, want %d (or %d with extended=1)", n, baseFields, extendedFields)}, nil
	}
	if f.err == nil {
		if s.Longitude != nil && (*s.Longitude < -180 || *s.Longitude > 180) {
			f.reject(idxLongitude, fmt.Sprintf("%v is outside -180..180", *s.Longitude))
		} else if s.Latitude != nil && (*s.Latitude < -90 || *s.Latitude > 90) {
			f.reject(idxLatitude, fmt.Sprintf("%v is outside -90..90", *s.Latitude))
		}
	}
	if f.err != nil {
		if f.err.Field != fieldNames[idxICAO24] {
			f.err.ICAO24 = s.ICAO24
		}
		return State{}, f.err, nil
	}
	return s, nil, nil
}

// fieldDecoder reads the fields of one state vector, keeping the first problem.
type fieldDecoder struct {
	d   *decoder
	err *Rejection
}

func (f *fieldDecoder) field(s *State, idx int, v jsontext.Value) {
	switch idx {
	case idxICAO24:
		s.ICAO24 = f.str(idx, v, false)
		if f.err == nil && !isICAO24(s.ICAO24) {
			f.reject(idx, quoteClipped(s.ICAO24)+" is not six hex digits")
		}
	case idxCallsign:
		s.Callsign = f.optStr(idx, v, false)
	case idxOriginCountry:
		s.OriginCountry = f.str(idx, v, true)
	case idxTimePosition:
		s.TimePosition = f.optUnix(idx, v)
	case idxLastContact:
		if lc := f.optUnix(idx, v); lc != nil {
			s.LastContact = *lc
		} else {
			f.reject(idx, "is null; every state has a last contact time")
		}
	case idxLongitude:
		s.Longitude = f.optFloat(idx, v)
	case idxLatitude:
		s.Latitude = f.optFloat(idx, v)
	case idxBaroAltitude:
		s.BaroAltitude = f.optFloat(idx, v)
	case idxOnGround:
		s.OnGround = f.boolean(idx, v)
	case idxVelocity:
		s.Velocity = f.optFloat(idx, v)
	case idxTrueTrack:
		s.TrueTrack = f.optFloat(idx, v)
	case idxVerticalRate:
		s.VerticalRate = f.optFloat(idx, v)
	case idxSensors:
		s.Sensors = f.sensors(idx, v)
	case idxGeoAltitude:
		s.GeoAltitude = f.optFloat(idx, v)
	case idxSquawk:
		s.Squawk = f.optStr(idx, v, true)
	case idxSPI:
		s.SPI = f.boolean(idx, v)
	case idxPositionSource:
		if ps := f.optInt(idx, v, 0, 3); ps != nil {
			s.PositionSource = int(*ps)
		} else {
			f.reject(idx, "is null; want 0 (ADS-B), 1 (ASTERIX), 2 (MLAT) or 3 (FLARM)")
		}
	case idxCategory:
		if c := f.optInt(idx, v, 0, 20); c != nil {
			n := int(*c)
			s.Category = &n
		}
	}
}

func (f *fieldDecoder) reject(idx int, reason string) {
	if f.err == nil {
		f.err = &Rejection{Field: fieldNames[idx], Reason: reason}
	}
}

func (f *fieldDecoder) wrongType(idx int, v jsontext.Value, want string) {
	f.reject(idx, fmt.Sprintf("is %s, want %s", describe(v), want))
}

// text returns a JSON string's content; shared says the value repeats across states (a country,
// a squawk), so one copy serves them all.
func (f *fieldDecoder) text(v jsontext.Value, shared bool) string {
	raw := v[1 : len(v)-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		b, err := jsontext.AppendUnquote(nil, v)
		if err == nil {
			return string(b)
		}
	}
	if !shared {
		return string(raw)
	}
	if s, ok := f.d.intern[string(raw)]; ok {
		return s
	}
	s := string(raw)
	f.d.intern[s] = s
	return s
}

func (f *fieldDecoder) str(idx int, v jsontext.Value, shared bool) string {
	if v.Kind() != '"' {
		f.wrongType(idx, v, "a string")
		return ""
	}
	return f.text(v, shared)
}

func (f *fieldDecoder) optStr(idx int, v jsontext.Value, shared bool) *string {
	switch v.Kind() {
	case 'n':
		return nil
	case '"':
		f.d.strs = append(f.d.strs, f.text(v, shared))
		return &f.d.strs[len(f.d.strs)-1]
	}
	f.wrongType(idx, v, "a string or null")
	return nil
}

func (f *fieldDecoder) optFloat(idx int, v jsontext.Value) *float64 {
	switch v.Kind() {
	case 'n':
		return nil
	case '0':
		if x, ok := parseNumber(v); ok {
			f.d.floats = append(f.d.floats, x)
			return &f.d.floats[len(f.d.floats)-1]
		}
	}
	f.wrongType(idx, v, "a number or null")
	return nil
}

func (f *fieldDecoder) optInt(idx int, v jsontext.Value, lo, hi int64) *int64 {
	switch v.Kind() {
	case 'n':
		return nil
	case '0':
		x, _ := parseNumber(v)
		if x != math.Trunc(x) || x < float64(lo) || x > float64(hi) {
			f.reject(idx, fmt.Sprintf("%s is not a whole number from %d to %d", clip(string(v)), lo, hi))
			return nil
		}
		f.d.ints = append(f.d.ints, int64(x))
		return &f.d.ints[len(f.d.ints)-1]
	}
	f.wrongType(idx, v, fmt.Sprintf("a whole number from %d to %d", lo, hi))
	return nil
}

// optUnix reads unix seconds; OpenSky sends whole numbers, but a fractional part is dropped.
func (f *fieldDecoder) optUnix(idx int, v jsontext.Value) *int64 {
	switch v.Kind() {
	case 'n':
		return nil
	case '0':
		x, _ := parseNumber(v)
		t, ok := f.d.lim.unixTime(x)
		if !ok {
			f.reject(idx, fmt.Sprintf("%s is not a time in %s", clip(string(v)), f.d.lim.timeRange()))
			return nil
		}
		f.d.ints = append(f.d.ints, t)
		return &f.d.ints[len(f.d.ints)-1]
	}
	f.wrongType(idx, v, "unix seconds or null")
	return nil
}

func (f *fieldDecoder) boolean(idx int, v jsontext.Value) bool {
	switch v.Kind() {
	case 't':
		return true
	case 'f':
		return false
	}
	f.wrongType(idx, v, "true or false")
	return false
}

// sensors is null unless the request filtered by sensor serials: the rare case may take the slow road.
func (f *fieldDecoder) sensors(idx int, v jsontext.Value) []int {
	switch v.Kind() {
	case 'n':
		return nil
	case '[':
		var xs []any
		if err := json.Unmarshal(v, &xs); err != nil {
			f.wrongType(idx, v, "an array of sensor serials or null")
			return nil
		}
		out := make([]int, len(xs))
		for i, e := range xs {
			x, ok := e.(float64)
			if !ok || x != math.Trunc(x) {
				f.reject(idx, fmt.Sprintf("element %d is %s, want a sensor serial (whole number)", i, kind(e)))
				return nil
			}
			out[i] = int(x)
		}
		return out
	}
	f.wrongType(idx, v, "an array of sensor serials or null")
	return nil
}

// parseNumber reads a JSON number (already validated by the tokenizer).
func parseNumber(v jsontext.Value) (float64, bool) {
	if v.Kind() != '0' {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(v), 64)
	return x, err == nil
}

// describe names a raw JSON value for a message.
func describe(v jsontext.Value) string {
	switch v.Kind() {
	case 'n':
		return "null"
	case 't', 'f':
		return string(v)
	case '"':
		s, _ := jsontext.AppendUnquote(nil, v)
		return kind(string(s))
	case '0':
		return "the number " + clip(string(v))
	case '[':
		return "an array"
	case '{':
		return "an object"
	}
	return "invalid JSON"
}

// maxQuoted bounds how much of an offending value a message quotes: an answer may hold values of
// megabytes, and each message is logged and sent back to the Functions host.
const maxQuoted = 64

// clip returns s, or its first maxQuoted bytes (cut at a character's start) and how long it was.
func clip(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:clipAt(s)], len(s))
}

// quoteClipped quotes s as %q does, clipped as clip does.
func quoteClipped(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:clipAt(s)], len(s))
}

func clipAt(s string) int {
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return cut
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
	var ee envelopeError
	if errors.As(err, &ee) {
		return string(ee)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || (errors.Is(err, io.EOF)) {
		return fmt.Sprintf("the JSON ends early after %d bytes (a truncated answer)", len(body))
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d of %d (%v)", se.ByteOffset, len(body), se.Err)
	}
	return err.Error()
}
