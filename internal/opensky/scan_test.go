package opensky_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/recordings"
)

// The fast path must take every recorded answer, and give what the reference decoder gives.
func TestDecodeFastRecordings(t *testing.T) {
	for _, name := range recordings.Names(t, "states") {
		t.Run(name, func(t *testing.T) {
			body := recordings.Read(t, "states/"+name)
			fast, ok := opensky.DecodeFast(body, opensky.Wide)
			if !ok {
				t.Fatal("the fast path gave up on a recorded answer")
			}
			ref, err := opensky.DecodeTokens(body, opensky.Wide)
			if err != nil {
				t.Fatalf("reference decoder: %v", err)
			}
			if d := diffSnapshots(fast, ref); d != "" {
				t.Errorf("fast path and reference differ: %s", d)
			}
		})
	}
}

// Each malformed recording has a state to reject: the fast path leaves it to the reference, and
// Decode gives what the reference gives.
func TestDecodeFastMalformed(t *testing.T) {
	for _, name := range recordings.Names(t, "malformed") {
		t.Run(name, func(t *testing.T) {
			body := recordings.Read(t, "malformed/"+name)
			if _, ok := opensky.DecodeFast(body, opensky.Wide); ok {
				t.Error("the fast path took an answer with a state to reject")
			}
			checkSameAsReference(t, body)
		})
	}
}

// fastCases are answers the fast path must take (fast) or leave to the reference (!fast).
var fastCases = []struct {
	name string
	body string
	fast bool
}{
	{"null states", `{"time":1,"states":null}`, true},
	{"empty states", `{"time":1,"states":[]}`, true},
	{"keys reversed", `{"states":[` + state(nil, 17) + `],"time":1634471390}`, true},
	{"whitespace everywhere", " \r\n\t{ \"time\" :\t1 ,\n\"states\" : [ [ \"3c6444\" , \"DLH9LF  \" , \"Germany\" , 1634471389 ,\n" +
		"1634471390 , 6.1 , 50.2 , 10668 , false , 230.5 , 90.1 , -5.2 , null , 10900.4 , \"1000\" , false , 0 , 3 ] ,\r\n" +
		"[\"3c6445\",null,\"Germany\",null,1,null,null,null,true,null,null,null,null,null,null,true,1]\t] } \n", true},
	{"negative zero", `{"time":-0,"states":[` + state(map[int]string{3: "-0", 5: "-0", 6: "-0.0", 7: "-0", 16: "-0", 17: "-0"}, 18) + `]}`, true},
	{"exponents", `{"time":1e3,"states":[` + state(map[int]string{4: "1.6E9", 5: "1e1", 6: "-2.5e-1", 7: "1E+5", 9: "0e0", 17: "2e0"}, 18) + `]}`, true},
	{"fractions", `{"time":1.0,"states":[` + state(map[int]string{3: "1634471389.7", 4: "0.5", 7: "0.1", 9: "0.000000000000000000001", 10: "-123456.7890123", 16: "3.0"}, 17) + `]}`, true},
	{"many digits", `{"time":1634471390.000000000000000000,"states":[` + state(map[int]string{5: "6.12345678901234567890123", 7: "10668.000000000000001", 9: "9007199254740993", 10: "0.10000000000000000555", 11: "-0.00000000000000000000000123"}, 17) + `]}`, true},
	{"bounds", `{"time":0,"states":[` + state(map[int]string{3: "0", 4: "1099511627776", 5: "-180", 6: "90", 16: "3", 17: "20"}, 18) +
		`,` + state(map[int]string{5: "180", 6: "-90", 16: "0", 17: "0"}, 18) + `]}`, true},
	{"nulls", `{"time":1,"states":[` + state(map[int]string{1: "null", 3: "null", 5: "null", 6: "null", 7: "null", 9: "null", 10: "null", 11: "null", 13: "null", 14: "null", 17: "null"}, 18) + `]}`, true},
	{"17 and 18 fields mixed", `{"time":1,"states":[` + state(nil, 17) + `,` + state(nil, 18) + `,` + state(map[int]string{17: "null"}, 18) + `]}`, true},
	{"strings as sent", `{"time":1,"states":[` + state(map[int]string{1: `""`, 2: `""`, 14: `""`}, 17) + `,` +
		state(map[int]string{1: `"  x~` + "\x7f" + `"`, 2: `"Kingdom of the Netherlands"`, 14: `"8888"`}, 17) + `,` +
		state(map[int]string{14: `"12345"`}, 17) + `,` + state(map[int]string{14: `"7777"`}, 17) + `,` + state(map[int]string{14: `"0000"`}, 17) + `]}`, true},
	{"more states than the slabs hold", `{"time":1,"states":[` + strings.Repeat(
		`["abcdef",null,"",null,0,null,null,null,false,null,null,null,null,null,null,false,0],`+
			state(map[int]string{1: `"` + strings.Repeat("LONG CALLSIGN ", 20) + `"`}, 18)+`,`, 300) + state(nil, 17) + `]}`, true},

	{"escape in callsign", `{"time":1,"states":[` + state(map[int]string{1: `"DLH\u0039LF  "`}, 17) + `]}`, false},
	{"escape in key", `{"\u0074ime":1,"states":[]}`, false},
	{"non-ASCII country", `{"time":1,"states":[` + state(map[int]string{2: `"Türkiye"`}, 17) + `]}`, false},
	{"invalid UTF-8", `{"time":1,"states":[` + state(map[int]string{1: "\"\xff\xfe\""}, 17) + `]}`, false},
	{"control byte", `{"time":1,"states":[` + state(map[int]string{1: "\"DLH\t\""}, 17) + `]}`, false},
	{"sensors", `{"time":1,"states":[` + state(map[int]string{12: "[12,4711]"}, 17) + `]}`, false},
	{"other key", `{"time":1,"states":[],"extra":1}`, false},
	{"duplicate time", `{"time":1,"time":2,"states":[]}`, false},
	{"duplicate states", `{"time":1,"states":null,"states":[]}`, false},
	{"no time", `{"states":[]}`, false},
	{"no states", `{"time":1}`, false},
	{"empty object", `{}`, false},
	{"empty", ``, false},
	{"array", `[]`, false},
	{"states object", `{"time":1,"states":{}}`, false},
	{"states not arrays", `{"time":1,"states":[1,"a",null]}`, false},
	{"time string", `{"time":"1","states":[]}`, false},
	{"time fraction", `{"time":1.5,"states":[]}`, false},
	{"time negative", `{"time":-1,"states":[]}`, false},
	{"time huge", `{"time":1e300,"states":[]}`, false},
	{"time out of range", `{"time":1e400,"states":[]}`, false},
	{"trailing data", `{"time":1,"states":null} {}`, false},
	{"trailing comma in object", `{"time":1,"states":null,}`, false},
	{"trailing comma in states", `{"time":1,"states":[` + state(nil, 17) + `,]}`, false},
	{"trailing comma in state", `{"time":1,"states":[` + strings.TrimSuffix(state(nil, 17), "]") + `,]}`, false},
	{"truncated", `{"time":1,"states":[` + state(nil, 17)[:40], false},
	{"16 fields", `{"time":1,"states":[` + state(nil, 16) + `]}`, false},
	{"19 fields", `{"time":1,"states":[` + strings.TrimSuffix(state(nil, 18), "]") + `,1]}`, false},
	{"upper-case icao24", `{"time":1,"states":[` + state(map[int]string{0: `"3C6444"`}, 17) + `]}`, false},
	{"short icao24", `{"time":1,"states":[` + state(map[int]string{0: `"3c644"`}, 17) + `]}`, false},
	{"icao24 null", `{"time":1,"states":[` + state(map[int]string{0: `null`}, 17) + `]}`, false},
	{"country null", `{"time":1,"states":[` + state(map[int]string{2: `null`}, 17) + `]}`, false},
	{"callsign number", `{"time":1,"states":[` + state(map[int]string{1: `7`}, 17) + `]}`, false},
	{"longitude out of range", `{"time":1,"states":[` + state(map[int]string{5: "180.0001"}, 17) + `]}`, false},
	{"latitude out of range", `{"time":1,"states":[` + state(map[int]string{6: "-90.5"}, 17) + `]}`, false},
	{"baro_altitude out of float64", `{"time":1,"states":[` + state(map[int]string{7: "1e400"}, 17) + `]}`, false},
	{"baro_altitude string", `{"time":1,"states":[` + state(map[int]string{7: `"10668"`}, 17) + `]}`, false},
	{"last_contact null", `{"time":1,"states":[` + state(map[int]string{4: "null"}, 17) + `]}`, false},
	{"time_position negative", `{"time":1,"states":[` + state(map[int]string{3: "-1"}, 17) + `]}`, false},
	{"time_position past 2^40", `{"time":1,"states":[` + state(map[int]string{3: "1099511627777"}, 17) + `]}`, false},
	{"on_ground string", `{"time":1,"states":[` + state(map[int]string{8: `"false"`}, 17) + `]}`, false},
	{"spi null", `{"time":1,"states":[` + state(map[int]string{15: "null"}, 17) + `]}`, false},
	{"position_source 4", `{"time":1,"states":[` + state(map[int]string{16: "4"}, 17) + `]}`, false},
	{"position_source fraction", `{"time":1,"states":[` + state(map[int]string{16: "1.5"}, 17) + `]}`, false},
	{"position_source null", `{"time":1,"states":[` + state(map[int]string{16: "null"}, 17) + `]}`, false},
	{"category 21", `{"time":1,"states":[` + state(map[int]string{17: "21"}, 18) + `]}`, false},
	{"category fraction", `{"time":1,"states":[` + state(map[int]string{17: "2.5"}, 18) + `]}`, false},
	{"category negative", `{"time":1,"states":[` + state(map[int]string{17: "-1"}, 18) + `]}`, false},
	{"leading zero", `{"time":1,"states":[` + state(map[int]string{7: "01"}, 17) + `]}`, false},
	{"leading zero in time", `{"time":01,"states":[]}`, false},
	{"no fraction digits", `{"time":1,"states":[` + state(map[int]string{7: "1."}, 17) + `]}`, false},
	{"no integer part", `{"time":1,"states":[` + state(map[int]string{7: ".5"}, 17) + `]}`, false},
	{"plus sign", `{"time":1,"states":[` + state(map[int]string{7: "+1"}, 17) + `]}`, false},
	{"lone minus", `{"time":1,"states":[` + state(map[int]string{7: "-"}, 17) + `]}`, false},
	{"no exponent digits", `{"time":1,"states":[` + state(map[int]string{7: "1e+"}, 17) + `]}`, false},
	{"number then letter", `{"time":1,"states":[` + state(map[int]string{7: "1x"}, 17) + `]}`, false},
	{"literal then letter", `{"time":1,"states":[` + state(map[int]string{8: "falsey"}, 17) + `]}`, false},
	{"hex number", `{"time":1,"states":[` + state(map[int]string{7: "0x10"}, 17) + `]}`, false},
	{"NaN", `{"time":1,"states":[` + state(map[int]string{7: "NaN"}, 17) + `]}`, false},
	{"byte order mark", "\xef\xbb\xbf" + `{"time":1,"states":[]}`, false},
	{"vertical tab", "{\v\"time\":1,\"states\":[]}", false},
}

func TestDecodeFastCases(t *testing.T) {
	for _, tt := range fastCases {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			fast, ok := opensky.DecodeFast(body, opensky.Wide)
			if ok != tt.fast {
				t.Fatalf("fast path took it: %v, want %v", ok, tt.fast)
			}
			if ok {
				ref, err := opensky.DecodeTokens(body, opensky.Wide)
				if err != nil {
					t.Fatalf("the fast path took an answer the reference refuses: %v", err)
				}
				if d := diffSnapshots(fast, ref); d != "" {
					t.Fatalf("fast path and reference differ: %s", d)
				}
			}
			checkSameAsReference(t, body)
		})
	}
}

// scanNumber reads exactly the JSON numbers (json.Valid) that float64 holds, to the bit that
// strconv.ParseFloat gives: written ones, and random strings of number characters, many of them
// valid and most with more digits than the exact division takes.
func TestScanNumber(t *testing.T) {
	check := func(s string) {
		t.Helper()
		x, end := opensky.ScanNumber([]byte(s), 0)
		want, err := strconv.ParseFloat(s, 64)
		valid := json.Valid([]byte(s)) && err == nil
		if took := end == len(s); took != valid {
			t.Fatalf("%q: read %d of %d bytes, valid JSON number in range: %v", s, end, len(s), valid)
		}
		if valid && math.Float64bits(x) != math.Float64bits(want) {
			t.Fatalf("%q: %v (%#x), ParseFloat %v (%#x)", s, x, math.Float64bits(x), want, math.Float64bits(want))
		}
	}
	for _, s := range []string{
		"0", "-0", "0.0", "-0.0", "-0e0", "1", "-1", "0.1", "0.3", "123.456", "-96.1886", "10546.08",
		"9007199254740992", "9007199254740993", "9007199254740991.5", "0.1000000000000000055511151231257827",
		"1e22", "1e23", "1.7976931348623157e308", "1e309", "-1e309", "4.9e-324", "1e-400", "1E+2", "1e-0",
		"0.0000000000000000000001", "0.00000000000000000000001", "123456789012345678901234567890",
		"01", "-01", "00", "1.", ".5", "+1", "-", "", "1e", "1e+", "1.e5", "0x10", "1_000", "--1", "1-",
		"Infinity", "NaN", "1.5.5", "1ee5",
	} {
		check(s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	for range 200_000 {
		var s string
		switch r.IntN(4) {
		case 0: // random bytes of a number's alphabet
			b := make([]byte, 1+r.IntN(12))
			for i := range b {
				b[i] = "0123456789-+.eE"[r.IntN(15)]
			}
			s = string(b)
		default: // a number in JSON's grammar, as OpenSky writes them and beyond
			if r.IntN(3) == 0 {
				s = "-"
			}
			if r.IntN(5) == 0 {
				s += "0"
			} else {
				s += string(byte('1'+r.IntN(9))) + digits(r.IntN(18))
			}
			if r.IntN(4) > 0 {
				s += "." + digits(1+r.IntN(24))
			}
			if r.IntN(8) == 0 {
				s += "e" + []string{"", "+", "-"}[r.IntN(3)] + digits(1+r.IntN(3))
			}
		}
		check(s)
	}
}

// FuzzDecodeFast: whatever the fast path takes, the reference decoder takes too, without an
// error, and decodes to the same Snapshot (floats compared bit for bit); and whatever Decode
// takes yields only events that fit the schema. A short input is also
// tried as each field of a state and as the time, where most inputs that are one JSON value get
// past the envelope and reach the field rules.
func FuzzDecodeFast(f *testing.F) {
	for _, tt := range fastCases {
		f.Add([]byte(tt.body))
	}
	for _, s := range []string{
		"null", "true", "false", "0", "-0", "-0.0", "1e5", "1E-2", "0.1", "-96.1886", "180", "-90.0001",
		"3", "20", "1.5", "9007199254740993", "1099511627776", "946684800", "946684799", "1764331200", "1764331201", "1e19", `""`, `"abc123"`, `"3c6444"`, `"7700"`,
		`"DLH\u0039LF"`, "[1]", " 1 ", "01",
	} {
		f.Add([]byte(s))
	}
	for _, seed := range recordingSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFast(t, body)
		if len(body) > 40 {
			return
		}
		v := string(body)
		checkFast(t, []byte(`{"time":`+v+`,"states":null}`))
		checkFast(t, []byte(`{"time":`+v+`,"states":[`+state(nil, baseFields)+`]}`))
		// A snapshot time that both limits take, so that each field reaches its rules and the
		// events the schema.
		const snapTime = `{"time":1634471390,"states":[`
		for k := range extendedFields {
			checkFast(t, []byte(snapTime+state(map[int]string{k: v}, extendedFields)+`]}`))
			if k < baseFields {
				checkFast(t, []byte(snapTime+state(map[int]string{k: v}, baseFields)+`]}`))
			}
		}
	})
}

const baseFields, extendedFields = 17, 18

// checkFast: under the wide limits and under fuzzLimits, if the fast path takes body, the
// reference gives the same Snapshot and no error; and what Decode takes under fuzzLimits yields
// only events that fit the schema (checkEvents).
func checkFast(t *testing.T, body []byte) {
	t.Helper()
	for _, lim := range []opensky.Limits{opensky.Wide, fuzzLimits} {
		fast, ok := opensky.DecodeFast(body, lim)
		if !ok {
			continue
		}
		ref, err := opensky.DecodeTokens(body, lim)
		if err != nil {
			t.Fatalf("the fast path took %s, which the reference refuses: %v", quoteShort(body), err)
		}
		if d := diffSnapshots(fast, ref); d != "" {
			t.Fatalf("fast path and reference differ on %s: %s", quoteShort(body), d)
		}
	}
	if snap, err := opensky.Decode(body, fuzzLimits); err == nil {
		if err := checkEvents(snap); err != nil {
			t.Fatalf("%s: %v", quoteShort(body), err)
		}
	}
}

// quoteShort quotes a body for a message, cut to its first 300 bytes.
func quoteShort(body []byte) string {
	if len(body) > 300 {
		return fmt.Sprintf("%q... (%d bytes)", body[:300], len(body))
	}
	return fmt.Sprintf("%q", body)
}

// checkSameAsReference: Decode gives for body what the reference decoder gives, error text
// included.
func checkSameAsReference(t *testing.T, body []byte) {
	t.Helper()
	got, gotErr := opensky.Decode(body, opensky.Wide)
	want, wantErr := opensky.DecodeTokens(body, opensky.Wide)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("Decode: error %v, reference %v", gotErr, wantErr)
	}
	if d := diffSnapshots(got, want); d != "" {
		t.Fatalf("Decode and reference differ: %s", d)
	}
}

// diffSnapshots describes the first difference between a and b, or returns "". Pointers compare
// by what they point to, floats bit for bit (so -0 is not 0), and a nil slice is not an empty one.
func diffSnapshots(a, b opensky.Snapshot) string {
	return diffValues("snapshot", reflect.ValueOf(a), reflect.ValueOf(b))
}

func diffValues(path string, a, b reflect.Value) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: nil is %v, want %v", path, a.IsNil(), b.IsNil())
			}
			return ""
		}
		return diffValues(path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Sprintf("%s: len %d (nil %v), want len %d (nil %v)", path, a.Len(), a.IsNil(), b.Len(), b.IsNil())
		}
		for i := range a.Len() {
			if d := diffValues(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if d := diffValues(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
	case reflect.Float64:
		if math.Float64bits(a.Float()) != math.Float64bits(b.Float()) {
			return fmt.Sprintf("%s: %v, want %v", path, a.Float(), b.Float())
		}
	default:
		if a.Interface() != b.Interface() {
			return fmt.Sprintf("%s: %#v, want %#v", path, a.Interface(), b.Interface())
		}
	}
	return ""
}
