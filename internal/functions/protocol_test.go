package functions_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/opensky-eventhubs/handler/internal/functions"
	"github.com/opensky-eventhubs/handler/internal/tick"
)

// Bodies the README calls malformed are answered 400 and run no tick, as the adversarial run
// found they were not: trailing garbage after the object, two objects, a null timer. The host's
// own bodies (FACTS: Functions protocol), with or without a final newline, still run.
func TestMalformedBodiesAnswered400(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"trailing garbage", invocation + ` trailing`, 400, "not a JSON invocation"},
		{"two objects", invocation + invocation, 400, "not a JSON invocation"},
		{"two objects on two lines", invocation + "\n" + invocation + "\n", 400, "not a JSON invocation"},
		{"timer null", `{"Data":{"timer":null},"Metadata":{}}`, 400, "Data.timer is null"},
		{"host body", invocation, 200, "tick ok"},
		{"host body and a newline", invocation + "\r\n", 200, "tick ok"},
		{"schedule monitor off", `{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":true}},"Metadata":{"sys":{"MethodName":"OpenSkyTimer","UtcNow":"11/27/2026 10:15:00 AM","RandGuid":"x"}}}`, 200, "tick ok"},
		{"odd timestamps", `{"Data":{"timer":{"ScheduleStatus":{"Last":"27.11.2026 10:00:00","Next":"2026-11-27T10:15:00.0013482","LastUpdated":""},"IsPastDue":false}},"Metadata":{}}`, 200, "tick ok"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeTicker{sum: tick.Summary{Sink: "file"}}
			h := functions.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), ft)
			rec, resp := post(t, h, "/OpenSkyTimer", tt.body)
			if rec.Code != tt.status || !strings.Contains(strings.Join(resp.Logs, " "), tt.want) {
				t.Fatalf("%d %q, want %d with %q", rec.Code, resp.Logs, tt.status, tt.want)
			}
			if ticks := len(ft.got); (tt.status == 200) != (ticks == 1) || ticks > 1 {
				t.Fatalf("%d ticks for status %d", ticks, rec.Code)
			}
		})
	}
}

// maxAnswer is the documented cap on an answer's Logs and ReturnValue together (64 KiB), plus
// room for the rest of the object.
const maxAnswer = 64<<10 + 1<<10

// The invocation answer stays under its cap however many and however long the tick's warnings
// and error are: the adversarial run's 10 MB answer with 5 malformed states gave a 20 MB answer.
// The first line (the outcome) is kept, and the end says what was left out.
func TestAnswerSizeBounded(t *testing.T) {
	var warnings []string
	for i := range 500 {
		warnings = append(warnings, fmt.Sprintf("rejected states[%d] (?): icao24: %q is not six hex digits", i, strings.Repeat("x", 10_000)))
	}
	for _, tt := range []struct {
		name  string
		err   error
		first string
	}{
		{"ok", nil, "tick ok:"},
		{"failed", errors.New("publishing: " + strings.Repeat("<&> ", 1<<18)), "tick failed: publishing: <&> "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeTicker{sum: tick.Summary{Sink: "file", Warnings: warnings}, err: tt.err}
			h := functions.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), ft)
			rec, resp := post(t, h, "/OpenSkyTimer", invocation)
			if rec.Code != http.StatusOK && rec.Code != http.StatusInternalServerError {
				t.Fatalf("status %d", rec.Code)
			}
			if n := rec.Body.Len(); n > maxAnswer {
				t.Fatalf("answer of %d bytes, want at most %d", n, maxAnswer)
			}
			if len(resp.Logs) < 2 || !strings.HasPrefix(resp.Logs[0], tt.first) {
				t.Fatalf("first log line %.100q, want it to start with %q", resp.Logs[0], tt.first)
			}
			if last := resp.Logs[len(resp.Logs)-1]; !strings.Contains(last, "left out") {
				t.Errorf("last log line %.200q does not say what was left out", last)
			}
			rv, _ := json.Marshal(resp.ReturnValue)
			if !strings.Contains(string(rv), "truncated") {
				t.Errorf("ReturnValue %.200s does not say it was truncated", rv)
			}
		})
	}
}
