package functions_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/functions"
	"github.com/opensky-eventhubs/handler/internal/tick"
)

// A timer invocation as the Functions host sends it (see FACTS: Functions protocol).
const invocation = `{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-27T10:00:00.0013482+00:00","Next":"2026-11-27T10:15:00+00:00","LastUpdated":"2026-11-27T10:00:00.0013482+00:00"},"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"OpenSkyTimer","UtcNow":"2026-11-27T10:15:00.0123Z","RandGuid":"1b7b5c3d-1111-2222-3333-444455556666"}}}`

type fakeTicker struct {
	got  []tick.Request
	sum  tick.Summary
	err  error
	wait chan struct{}
}

func (f *fakeTicker) Tick(ctx context.Context, req tick.Request) (tick.Summary, error) {
	f.got = append(f.got, req)
	if f.wait != nil {
		select {
		case <-f.wait:
		case <-ctx.Done():
			return f.sum, ctx.Err()
		}
	}
	return f.sum, f.err
}

func post(t *testing.T, h http.Handler, path, body string) (*httptest.ResponseRecorder, functions.InvocationResponse) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set(functions.InvocationIDHeader, "inv-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp functions.InvocationResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &resp)
	return rec, resp
}

func TestTimerInvocation(t *testing.T) {
	var logs strings.Builder
	credits := 123
	ft := &fakeTicker{sum: tick.Summary{StatesReceived: 5, EventsPublished: 5, Sink: "file", CreditsRemaining: &credits, Warnings: []string{"careful"}}}
	h := functions.NewServer(slog.New(slog.NewTextHandler(&logs, nil)), ft)
	rec, resp := post(t, h, "/OpenSkyTimer", invocation)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Content-Type") != "application/json" || resp.Outputs == nil {
		t.Errorf("content type %q outputs %v", rec.Header().Get("Content-Type"), resp.Outputs)
	}
	if len(resp.Logs) != 3 || !strings.HasPrefix(resp.Logs[0], "tick ok:") || resp.Logs[1] != "careful" {
		t.Errorf("Logs = %q", resp.Logs)
	}
	// The last entry is the summary as JSON, what Application Insights queries (infra/ alerts on
	// credits_remaining).
	var logged map[string]any
	last := resp.Logs[len(resp.Logs)-1]
	if !strings.HasPrefix(last, functions.SummaryLogPrefix) || json.Unmarshal([]byte(strings.TrimPrefix(last, functions.SummaryLogPrefix)), &logged) != nil {
		t.Fatalf("the last Logs entry %q is not %q followed by JSON", last, functions.SummaryLogPrefix)
	}
	if logged["events_published"] != float64(5) || logged["credits_remaining"] != float64(123) {
		t.Errorf("the logged summary is %v; want events_published 5 and credits_remaining 123", logged)
	}
	rv, _ := json.Marshal(resp.ReturnValue)
	if !strings.Contains(string(rv), `"events_published":5`) {
		t.Errorf("ReturnValue = %s", rv)
	}
	if want := time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC); !ft.got[0].Scheduled.Equal(want) || ft.got[0].IsPastDue {
		t.Errorf("tick request = %+v", ft.got[0])
	}
	if !strings.Contains(logs.String(), "invocation_id=inv-1") {
		t.Errorf("log lines lack the invocation id: %s", logs.String())
	}
}

func TestFailedTickAnswers500AndLogs(t *testing.T) {
	var logs strings.Builder
	ft := &fakeTicker{err: errors.New("OpenSky answered 503")}
	h := functions.NewServer(slog.New(slog.NewTextHandler(&logs, nil)), ft)
	rec, resp := post(t, h, "/OpenSkyTimer", invocation)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	if len(resp.Logs) == 0 || !strings.Contains(resp.Logs[0], "OpenSky answered 503") {
		t.Errorf("Logs = %q", resp.Logs)
	}
	// The host drops Logs of a failed answer, so the reason must reach the process log too.
	if !strings.Contains(logs.String(), "OpenSky answered 503") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("process log lacks the failure: %s", logs.String())
	}
}

func TestBadRequests(t *testing.T) {
	h := functions.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), &fakeTicker{})
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"not json", "POST", "/OpenSkyTimer", `hello`, 400, "not a JSON invocation"},
		{"no data", "POST", "/OpenSkyTimer", `{}`, 400, `no "Data" object`},
		{"wrong binding", "POST", "/OpenSkyTimer", `{"Data":{"myTimer":{}}}`, 400, `no "timer" binding`},
		{"timer not object", "POST", "/OpenSkyTimer", `{"Data":{"timer":"now"}}`, 400, "not a timer object"},
		{"too large", "POST", "/OpenSkyTimer", `{"Data":{"timer":{"x":"` + strings.Repeat("a", functions.MaxBodyBytes) + `"}}}`, 400, "larger than"},
		{"other function", "POST", "/Other", invocation, 404, "no function"},
		{"get on function", "GET", "/OpenSkyTimer", "", 405, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var resp functions.InvocationResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("answer is not an invocation response: %v", err)
			}
			if rec.Code != tt.status || !strings.Contains(strings.Join(resp.Logs, " "), tt.want) {
				t.Errorf("%d %q, want %d with %q", rec.Code, resp.Logs, tt.status, tt.want)
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	h := functions.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), &fakeTicker{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 {
		t.Errorf("GET / = %d", rec.Code)
	}
}

func TestLenientTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"2026-11-27T10:15:00+00:00"`, time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)},
		{`"2026-11-27T10:15:00.0013482+00:00"`, time.Date(2026, 11, 27, 10, 15, 0, 1348200, time.UTC)},
		{`"2026-11-27T10:15:00.0013482"`, time.Date(2026, 11, 27, 10, 15, 0, 1348200, time.UTC)},
		{`"2026-11-27T12:15:00+02:00"`, time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)},
		{`"11/27/2026 10:15:00"`, time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)},
		{`"11/27/2026 10:15:00 AM"`, time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)},
		{`"0001-01-01T00:00:00"`, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{`"not a time"`, time.Time{}},
		{`null`, time.Time{}},
		{`12345`, time.Time{}},
	}
	for _, tt := range tests {
		var lt functions.LenientTime
		if err := json.Unmarshal([]byte(tt.in), &lt); err != nil {
			t.Errorf("%s: error %v; lenient times never fail", tt.in, err)
		}
		if !lt.Time.Equal(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.in, lt.Time, tt.want)
		}
	}
	// A past-due timer with odd timestamps still runs.
	ft := &fakeTicker{}
	h := functions.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), ft)
	rec, _ := post(t, h, "/OpenSkyTimer", `{"Data":{"timer":{"ScheduleStatus":{"Last":"yesterday","Next":17,"LastUpdated":null},"IsPastDue":true}}}`)
	if rec.Code != 200 || !ft.got[0].IsPastDue || !ft.got[0].Scheduled.IsZero() {
		t.Errorf("status %d request %+v", rec.Code, ft.got)
	}
	rec, _ = post(t, h, "/OpenSkyTimer", `{"Data":{"timer":{"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{}}`)
	if rec.Code != 200 {
		t.Errorf("null ScheduleStatus: status %d", rec.Code)
	}
}

// Every function folder at the app root (one holding function.json) has a route, and back.
func TestEveryFunctionFolderHasARoute(t *testing.T) {
	matches, err := filepath.Glob(filepath.Join("..", "..", "*", "function.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) == 0 {
		t.Fatal("no function.json found at the app root")
	}
	var folders []string
	for _, m := range matches {
		folders = append(folders, filepath.Base(filepath.Dir(m)))
		var fj struct {
			Bindings []struct{ Name, Type, Schedule string }
		}
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &fj); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if len(fj.Bindings) != 1 || fj.Bindings[0].Name != "timer" || fj.Bindings[0].Type != "timerTrigger" || fj.Bindings[0].Schedule != "%OPENSKY_SCHEDULE%" {
			t.Errorf("%s bindings = %+v", m, fj.Bindings)
		}
	}
	routes := functions.Routes()
	slices.Sort(folders)
	slices.Sort(routes)
	if !slices.Equal(folders, routes) {
		t.Errorf("function folders %v, routes %v", folders, routes)
	}
	h := functions.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), &fakeTicker{})
	for _, f := range folders {
		if rec, _ := post(t, h, "/"+f, invocation); rec.Code == http.StatusNotFound {
			t.Errorf("POST /%s: 404", f)
		}
	}
}

type panicTicker struct{}

func (panicTicker) Tick(context.Context, tick.Request) (tick.Summary, error) { panic("boom") }

func TestPanicAnswers500(t *testing.T) {
	var logs strings.Builder
	h := functions.NewServer(slog.New(slog.NewTextHandler(&logs, nil)), panicTicker{})
	rec, resp := post(t, h, "/OpenSkyTimer", invocation)
	if rec.Code != http.StatusInternalServerError || len(resp.Logs) == 0 || !strings.Contains(resp.Logs[0], "boom") {
		t.Errorf("status %d logs %q", rec.Code, resp.Logs)
	}
	if !strings.Contains(logs.String(), "panic serving request") {
		t.Errorf("no log line for the panic: %s", logs.String())
	}
}
