package opensky

import (
	"math"
	"strconv"
	"sync"
)

// decodeFast decodes an ordinary /states/all answer with a byte scanner written for its one
// shape: {"time":N,"states":[[17 or 18 values],...]} or "states":null, the two keys in either
// order, JSON whitespace between tokens. It gives up (ok is false) at the first thing it does not
// expect: another or a repeated key, a string with an escape, a control byte or a byte >= 0x80,
// sensors other than null, any value the reference decoder (decodeTokens) would reject or fail on,
// broken JSON, bytes after the object. Decode then runs the reference decoder on the whole body,
// so decodeFast needs to be right only about what it takes, and for that it gives exactly the
// reference's Snapshot (no Rejected entries, ever).
//
// It allocates per snapshot, not per state: icao24s and callsigns are copied into one byte arena
// that becomes one string at the end, which the states are then pointed into; nullable fields
// point into slabs as in the reference; countries are interned as there, squawks too (the usual
// four octal digits from one table shared by all snapshots, so that ~2,400 distinct squawks in a
// world snapshot cost no allocation each).
func decodeFast(body []byte, lim Limits) (Snapshot, bool) {
	if uint64(len(body)) > math.MaxUint32 { // arena offsets are uint32
		return Snapshot{}, false
	}
	var (
		snap                 Snapshot
		d                    = fastDecoder{lim: lim}
		haveTime, haveStates bool
	)
	b := body
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return Snapshot{}, false
	}
	i = skipSpace(b, i+1)
	for {
		switch {
		case hasLiteral(b, i, `"time"`) && !haveTime:
			haveTime = true
			if i = colon(b, i+len(`"time"`)); i < 0 {
				return Snapshot{}, false
			}
			var x float64
			// As the reference: whole, and within the limits.
			if x, i = scanNumber(b, i); i < 0 || x != math.Trunc(x) {
				return Snapshot{}, false
			}
			t, ok := lim.unixTime(x)
			if !ok {
				return Snapshot{}, false
			}
			snap.Time = t
		case hasLiteral(b, i, `"states"`) && !haveStates:
			haveStates = true
			if i = colon(b, i+len(`"states"`)); i < 0 {
				return Snapshot{}, false
			}
			if hasLiteral(b, i, "null") {
				i += len("null")
			} else if i = d.states(b, i, &snap); i < 0 {
				return Snapshot{}, false
			}
		default:
			return Snapshot{}, false
		}
		if i = skipSpace(b, i); i >= len(b) {
			return Snapshot{}, false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return Snapshot{}, false
		}
		i = skipSpace(b, i+1)
	}
	if !haveTime || !haveStates || skipSpace(b, i+1) != len(b) {
		return Snapshot{}, false
	}
	return snap, true
}

// fastDecoder holds what decodeFast allocates per snapshot.
type fastDecoder struct {
	lim        Limits
	n          int // the slabs' capacity in states, as the reference sizes them
	floats     []float64
	ints       []int64
	categories []int
	strs       []string
	arena      []byte   // icao24 then callsign of each state, back to back
	offs       []uint32 // where each state's part of arena starts
	intern     map[string]string
	squawks    string
}

// states reads the states array starting at b[i] into snap.States and returns the index after it,
// or -1.
func (d *fastDecoder) states(b []byte, i int, snap *Snapshot) int {
	if i >= len(b) || b[i] != '[' {
		return -1
	}
	n := slabStates(len(b), d.lim)
	d.n = n
	snap.States = make([]State, 0, n)
	d.floats = make([]float64, 0, n*7)
	d.ints = make([]int64, 0, n)
	d.strs = make([]string, 0, n*2)
	d.arena = make([]byte, 0, n*16)
	d.offs = make([]uint32, 0, n+1)
	d.intern = make(map[string]string, min(n, internHint))
	d.squawks = squawkCodes()
	if i = skipSpace(b, i+1); i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '[' || len(snap.States) == d.lim.MaxStates && d.lim.MaxStates > 0 {
			return -1 // past MaxStates: the reference says so
		}
		d.offs = append(d.offs, uint32(len(d.arena)))
		if len(snap.States) < cap(snap.States) {
			snap.States = snap.States[:len(snap.States)+1] // zeroed by make, no need to write it
		} else {
			snap.States = append(snap.States, State{})
		}
		if i = d.state(b, i+1, &snap.States[len(snap.States)-1]); i < 0 {
			return -1
		}
		if i = skipSpace(b, i); i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			d.patchNames(snap.States)
			return i + 1
		default:
			return -1
		}
	}
}

// patchNames points each state's icao24 and callsign into one string made of the arena.
func (d *fastDecoder) patchNames(states []State) {
	d.offs = append(d.offs, uint32(len(d.arena)))
	names := string(d.arena)
	for j := range states {
		s := &states[j]
		start, end := d.offs[j], d.offs[j+1]
		s.ICAO24 = names[start : start+6]
		if s.Callsign != nil {
			*s.Callsign = names[start+6 : end]
		}
	}
}

// state reads one state vector after its opening bracket, mirroring fieldDecoder and
// decoder.state: anything they would reject gives -1. It returns the index after the closing
// bracket.
func (d *fastDecoder) state(b []byte, i int, s *State) int {
	// icao24: exactly six lower-case hex digits (isICAO24), later pointed into the arena.
	if i = skipSpace(b, i); len(b)-i < 8 || b[i] != '"' || b[i+7] != '"' {
		return -1
	}
	for _, c := range b[i+1 : i+7] {
		if c-'0' > 9 && c-'a' > 5 {
			return -1
		}
	}
	d.arena = append(d.arena, b[i+1:i+7]...)
	i += 8

	// callsign: a string or null, taken as sent.
	raw, ok, i := optString(b, comma(b, i))
	if i < 0 {
		return -1
	}
	if ok {
		d.arena = append(d.arena, raw...)
		d.strs = append(d.strs, "") // set by patchNames
		s.Callsign = &d.strs[len(d.strs)-1]
	}

	// origin_country: a string, shared.
	if i = comma(b, i); i < 0 || b[i] != '"' {
		return -1
	}
	j := scanString(b, i+1)
	if j < 0 {
		return -1
	}
	s.OriginCountry = d.interned(b[i+1 : j-1])
	i = j

	// time_position and last_contact: unix seconds (optUnix), the second never null.
	if i = comma(b, i); i < 0 {
		return -1
	}
	if b[i] == 'n' {
		i = null(b, i)
	} else {
		var t int64
		if t, i = d.scanUnix(b, i); i >= 0 {
			d.ints = append(d.ints, t)
			s.TimePosition = &d.ints[len(d.ints)-1]
		}
	}
	if i = comma(b, i); i < 0 {
		return -1
	}
	if s.LastContact, i = d.scanUnix(b, i); i < 0 {
		return -1
	}
	var x float64

	// longitude, latitude (in range, as decoder.state checks), baro_altitude.
	if s.Longitude, i = d.optFloat(b, comma(b, i)); i < 0 ||
		s.Longitude != nil && (*s.Longitude < -180 || *s.Longitude > 180) {
		return -1
	}
	if s.Latitude, i = d.optFloat(b, comma(b, i)); i < 0 ||
		s.Latitude != nil && (*s.Latitude < -90 || *s.Latitude > 90) {
		return -1
	}
	if s.BaroAltitude, i = d.optFloat(b, comma(b, i)); i < 0 {
		return -1
	}
	if s.OnGround, i = scanBool(b, comma(b, i)); i < 0 {
		return -1
	}
	if s.Velocity, i = d.optFloat(b, comma(b, i)); i < 0 {
		return -1
	}
	if s.TrueTrack, i = d.optFloat(b, comma(b, i)); i < 0 {
		return -1
	}
	if s.VerticalRate, i = d.optFloat(b, comma(b, i)); i < 0 {
		return -1
	}
	// sensors: only null here; a list is for the reference.
	if i = null(b, comma(b, i)); i < 0 {
		return -1
	}
	if s.GeoAltitude, i = d.optFloat(b, comma(b, i)); i < 0 {
		return -1
	}

	// squawk: a string or null, shared.
	if raw, ok, i = optString(b, comma(b, i)); i < 0 {
		return -1
	}
	if ok {
		d.strs = append(d.strs, d.squawk(raw))
		s.Squawk = &d.strs[len(d.strs)-1]
	}

	if s.SPI, i = scanBool(b, comma(b, i)); i < 0 {
		return -1
	}

	// position_source: a whole number from 0 to 3 (optInt), never null.
	if i = comma(b, i); i < 0 {
		return -1
	}
	if x, i = scanNumber(b, i); i < 0 || x != math.Trunc(x) || x < 0 || x > 3 {
		return -1
	}
	s.PositionSource = int(x)

	if i = skipSpace(b, i); i >= len(b) {
		return -1
	}
	if b[i] == ']' {
		return i + 1
	}

	// category (extended=1): a whole number from 0 to 20, or null; and it is the last field.
	if i = comma(b, i); i < 0 {
		return -1
	}
	if b[i] == 'n' {
		i = null(b, i)
	} else if x, i = scanNumber(b, i); i >= 0 {
		if x != math.Trunc(x) || x < 0 || x > 20 {
			return -1
		}
		if d.categories == nil {
			d.categories = make([]int, 0, d.n)
		}
		d.categories = append(d.categories, int(x))
		s.Category = &d.categories[len(d.categories)-1]
	}
	if i < 0 {
		return -1
	}
	if i = skipSpace(b, i); i >= len(b) || b[i] != ']' {
		return -1
	}
	return i + 1
}

// optFloat reads a number or null at b[i] (i may be -1, passing on a failure).
func (d *fastDecoder) optFloat(b []byte, i int) (*float64, int) {
	if i < 0 {
		return nil, -1
	}
	if b[i] == 'n' {
		return nil, null(b, i)
	}
	x, i := scanNumber(b, i)
	if i < 0 {
		return nil, -1
	}
	d.floats = append(d.floats, x)
	return &d.floats[len(d.floats)-1], i
}

// interned returns raw as a string, one copy per distinct value in the snapshot.
func (d *fastDecoder) interned(raw []byte) string {
	if s, ok := d.intern[string(raw)]; ok {
		return s
	}
	s := string(raw)
	d.intern[s] = s
	return s
}

// squawk interns a squawk: four octal digits from squawkCodes, anything else as interned does.
func (d *fastDecoder) squawk(raw []byte) string {
	if len(raw) == 4 {
		c0, c1, c2, c3 := raw[0]-'0', raw[1]-'0', raw[2]-'0', raw[3]-'0'
		if c0|c1|c2|c3 < 8 {
			k := 4 * (int(c0)<<9 | int(c1)<<6 | int(c2)<<3 | int(c3))
			return d.squawks[k : k+4]
		}
	}
	return d.interned(raw)
}

// squawkCodes returns every four-digit octal squawk, "0000" to "7777", back to back.
var squawkCodes = sync.OnceValue(func() string {
	b := make([]byte, 0, 4*4096)
	for n := range 4096 {
		b = append(b, '0'+byte(n>>9), '0'+byte(n>>6&7), '0'+byte(n>>3&7), '0'+byte(n&7))
	}
	return string(b)
})

// The scanning helpers take the index of what they read and return the index after it, or -1
// when it is not there; given -1 they return -1, so that calls can be chained.

// skipSpace skips JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// hasLiteral reports whether b holds lit at i.
func hasLiteral(b []byte, i int, lit string) bool {
	return i >= 0 && len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// comma skips the comma between two values and returns where the next value starts, which is
// always inside b.
func comma(b []byte, i int) int {
	if i < 0 {
		return -1
	}
	if i < len(b)-1 && b[i] == ',' && b[i+1] > ' ' { // as OpenSky sends it
		return i + 1
	}
	return separator(b, i, ',')
}

// colon does for an object member's colon what comma does for a comma.
func colon(b []byte, i int) int { return separator(b, i, ':') }

// separator skips whitespace, the byte sep and whitespace, and returns where the next value
// starts, or -1.
func separator(b []byte, i int, sep byte) int {
	if i = skipSpace(b, i); i >= len(b) || b[i] != sep {
		return -1
	}
	if i = skipSpace(b, i+1); i >= len(b) {
		return -1
	}
	return i
}

func null(b []byte, i int) int {
	if !hasLiteral(b, i, "null") {
		return -1
	}
	return i + 4
}

func scanBool(b []byte, i int) (bool, int) {
	switch {
	case hasLiteral(b, i, "true"):
		return true, i + 4
	case hasLiteral(b, i, "false"):
		return false, i + 5
	}
	return false, -1
}

// optString reads a string or null at b[i] (i < 0 passes through): for a string, its contents as
// sent and true; for null, false; then the index after the value, or -1.
func optString(b []byte, i int) ([]byte, bool, int) {
	switch {
	case i < 0:
		return nil, false, -1
	case b[i] != '"':
		return nil, false, null(b, i)
	}
	j := scanString(b, i+1)
	if j < 0 {
		return nil, false, -1
	}
	return b[i+1 : j-1], true, j
}

// scanString reads a string's content from i, just after its opening quote, and returns the
// index after the closing quote. A backslash (the reference unquotes), a control byte (invalid
// JSON) or a byte >= 0x80 (the reference has its own rules for invalid UTF-8) gives -1.
func scanString(b []byte, i int) int {
	for i < len(b) && plain[b[i]] {
		i++
	}
	if i < len(b) && b[i] == '"' {
		return i + 1
	}
	return -1
}

// plain marks the bytes that scanString takes as they are: printable ASCII but '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := ' '; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanUnix reads unix seconds as optUnix takes them (not null): within the limits, any fraction
// dropped.
func (d *fastDecoder) scanUnix(b []byte, i int) (int64, int) {
	x, i := scanNumber(b, i)
	if i < 0 {
		return 0, -1
	}
	t, ok := d.lim.unixTime(x)
	if !ok {
		return 0, -1
	}
	return t, i
}

// pow10 holds the powers of ten that a float64 holds exactly.
var pow10 = [...]float64{
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}

// scanNumber reads a JSON number at b[i], checking its grammar strictly, and returns its value as
// strconv.ParseFloat gives it. With a mantissa of at most 2^53, at most 22 decimal places and no
// exponent (all of OpenSky's numbers) it divides the exact mantissa by an exact power of ten: one
// correctly rounded operation, so the same float64 as ParseFloat's, -0 included. Anything else
// goes to ParseFloat, and a number out of float64's range gives -1.
func scanNumber(b []byte, i int) (float64, int) {
	if i < 0 || i >= len(b) {
		return 0, -1
	}
	start := i
	neg := b[i] == '-'
	if neg {
		i++
	}
	first := i
	var m uint64 // the digits, without the decimal point; wraps past 19 digits, unused then
	for ; i < len(b) && b[i]-'0' < 10; i++ {
		m = m*10 + uint64(b[i]-'0')
	}
	digits := i - first
	if digits == 0 || digits > 1 && b[first] == '0' {
		return 0, -1
	}
	places := 0
	if i < len(b) && b[i] == '.' {
		i++
		first := i
		for ; i < len(b) && b[i]-'0' < 10; i++ {
			m = m*10 + uint64(b[i]-'0')
		}
		if places = i - first; places == 0 {
			return 0, -1
		}
		digits += places
	}
	slow := digits > 19 || m > 1<<53 || places >= len(pow10)
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		first := i
		for i < len(b) && b[i]-'0' < 10 {
			i++
		}
		if i == first {
			return 0, -1
		}
		slow = true
	}
	if slow {
		x, err := strconv.ParseFloat(string(b[start:i]), 64)
		if err != nil {
			return 0, -1
		}
		return x, i
	}
	x := float64(m)
	if places > 0 {
		x /= pow10[places]
	}
	if neg {
		x = -x
	}
	return x, i
}
