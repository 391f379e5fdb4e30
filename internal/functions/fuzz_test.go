package functions_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/functions"
	"github.com/opensky-eventhubs/handler/internal/tick"
)

// FuzzInvocation feeds the server what a host (or anything else on 127.0.0.1) might POST to
// /OpenSkyTimer. body is sent as it is; stamp is put as ScheduleStatus.Next into an otherwise
// well-formed timer invocation with IsPastDue = pastDue. The server never panics (the recoverer
// would answer 500), answers only 200 or 400 with a JSON invocation response, ticks exactly when
// it answers 200 (never for a body that is not exactly one JSON value), and never fails an
// invocation because of a timestamp.
func FuzzInvocation(f *testing.F) {
	for _, s := range []struct {
		body, stamp string
		pastDue     bool
	}{
		{invocation, "2026-11-27T10:15:00+00:00", false},
		{`{"Data":{"timer":{"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{}}`, "2026-11-27T10:15:00.0013482", true},
		{`{"Data":{"timer":{"ScheduleStatus":{"Last":"yesterday","Next":17,"LastUpdated":null},"IsPastDue":true}}}`, "11/27/2026 10:15:00 AM", true},
		{`{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"IsPastDue":"yes"}}}`, "11/27/2026 10:15:00 +01:00", false},
		{`{"Data":{"myTimer":{}}}`, "0001-01-01T00:00:00", false},
		{`{"Data":{"timer":"now"}}`, "2026-02-30T25:61:00Z", false},
		{`{"Data":{}}`, "", false},
		{`{}`, "not a time", false},
		{`{"Data":null,"Metadata":{"sys":{"UtcNow":[1]}}}`, "\x00\"\\", false},
		{`{"Data":{"timer":{}}} trailing`, "2026-11-27 10:15:00Z", false},
		{`{"Data":{"timer":{}}}{"Data":{"timer":{}}}`, "2026-11-27T10:15:00Z", false},
		{`{"Data":{"timer":null}}`, "2026-11-27T10:15:00Z", false},
		{invocation + "\n", "2026-11-27T10:15:00Z", true},
		{`hello`, "2026-11-27T10:15:00.123456789Z", false},
		{``, "1/2/2006 3:04:05 PM -07:00", true},
	} {
		f.Add([]byte(s.body), s.stamp, s.pastDue)
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, body []byte, stamp string, pastDue bool) {
		// The body as sent.
		ft := &fakeTicker{sum: tick.Summary{Sink: "file"}}
		code, resp := invoke(t, functions.NewServer(logger, ft), body)
		switch {
		case code != http.StatusOK && code != http.StatusBadRequest:
			t.Fatalf("status %d for body %q", code, body)
		case code == http.StatusOK && len(ft.got) != 1, code == http.StatusBadRequest && len(ft.got) != 0:
			t.Fatalf("status %d after %d ticks", code, len(ft.got))
		case len(resp.Logs) == 0:
			t.Fatalf("status %d without a log line saying why", code)
		}
		// The protocol types agree with the server: a body it took is a timer invocation, and the
		// tick ran with that timer's IsPastDue.
		if code == http.StatusOK && !json.Valid(body) {
			t.Fatalf("a body that is not one JSON value got 200: %q", body)
		}
		if req, err := functions.DecodeInvocation(bytes.NewReader(body)); err == nil {
			timer, err := req.Timer()
			_ = req.Sys()
			if (err == nil) != (code == http.StatusOK) {
				t.Fatalf("Timer() error %v, but the server answered %d", err, code)
			}
			if err == nil && ft.got[0].IsPastDue != timer.IsPastDue {
				t.Fatalf("ticked with IsPastDue %v, the body says %v", ft.got[0].IsPastDue, timer.IsPastDue)
			}
		} else if code != http.StatusBadRequest {
			t.Fatalf("a body that is not JSON got %d", code)
		}

		// A well-formed invocation with any timestamp runs.
		next, _ := json.Marshal(stamp)
		well := `{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":` + string(next) +
			`,"Next":` + string(next) + `,"LastUpdated":` + string(next) + `},"IsPastDue":` + strconv.FormatBool(pastDue) +
			`}},"Metadata":{"sys":{"MethodName":"OpenSkyTimer","UtcNow":` + string(next) + `}}}`
		ft = &fakeTicker{}
		if code, resp := invoke(t, functions.NewServer(logger, ft), []byte(well)); code != http.StatusOK || len(ft.got) != 1 {
			t.Fatalf("timestamp %q failed the invocation: %d %q", stamp, code, resp.Logs)
		}
		var lt functions.LenientTime
		if err := lt.UnmarshalJSON(next); err != nil {
			t.Fatalf("LenientTime refused %s: %v", next, err)
		}
		if got := ft.got[0]; got.IsPastDue != pastDue || !got.Scheduled.Equal(lt.Time) {
			t.Fatalf("tick request %+v, want past due %v scheduled %v", got, pastDue, lt.Time)
		}
		if !lt.Time.IsZero() && lt.Time.Location() != time.UTC {
			t.Fatalf("LenientTime %v is not in UTC", lt.Time)
		}
		// Whatever bytes reach it, LenientTime keeps quiet.
		if err := lt.UnmarshalJSON([]byte(stamp)); err != nil {
			t.Fatalf("LenientTime.UnmarshalJSON(%q) = %v", stamp, err)
		}
	})
}

func invoke(t *testing.T, h http.Handler, body []byte) (int, functions.InvocationResponse) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/"+functions.FunctionName, bytes.NewReader(body))
	req.Header.Set(functions.InvocationIDHeader, "fuzz")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp functions.InvocationResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("status %d with an answer that is not an invocation response: %v\n%s", rec.Code, err, rec.Body)
	}
	if resp.Outputs == nil {
		t.Fatalf("status %d with null Outputs (the host warns on it)", rec.Code)
	}
	return rec.Code, resp
}
