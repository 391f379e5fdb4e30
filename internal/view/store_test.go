package view_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/opensky-eventhubs/handler/internal/view"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func event(id, snap, country, squawk string, lon, lat *float64) []byte {
	m := map[string]any{
		"event_id": id, "snapshot_time": snap, "icao24": strings.SplitN(id, "-", 2)[0], "callsign": nil,
		"origin_country": country, "time_position": nil, "last_contact": "2026-11-27T10:00:00Z",
		"longitude": lon, "latitude": lat, "baro_altitude": nil, "on_ground": true, "velocity": nil,
		"true_track": nil, "vertical_rate": nil, "sensors": nil, "geo_altitude": nil, "squawk": nil,
		"spi": false, "position_source": 0,
	}
	if squawk != "" {
		m["squawk"] = squawk
	}
	b, _ := json.Marshal(m)
	return b
}

// waitFor reads notices until the store's current snapshot has time t.
func waitFor(t *testing.T, s *view.Store, ch <-chan struct{}, want string) *view.Published {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if p := s.Current(); !p.Time.IsZero() && p.Time.Format(time.RFC3339) == want {
			return p
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("snapshot %s not published; current %v", want, s.Current().Time)
		}
	}
}

func TestStoreIngestGroupsBySnapshotTime(t *testing.T) {
	s := view.NewStore(quietLog, 50*time.Millisecond)
	ch, cancel := s.Subscribe()
	defer cancel()
	const t1, t2 = "2026-11-27T10:00:00Z", "2026-11-27T10:01:00Z"
	for _, b := range [][]byte{
		event("a1-1", t1, "Germany", "", f(8), f(50)),
		event("b1-1", t1, "France", "7700", nil, nil),
		event("c1-1", t2, "Spain", "", f(-3), f(40)), // starts the next snapshot: publishes t1
	} {
		if err := s.Ingest(b); err != nil {
			t.Fatal(err)
		}
	}
	p := waitFor(t, s, ch, t1)
	if len(p.Aircraft) != 2 || len(p.Emergencies) != 1 {
		t.Fatalf("t1: %d aircraft, %d emergencies; want 2, 1", len(p.Aircraft), len(p.Emergencies))
	}
	// A late event of t1 is dropped: t2 has begun.
	if err := s.Ingest(event("d1-1", t1, "Italy", "", nil, nil)); err != nil {
		t.Fatal(err)
	}
	// t2 is published after the quiet period, with no newer snapshot.
	p = waitFor(t, s, ch, t2)
	if len(p.Aircraft) != 1 || p.Aircraft[0].ICAO24 != "c1" {
		t.Fatalf("t2: %+v", p.Aircraft)
	}
	// More of t2 after it was shown joins it.
	if err := s.Ingest(event("e1-1", t2, "Spain", "", nil, nil)); err != nil {
		t.Fatal(err)
	}
	// Wait for the republish itself: ch may still hold the notice of t2's first publish, which
	// waitFor did not need to read when the machine was slow enough for t2 to be out already.
	deadline := time.After(5 * time.Second)
	for p = s.Current(); len(p.Aircraft) != 2; p = s.Current() {
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("t2 after more: %d aircraft, %v; want 2", len(p.Aircraft), p.Countries)
		}
	}
	if p.Countries[0] != (view.CountryCount{OriginCountry: "Spain", Aircraft: 2}) {
		t.Fatalf("t2 after more: %v", p.Countries)
	}
}

func TestStoreRejectsBadEvents(t *testing.T) {
	s := view.NewStore(quietLog, 0)
	for _, c := range []struct{ body, want string }{
		{`not json`, "not valid JSON"},
		{`[1]`, "not an object"},
		{`{"snapshot_time":"2026-11-27T10:00:00Z","icao24":"a"}`, "event_id"},
		{`{"event_id":"a-1","icao24":"a"}`, "snapshot_time"},
		{`{"event_id":"a-1","snapshot_time":"yesterday","icao24":"a"}`, "snapshot_time"},
	} {
		err := s.Ingest([]byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Ingest(%s) = %v, want an error naming %s", c.body, err, c.want)
		}
	}
	err := s.Replace(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), [][]byte{event("a-1", "2026-11-27T10:05:00Z", "X", "", nil, nil)})
	if err == nil || !strings.Contains(err.Error(), "snapshot_time") {
		t.Errorf("Replace with another snapshot's event: %v", err)
	}
}

func TestGeoJSONAndStats(t *testing.T) {
	s := view.NewStore(quietLog, 0)
	srv := httptest.NewServer(view.NewHandler(s, quietLog))
	defer srv.Close()

	get := func(path string, v any) http.Header {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s: %s", path, res.Status)
		}
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return res.Header
	}
	var empty map[string]any
	get("/api/stats", &empty)
	if empty["snapshot_time"] != nil || empty["aircraft"] != 0.0 {
		t.Errorf("stats before any snapshot: %v", empty)
	}

	snapT := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	if err := s.Replace(snapT, [][]byte{
		event("a1-1", "2026-11-27T10:00:00Z", "Germany", "", f(8.25), f(-50.5)),
		event("b1-1", "2026-11-27T10:00:00Z", "Germany", "7500", nil, nil),
	}); err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type         string `json:"type"`
		SnapshotTime string `json:"snapshot_time"`
		Features     []struct {
			Type     string `json:"type"`
			ID       string `json:"id"`
			Geometry *struct {
				Type        string    `json:"type"`
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	h := get("/api/snapshot", &fc)
	if ct := h.Get("Content-Type"); ct != "application/geo+json" {
		t.Errorf("content type %s", ct)
	}
	if fc.Type != "FeatureCollection" || fc.SnapshotTime != "2026-11-27T10:00:00Z" || len(fc.Features) != 2 {
		t.Fatalf("collection: %+v", fc)
	}
	a, b := fc.Features[0], fc.Features[1]
	if a.Type != "Feature" || a.ID != "a1-1" || a.Geometry == nil || a.Geometry.Type != "Point" ||
		len(a.Geometry.Coordinates) != 2 || a.Geometry.Coordinates[0] != 8.25 || a.Geometry.Coordinates[1] != -50.5 {
		t.Errorf("feature with a position: %+v %+v", a, a.Geometry)
	}
	if b.Geometry != nil {
		t.Errorf("feature without a position has geometry %+v", b.Geometry)
	}
	if a.Properties["origin_country"] != "Germany" || a.Properties["event_id"] != "a1-1" || len(a.Properties) != 19 {
		t.Errorf("properties are not the event's fields: %v", a.Properties)
	}

	var st struct {
		SnapshotTime string              `json:"snapshot_time"`
		Aircraft     int                 `json:"aircraft"`
		Countries    []view.CountryCount `json:"countries"`
		Emergencies  []map[string]any    `json:"emergencies"`
	}
	get("/api/stats", &st)
	if st.SnapshotTime != "2026-11-27T10:00:00Z" || st.Aircraft != 2 || len(st.Countries) != 1 || st.Countries[0].Aircraft != 2 ||
		len(st.Emergencies) != 1 || st.Emergencies[0]["squawk"] != "7500" {
		t.Errorf("stats: %+v", st)
	}
}

func TestStreamSendsEachSnapshot(t *testing.T) {
	s := view.NewStore(quietLog, 0)
	srv := httptest.NewServer(view.NewHandler(s, quietLog))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/api/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %s", ct)
	}
	r := bufio.NewReader(res.Body)
	next := func() (id string, data map[string]any) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case strings.HasPrefix(line, "id: "):
				id = line[4:]
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(line[6:]), &data); err != nil {
					t.Fatal(err)
				}
			case line == "" && data != nil:
				return id, data
			}
		}
	}
	if _, d := next(); d["snapshot_time"] != nil {
		t.Fatalf("first event before any snapshot: %v", d)
	}
	for i, ts := range []string{"2026-11-27T10:00:00Z", "2026-11-27T10:01:00Z"} {
		at, _ := time.Parse(time.RFC3339, ts)
		bodies := [][]byte{event("a1-1", ts, "Germany", "", nil, nil)}
		if i == 1 {
			bodies = append(bodies, event("b1-1", ts, "Peru", "", nil, nil))
		}
		if err := s.Replace(at, bodies); err != nil {
			t.Fatal(err)
		}
		id, d := next()
		if id != ts || d["snapshot_time"] != ts || d["aircraft"] != float64(i+1) {
			t.Errorf("event %d: id %s data %v", i, id, d)
		}
	}
}

func TestFollowFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "opensky.ndjson")
	lines := make(chan string, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- view.FollowFile(ctx, path, quietLog, func(line []byte) error {
			lines <- string(line)
			return nil
		})
	}()
	expect := func(want ...string) {
		t.Helper()
		for _, w := range want {
			select {
			case got := <-lines:
				if got != w {
					t.Fatalf("line %q, want %q", got, w)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no line; want %q", w)
			}
		}
		select {
		case got := <-lines:
			t.Fatalf("unexpected line %q", got)
		case <-time.After(2 * view.FollowPoll):
		}
	}
	// The file does not exist yet: it is waited for.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	write := func(s string) {
		if _, err := fh.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	write("{\"a\":1}\n\n{\"a\":2}\n{\"a\":")
	expect(`{"a":1}`, `{"a":2}`) // the half-written third line is held
	write("3}\n")
	expect(`{"a":3}`)
	// Truncated (rotated): read again from the start.
	if err := fh.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := fh.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	write("{\"b\":1}\n")
	expect(`{"b":1}`)
	// Replaced by a new file of the same name (rotated): read from its start.
	next := path + ".new"
	if err := os.WriteFile(next, []byte("{\"c\":1}\n{\"c\":2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
	expect(`{"c":1}`, `{"c":2}`)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestFollowFileLongLine: a line longer than view.MaxLineBytes (a file that is not NDJSON, or
// one whose writer never ends its line) is skipped as it is read, not gathered in memory whole;
// the lines after it still come.
func TestFollowFileLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opensky.ndjson")
	long := bytes.Repeat([]byte("x"), 3*view.MaxLineBytes)
	body := append(append([]byte("{\"a\":1}\n"), long...), "\n{\"a\":2}\n"...)
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	lines := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- view.FollowFile(ctx, path, log, func(line []byte) error {
			lines <- string(line)
			return nil
		})
	}()
	var got []string
	for len(got) < 2 {
		select {
		case l := <-lines:
			if len(l) > view.MaxLineBytes {
				t.Fatalf("a line of %d bytes reached fn; lines are cut off at %d", len(l), view.MaxLineBytes)
			}
			got = append(got, l)
		case <-time.After(5 * time.Second):
			t.Fatalf("lines %q; want the two short ones", got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{`{"a":1}`, `{"a":2}`}) {
		t.Errorf("lines %q", got)
	}
	if !strings.Contains(logs.String(), "line=2") {
		t.Errorf("the log does not name the long line:\n%s", logs.String())
	}
}
