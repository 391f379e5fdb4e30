package opensky_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/opensky-eventhubs/handler/internal/opensky"
)

// maxReason bounds the text of one rejection or envelope error: a message may quote an offending
// value, clipped, never the value whole (the adversarial run's answer of 10 MB with 5 malformed
// states gave 10 MB of stderr and a 20 MB invocation answer).
const maxReason = 400

// Rejections and envelope errors quote an offending value clipped, with a marker saying how
// long it was.
func TestMessagesBounded(t *testing.T) {
	huge := strings.Repeat("7", 2<<20)
	hugeStr := `"` + strings.Repeat("x", 2<<20) + `"`
	const snap = `{"time":1634471390,"states":[`
	var states []string
	for _, replace := range []map[int]string{
		{0: hugeStr},           // icao24 not six hex digits
		{4: huge},              // last_contact out of range
		{3: "-" + huge},        // time_position out of range
		{16: huge + ".5"},      // position_source not a whole number 0..3
		{7: hugeStr},           // baro_altitude a string
		{9: "[" + huge + "]"},  // velocity an array
		{12: "[" + huge + "]"}, // sensors: a serial past int
	} {
		states = append(states, state(replace, 17))
	}
	states = append(states, state(map[int]string{17: huge}, 18))                                    // category out of range
	states = append(states, strings.TrimSuffix(state(map[int]string{0: hugeStr}, 17), "]")+`,1,2]`) // 19 fields and a bad icao24
	body := []byte(snap + strings.Join(states, ",") + `]}`)

	got, err := opensky.Decode(body, live())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rejected) != len(states) {
		t.Fatalf("%d rejections, want %d: %v", len(got.Rejected), len(states), got.Rejected)
	}
	for _, r := range got.Rejected {
		if s := r.String(); len(s) > maxReason {
			t.Errorf("rejection of %s is %d bytes: %.200s...", r.Field, len(s), s)
		}
	}
	if s := got.Rejected[0].String(); !strings.Contains(s, "xxxx") || !strings.Contains(s, "2097152 bytes") {
		t.Errorf("a clipped value should show its start and its length: %s", s)
	}

	for _, env := range []string{
		`{"time":` + huge + `,"states":[]}`,
		`{"time":` + hugeStr + `,"states":[]}`,
		`{"time":1634471390,"states":` + hugeStr + `}`,
	} {
		_, err := opensky.Decode([]byte(env), live())
		if !errors.Is(err, opensky.ErrEnvelope) {
			t.Fatalf("err = %v", err)
		}
		if len(err.Error()) > maxReason {
			t.Errorf("envelope error is %d bytes: %.200s...", len(err.Error()), err)
		}
	}
}
