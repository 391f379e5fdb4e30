package main_test

// Fault runs through the built binary: a scripted OpenSky stand-in (openskytest) on one side, the
// file sink or a local Event Hubs peer with fault knobs (ehtest) on the other. After every
// invocation the same rule is checked: either the answer is 2xx and every event of the snapshot
// was written (distinct event_ids = states - rejected), or the answer is non-2xx and the file got
// nothing new. For Event Hubs, duplicates are allowed (delivery is at least once) and counted.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/ehtest"
	"github.com/opensky-eventhubs/handler/internal/openskytest"
	"github.com/opensky-eventhubs/handler/internal/recordings"
)

// smallRecording is the six-state snapshot most fault runs replay: the faults are under test here,
// not the volume.
const smallRecording = "states/small-2018-02-13.json"

// timerInvocation is a timer invocation for the tick scheduled at next, as the host sends it.
func timerInvocation(next time.Time, pastDue bool) string {
	ts := next.UTC().Format(time.RFC3339)
	last := next.Add(-15 * time.Minute).UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":%q,"Next":%q,"LastUpdated":%q},"IsPastDue":%t}},`+
		`"Metadata":{"sys":{"MethodName":"OpenSkyTimer","UtcNow":%q,"RandGuid":"1b7b5c3d-1111-2222-3333-444455556666"}}}`,
		last, ts, last, pastDue, time.Now().UTC().Format(time.RFC3339Nano))
}

// fileEnv is the settings of a handler that fetches from srv and writes to out; kv adds settings
// as name, value pairs.
func fileEnv(srv *openskytest.Server, out string, kv ...string) map[string]string {
	env := map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": out}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// withAuth adds the stand-in's client credentials and token endpoint to env.
func withAuth(env map[string]string, srv *openskytest.Server) map[string]string {
	env["OPENSKY_TOKEN_URL"] = srv.TokenURL()
	env["OPENSKY_CLIENT_ID"] = srv.ClientID
	env["OPENSKY_CLIENT_SECRET"] = srv.Secret
	return env
}

// fileSize is the size of the sink's file, 0 before the first write.
func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// checkAllOrNothing checks the rule of every tick against the file sink: a 2xx answer and exactly
// want schema-valid events with distinct ids written by it, or a non-2xx answer and nothing
// written. before is the file's size before the invocation.
func checkAllOrNothing(t *testing.T, h *Handler, status int, resp map[string]any, out string, before int64, want int) {
	t.Helper()
	var added []byte
	if b, err := os.ReadFile(out); err == nil && int64(len(b)) > before {
		added = b[before:]
	}
	rv, _ := resp["ReturnValue"].(map[string]any)
	if status/100 != 2 {
		if len(added) > 0 {
			t.Fatalf("the tick answered %d but wrote %d bytes:\n%s", status, len(added), h.Stderr)
		}
		return
	}
	checkNDJSON(t, added, want)
	if rv["events_published"] != float64(want) {
		t.Fatalf("answered %d with events_published %v, wrote %d", status, rv["events_published"], want)
	}
}

func logsOf(resp map[string]any) string {
	var b strings.Builder
	logs, _ := resp["Logs"].([]any)
	for _, l := range logs {
		fmt.Fprintln(&b, l)
	}
	return b.String()
}

// mixedStates is the small recording's six states followed by the one state of each malformed
// recording (each with one field wrong): 24 states, 18 to reject.
func mixedStates(t *testing.T) (body []byte, good, bad int) {
	t.Helper()
	type answer struct {
		Time   json.RawMessage   `json:"time"`
		States []json.RawMessage `json:"states"`
	}
	var snap answer
	if err := json.Unmarshal(recordings.Read(t, smallRecording), &snap); err != nil {
		t.Fatal(err)
	}
	good = len(snap.States)
	for _, name := range recordings.Names(t, "malformed") {
		var m answer
		if err := json.Unmarshal(recordings.Read(t, "malformed/"+name), &m); err != nil {
			t.Fatal(err)
		}
		snap.States = append(snap.States, m.States...)
		bad += len(m.States)
	}
	body, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	return body, good, bad
}

// firstStates is the recording at rel cut to its first n states, every value kept as recorded.
func firstStates(t *testing.T, rel string, n int) []byte {
	t.Helper()
	var snap struct {
		Time   json.RawMessage   `json:"time"`
		States []json.RawMessage `json:"states"`
	}
	if err := json.Unmarshal(recordings.Read(t, rel), &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.States) < n {
		t.Fatalf("%s has %d states, fewer than %d", rel, len(snap.States), n)
	}
	snap.States = snap.States[:n]
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each OpenSky fault, one invocation each: what the host gets back, what was written, how many
// calls OpenSky saw.
func TestOpenSkyFaultsIntegration(t *testing.T) {
	small := recordings.Read(t, smallRecording)
	mixed, good, bad := mixedStates(t)
	// One byte over the cap, as valid JSON: the size alone must stop it.
	oversized := append(append([]byte(`{"time":1518552809,"states":[`), bytes.Repeat([]byte(" "), 64<<20)...), "]}"...)
	repeat := func(n int, s openskytest.Step) []openskytest.Step {
		steps := make([]openskytest.Step, n)
		for i := range steps {
			steps[i] = s
		}
		return steps
	}

	tests := []struct {
		name     string
		body     []byte // replayed by default (nil: the small recording)
		steps    []openskytest.Step
		env      []string // extra settings, name then value
		setup    func(*openskytest.Server)
		status   int
		want     int // events of the snapshot, when 2xx
		requests int // /states/all calls the stand-in saw
		logs     []string
		stderr   []string
		check    func(t *testing.T, rv map[string]any)
	}{
		{
			name:   "429 with a short retry-after is waited out",
			steps:  []openskytest.Step{{Status: http.StatusTooManyRequests, RetryAfter: 1}},
			status: http.StatusOK, want: 6, requests: 2,
		},
		{
			name:   "500 twice then ok",
			steps:  repeat(2, openskytest.Step{Status: http.StatusInternalServerError}),
			status: http.StatusOK, want: 6, requests: 3,
		},
		{
			name:   "slow answer past OPENSKY_REQUEST_TIMEOUT then ok",
			steps:  []openskytest.Step{{Delay: time.Minute}},
			env:    []string{"OPENSKY_REQUEST_TIMEOUT", "300ms"},
			status: http.StatusOK, want: 6, requests: 2,
		},
		{
			name:   "body cut off once then ok",
			steps:  []openskytest.Step{{Truncate: 200}},
			status: http.StatusOK, want: 6, requests: 2,
		},
		{
			name:   "body cut off every time",
			steps:  repeat(10, openskytest.Step{Truncate: 200}),
			status: http.StatusInternalServerError, requests: 4,
			stderr: []string{"tick failed", "reading OpenSky answer after 200 bytes"},
		},
		{
			name:   "invalid JSON",
			steps:  []openskytest.Step{{Body: []byte(`{"time":1518552809,"states":[["ac96b8","AAL2423 ",}`)}},
			status: http.StatusInternalServerError, requests: 1,
			stderr: []string{"tick failed", "invalid JSON at byte"},
		},
		{
			name:   "oversized body",
			body:   oversized,
			status: http.StatusInternalServerError, requests: 1,
			stderr: []string{"tick failed", "larger than 64 MiB"},
		},
		{
			name:   "malformed states are left out and counted",
			body:   mixed,
			status: http.StatusOK, want: good, requests: 1,
			logs: []string{"rejected states[6] (ac96b8): state: has 16 fields", "rejected states[7] (?): icao24", "more rejected states"},
			check: func(t *testing.T, rv map[string]any) {
				byField, _ := rv["rejected_by_field"].(map[string]any)
				sum := 0.0
				for _, n := range byField {
					sum += n.(float64)
				}
				if rv["states_received"] != float64(good+bad) || rv["states_rejected"] != float64(bad) || sum != float64(bad) {
					t.Errorf("summary counts %v received, %v rejected, %v by field; want %d, %d", rv["states_received"], rv["states_rejected"], byField, good+bad, bad)
				}
			},
		},
		{
			name:   "empty snapshot",
			body:   []byte(`{"time":1518552809,"states":null}`),
			status: http.StatusOK, want: 0, requests: 1,
		},
		{
			name:   "403 from a cloud address",
			steps:  []openskytest.Step{{Status: http.StatusForbidden}},
			status: http.StatusInternalServerError, requests: 1,
			stderr: []string{"tick failed", "OpenSky answered 403", "may block requests from cloud providers"},
		},
		{
			name:   "502 every time from a cloud address",
			steps:  repeat(10, openskytest.Step{Status: http.StatusBadGateway}),
			status: http.StatusInternalServerError, requests: 4,
			stderr: []string{"tick failed", "OpenSky answered 502", "may block requests from cloud providers"},
		},
		{
			name:   "credits running low",
			setup:  func(srv *openskytest.Server) { srv.Update(func(s *openskytest.Server) { s.Remaining = 5 }) },
			status: http.StatusOK, want: 6, requests: 1,
			logs:   []string{"5 credits left", "only 5 OpenSky credits left today"},
			stderr: []string{"level=WARN", "only 5 OpenSky credits left today"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := tt.body
			if body == nil {
				body = small
			}
			srv := openskytest.New(t, body)
			srv.Script(tt.steps...)
			if tt.setup != nil {
				tt.setup(srv)
			}
			out := filepath.Join(t.TempDir(), "opensky.ndjson")
			h := StartHandler(t, fileEnv(srv, out, tt.env...))

			status, resp := h.Invoke(t, invocation)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s\n%s", status, tt.status, logsOf(resp), h.Stderr)
			}
			checkAllOrNothing(t, h, status, resp, out, 0, tt.want)
			if n := len(srv.Requests()); n != tt.requests {
				t.Errorf("OpenSky saw %d calls, want %d", n, tt.requests)
			}
			logs := logsOf(resp)
			for _, want := range tt.logs {
				if !strings.Contains(logs, want) {
					t.Errorf("Logs lack %q:\n%s", want, logs)
				}
			}
			if status/100 != 2 && !strings.HasPrefix(logs, "tick failed: ") {
				t.Errorf("a failed answer's Logs start with %q", logs)
			}
			for _, want := range tt.stderr {
				if !h.Stderr.WaitFor(want, 5*time.Second) {
					t.Errorf("stderr lacks %q:\n%s", want, h.Stderr)
				}
			}
			if tt.check != nil {
				rv, _ := resp["ReturnValue"].(map[string]any)
				tt.check(t, rv)
			}
		})
	}
}

// A 429 whose retry-after is longer than the tick may wait fails that tick; the ticks before the
// retry-after ends are skipped with one line each, without calling OpenSky.
func TestOpenSkyLong429SkipsLaterTicksIntegration(t *testing.T) {
	t.Parallel()
	srv := openskytest.New(t, recordings.Read(t, smallRecording))
	srv.Script(openskytest.Step{Status: http.StatusTooManyRequests, RetryAfter: 3600})
	out := filepath.Join(t.TempDir(), "opensky.ndjson")
	h := StartHandler(t, fileEnv(srv, out))

	status, resp := h.Invoke(t, invocation)
	if status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500: %s", status, logsOf(resp))
	}
	checkAllOrNothing(t, h, status, resp, out, 0, 0)
	if !h.Stderr.WaitFor("retry after 1h0m0s", 5*time.Second) || !strings.Contains(h.Stderr.String(), "tick failed") {
		t.Errorf("stderr lacks the 429 and its retry-after:\n%s", h.Stderr)
	}
	for i := 1; i <= 2; i++ {
		status, resp := h.Invoke(t, invocation)
		if status != http.StatusOK {
			t.Fatalf("skipped tick %d: status %d: %s", i, status, logsOf(resp))
		}
		checkAllOrNothing(t, h, status, resp, out, 0, 0)
		rv, _ := resp["ReturnValue"].(map[string]any)
		if s, _ := rv["skipped"].(string); !strings.Contains(s, "until") || !strings.HasPrefix(logsOf(resp), "tick skipped: ") {
			t.Errorf("skipped tick %d: ReturnValue %v, Logs %q", i, rv, logsOf(resp))
		}
		if !waitCount(h.Stderr, "tick skipped: OpenSky credits are used up until", i, 5*time.Second) {
			t.Errorf("want %d skip lines on stderr:\n%s", i, h.Stderr)
		}
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("OpenSky saw %d calls; after the long 429 it must not be called again before the retry-after ends", n)
	}
}

// waitCount waits until s occurs n times in b, and fails if it occurs more often.
func waitCount(b *syncBuffer, s string, n int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		c := strings.Count(b.String(), s)
		if c == n {
			return true
		}
		if c > n || time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A token OpenSky stops taking (expired on its side) is replaced once, and the tick publishes.
func TestOpenSkyTokenRevokedIntegration(t *testing.T) {
	t.Parallel()
	srv := openskytest.New(t, recordings.Read(t, smallRecording))
	out := filepath.Join(t.TempDir(), "opensky.ndjson")
	h := StartHandler(t, withAuth(fileEnv(srv, out), srv))

	status, resp := h.Invoke(t, invocation)
	if status != http.StatusOK {
		t.Fatalf("first tick: status %d: %s\n%s", status, logsOf(resp), h.Stderr)
	}
	checkAllOrNothing(t, h, status, resp, out, 0, 6)
	if srv.TokenCalls() != 1 || srv.Requests()[0].Header.Get("Authorization") == "" {
		t.Fatalf("first tick: %d token calls, Authorization %q", srv.TokenCalls(), srv.Requests()[0].Header.Get("Authorization"))
	}

	srv.RevokeToken()
	before := fileSize(t, out)
	status, resp = h.Invoke(t, invocation)
	if status != http.StatusOK {
		t.Fatalf("after the revoke: status %d: %s\n%s", status, logsOf(resp), h.Stderr)
	}
	checkAllOrNothing(t, h, status, resp, out, before, 6)
	rv, _ := resp["ReturnValue"].(map[string]any)
	if srv.TokenCalls() != 2 || len(srv.Requests()) != 3 || rv["attempts"] != float64(2) {
		t.Errorf("after the revoke: %d token calls (want 2), %d OpenSky calls (want 3), attempts %v (want 2)", srv.TokenCalls(), len(srv.Requests()), rv["attempts"])
	}
}

// A past-due tick fetches the snapshot of its scheduled time when the caller may ask for one
// (authenticated), and says it publishes the current one instead when not (anonymous).
func TestPastDueTickIntegration(t *testing.T) {
	next := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	for _, auth := range []bool{true, false} {
		t.Run(map[bool]string{true: "authenticated", false: "anonymous"}[auth], func(t *testing.T) {
			t.Parallel()
			srv := openskytest.New(t, recordings.Read(t, smallRecording))
			out := filepath.Join(t.TempDir(), "opensky.ndjson")
			env := fileEnv(srv, out)
			if auth {
				env = withAuth(env, srv)
			}
			h := StartHandler(t, env)
			status, resp := h.Invoke(t, timerInvocation(next, true))
			if status != http.StatusOK {
				t.Fatalf("status %d: %s\n%s", status, logsOf(resp), h.Stderr)
			}
			checkAllOrNothing(t, h, status, resp, out, 0, 6)
			got := srv.Query(0).Get("time")
			logs := logsOf(resp)
			if auth {
				if got != strconv.FormatInt(next.Unix(), 10) {
					t.Errorf("OpenSky was asked for time=%q, want the scheduled %d", got, next.Unix())
				}
				if !strings.Contains(logs, "fetching the snapshot for its scheduled time") {
					t.Errorf("Logs: %s", logs)
				}
			} else {
				if got != "" {
					t.Errorf("an anonymous caller asked for time=%s, which OpenSky ignores", got)
				}
				if !strings.Contains(logs, "the scheduled one is skipped") {
					t.Errorf("Logs do not say the scheduled snapshot was skipped: %s", logs)
				}
			}
		})
	}
}

// SIGTERM while a tick runs: a tick that ends within SHUTDOWN_GRACE is answered as usual; one that
// would not is stopped and answered 500 with the reason (or its connection is closed). Never a 200
// with events missing, and the process is gone within the grace.
func TestSIGTERMDuringTickIntegration(t *testing.T) {
	tests := []struct {
		name  string
		grace time.Duration
		delay time.Duration // how long OpenSky takes to answer
		ok    bool          // whether the tick finishes
	}{
		{"tick outlasting the grace fails", 2 * time.Second, time.Minute, false},
		{"tick within the grace finishes", 5 * time.Second, 700 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := openskytest.New(t, recordings.Read(t, smallRecording))
			srv.Script(openskytest.Step{Delay: tt.delay})
			out := filepath.Join(t.TempDir(), "opensky.ndjson")
			h := StartHandler(t, fileEnv(srv, out, "SHUTDOWN_GRACE", tt.grace.String()))

			type answer struct {
				status int
				resp   map[string]any
				err    error
			}
			answers := make(chan answer, 1)
			go func() {
				var a answer
				resp, err := http.Post(h.URL+"/OpenSkyTimer", "application/json", strings.NewReader(invocation))
				if err != nil {
					a.err = err
				} else {
					a.status = resp.StatusCode
					a.err = json.NewDecoder(resp.Body).Decode(&a.resp)
					resp.Body.Close()
				}
				answers <- a
			}()
			// SIGTERM once the tick is waiting on OpenSky.
			for deadline := time.Now().Add(10 * time.Second); len(srv.Requests()) == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the tick never called OpenSky:\n%s", h.Stderr)
				}
			}
			sent := time.Now()
			if err := h.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-h.done:
				h.done <- err // for StartHandler's cleanup
				if err != nil {
					t.Errorf("exit after SIGTERM: %v\n%s", err, h.Stderr)
				}
				t.Logf("exited %v after SIGTERM (grace %v)", time.Since(sent).Round(time.Millisecond), tt.grace)
			case <-time.After(tt.grace + 3*time.Second):
				t.Fatalf("still running %v after SIGTERM with SHUTDOWN_GRACE=%v\n%s", tt.grace+3*time.Second, tt.grace, h.Stderr)
			}

			a := <-answers
			switch {
			case tt.ok:
				if a.err != nil || a.status != http.StatusOK {
					t.Fatalf("a tick that fits in the grace: status %d, error %v\n%s", a.status, a.err, h.Stderr)
				}
				checkAllOrNothing(t, h, a.status, a.resp, out, 0, 6)
			case a.err != nil:
				t.Logf("the in-flight invocation's connection was closed: %v", a.err)
				checkAllOrNothing(t, h, 0, nil, out, 0, 0) // no answer counts as a failure: nothing may be written
			default:
				if a.status != http.StatusInternalServerError || !strings.Contains(logsOf(a.resp), "shutting down") {
					t.Fatalf("in-flight invocation: status %d, Logs %s", a.status, logsOf(a.resp))
				}
				checkAllOrNothing(t, h, a.status, a.resp, out, 0, 0)
				if !strings.Contains(h.Stderr.String(), "tick failed") {
					t.Errorf("stderr lacks the failed tick:\n%s", h.Stderr)
				}
			}
		})
	}
}

// hubCount reads the hub back from marks and counts each event_id, checking that the message id
// and the body's event_id agree.
func hubCount(ctx context.Context, t *testing.T, cs string, marks ehtest.Marks) (ids map[string]int, total int) {
	t.Helper()
	ids = map[string]int{}
	for pid, events := range ehtest.ReadFrom(ctx, t, cs, marks) {
		for _, e := range events {
			var body struct {
				ID string `json:"event_id"`
			}
			if err := json.Unmarshal(e.Body, &body); err != nil || e.MessageID == nil || *e.MessageID != body.ID {
				t.Fatalf("partition %s: event without a matching message id and event_id (%v): %s", pid, err, e.Body)
			}
			ids[body.ID]++
			total++
		}
	}
	return ids, total
}

// checkHub checks the rule against the hub: a 2xx answer and every event of the snapshot in the
// hub, perhaps more than once; or a non-2xx answer. Repeats are reported, not failed.
func checkHub(t *testing.T, status int, resp map[string]any, ids map[string]int, total, want int) {
	t.Helper()
	dups := total - len(ids)
	if status/100 == 2 {
		rv, _ := resp["ReturnValue"].(map[string]any)
		if len(ids) != want || rv["events_published"] != float64(want) {
			t.Fatalf("answered %d with events_published %v; the hub holds %d distinct events of %d", status, rv["events_published"], len(ids), want)
		}
	}
	t.Logf("answer %d; hub: %d distinct event_ids of %d in the snapshot, %d events read, %d duplicates (at least once)", status, len(ids), want, total, dups)
}

// Event Hubs faults from the local peer, with the whole path as in Azure: after each tick the hub
// is read back with the SDK's consumer.
func TestEventHubFaultsIntegration(t *testing.T) {
	// A recorded snapshot cut to 1,500 states, sent in batches of at most 64 KB: a dozen or so
	// sends, so that a fault lands in the middle of a snapshot, yet quick to publish and read back.
	const states = 1500
	body := firstStates(t, "states/"+recordings.States[1].Name, states)

	tests := []struct {
		name string
		opts ehtest.Options
		env  []string
		// between runs after a first, clean tick (nil: only the faulty tick runs)
		between func(t *testing.T, p *ehtest.Peer)
		status  int
		stderr  []string
		stats   func(t *testing.T, s ehtest.Stats)
	}{
		{
			name:   "connection dropped mid-send",
			opts:   ehtest.Options{DropAfterSends: 5},
			status: http.StatusOK,
			stats: func(t *testing.T, s ehtest.Stats) {
				if s.Drops != 1 {
					t.Errorf("the peer dropped %d connections, want 1", s.Drops)
				}
			},
		},
		{
			name:   "server busy (throttled)",
			opts:   ehtest.Options{BusySends: 6},
			status: http.StatusOK,
			stats: func(t *testing.T, s ehtest.Stats) {
				// The SDK's one quick retry takes some; the sink's own layer the rest.
				if s.RejectedBusy != 6 {
					t.Errorf("the peer refused %d sends as busy, want 6", s.RejectedBusy)
				}
			},
		},
		{
			name:    "every connection closed between ticks",
			between: func(t *testing.T, p *ehtest.Peer) { p.Control(t, "close-all") },
			status:  http.StatusOK,
			stats: func(t *testing.T, s ehtest.Stats) {
				if s.ForcedCloses == 0 {
					t.Error("the peer closed no connection")
				}
			},
		},
		{
			name:   "send never answered",
			opts:   ehtest.Options{StallSends: 1},
			env:    []string{"OPENSKY_TICK_TIMEOUT", "4s"},
			status: http.StatusInternalServerError,
			stderr: []string{"tick failed", "publishing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			opts := tt.opts
			opts.MaxMessageSize = 64 << 10
			p := ehtest.Start(t, opts)
			cs := p.ConnectionString(ehtest.DefaultHub)
			srv := openskytest.New(t, body)
			env := map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_SINK": "eventhub", "EVENTHUB_CONNECTION_STRING": cs}
			for i := 0; i+1 < len(tt.env); i += 2 {
				env[tt.env[i]] = tt.env[i+1]
			}
			h := StartHandler(t, env)

			marks := ehtest.Marks{}
			if tt.between != nil {
				status, resp := h.Invoke(t, invocation)
				ids, total := hubCount(ctx, t, cs, marks)
				if status != http.StatusOK {
					t.Fatalf("clean tick: status %d: %s\n%s", status, logsOf(resp), h.Stderr)
				}
				checkHub(t, status, resp, ids, total, states)
				tt.between(t, p)
				marks = ehtest.Mark(ctx, t, cs)
			}

			start := time.Now()
			status, resp := h.Invoke(t, invocation)
			took := time.Since(start)
			ids, total := hubCount(ctx, t, cs, marks)
			if status != tt.status {
				t.Fatalf("status %d, want %d (after %v): %s\n%s", status, tt.status, took.Round(time.Millisecond), logsOf(resp), h.Stderr)
			}
			checkHub(t, status, resp, ids, total, states)
			for _, want := range tt.stderr {
				if !h.Stderr.WaitFor(want, 5*time.Second) {
					t.Errorf("stderr lacks %q:\n%s", want, h.Stderr)
				}
			}
			if tt.stats != nil {
				tt.stats(t, p.Stats(t))
			}
		})
	}
}

// A hub that goes away fails the tick loudly within its deadline.
func TestEventHubGoneIntegration(t *testing.T) {
	t.Parallel()
	p := ehtest.Start(t, ehtest.Options{})
	srv := openskytest.New(t, recordings.Read(t, smallRecording))
	h := StartHandler(t, map[string]string{
		"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_SINK": "eventhub", "OPENSKY_TICK_TIMEOUT": "4s",
		"EVENTHUB_CONNECTION_STRING": p.ConnectionString(ehtest.DefaultHub),
	})
	if status, resp := h.Invoke(t, invocation); status != http.StatusOK {
		t.Fatalf("first tick: status %d: %s\n%s", status, logsOf(resp), h.Stderr)
	}
	p.Stop()
	start := time.Now()
	status, resp := h.Invoke(t, invocation)
	if status != http.StatusInternalServerError || !strings.Contains(logsOf(resp), "publishing 6 events to eventhub") {
		t.Fatalf("with the hub gone: status %d: %s\n%s", status, logsOf(resp), h.Stderr)
	}
	if took := time.Since(start); took > 4*time.Second+2*time.Second {
		t.Errorf("the failed tick took %v, past its 4s deadline", took)
	}
	if !h.Stderr.WaitFor("tick failed", 5*time.Second) {
		t.Errorf("stderr lacks the failure:\n%s", h.Stderr)
	}
}

// A publish that fails in one partition after the others were accepted: the tick fails, and its
// summary (ReturnValue and the failure's line on stderr) counts the events the hub accepted, not 0.
func TestEventHubPartialPublishCountedIntegration(t *testing.T) {
	t.Parallel()
	const states = 1500
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := ehtest.Start(t, ehtest.Options{MaxMessageSize: 64 << 10})
	cs := p.ConnectionString(ehtest.DefaultHub)
	srv := openskytest.New(t, firstStates(t, "states/"+recordings.States[1].Name, states))
	h := StartHandler(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_SINK": "eventhub", "EVENTHUB_CONNECTION_STRING": cs})
	p.Control(t, "refuse-partition 1")

	status, resp := h.Invoke(t, invocation)
	ids, _ := hubCount(ctx, t, cs, nil)
	if status != http.StatusInternalServerError {
		t.Fatalf("status %d with partition 1 refusing sends: %s", status, logsOf(resp))
	}
	if p.Stats(t).RejectedRefused == 0 || len(ids) == 0 || len(ids) >= states {
		t.Fatalf("the hub holds %d of %d events: want some, not all", len(ids), states)
	}
	rv, _ := resp["ReturnValue"].(map[string]any)
	if rv["events_published"] != float64(len(ids)) {
		t.Errorf("ReturnValue events_published = %v, the hub accepted %d", rv["events_published"], len(ids))
	}
	want := fmt.Sprintf("events=%d ", len(ids))
	if !h.Stderr.WaitFor("tick failed", 5*time.Second) || !strings.Contains(h.Stderr.String(), want) {
		t.Errorf("the failure's line on stderr lacks %q:\n%s", want, h.Stderr)
	}
}
