package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/opensky-eventhubs/handler/internal/browsertest"
	"github.com/opensky-eventhubs/handler/internal/ehtest"
	"github.com/opensky-eventhubs/handler/internal/openskytest"
	"github.com/opensky-eventhubs/handler/internal/recordings"
	"github.com/opensky-eventhubs/handler/internal/view"
)

// recording is an OpenSky /states/all answer, decoded with numbers kept as written.
type recording struct {
	Time   int64   `json:"time"`
	States [][]any `json:"states"`
}

func readRecording(t *testing.T, name string) recording {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(recordings.Read(t, "states/"+name)))
	d.UseNumber()
	var r recording
	if err := d.Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r recording) body(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countries is aircraft per origin country as the recording has them (index 0 icao24, 2 country).
func (r recording) countries() map[string]int {
	seen := map[string]bool{}
	n := map[string]int{}
	for _, s := range r.States {
		k := s[0].(string) + "\x00" + s[2].(string)
		if !seen[k] {
			seen[k] = true
			n[s[2].(string)]++
		}
	}
	return n
}

func (r recording) aircraft() int {
	total := 0
	for _, n := range r.countries() {
		total += n
	}
	return total
}

// TestViewInBrowserIntegration runs `handler run --view` on a replayed world snapshot and checks,
// in a real headless Chromium, what the page shows.
func TestViewInBrowserIntegration(t *testing.T) {
	br := browsertest.Start(t, 1280, 800)

	// First snapshot: the world recording with one aircraft over Europe squawking 7700.
	first := readRecording(t, "global-2021-10-17.json")
	var emergency, emCallsign, emCountry string
	for _, s := range first.States {
		lon, lat := s[5], s[6]
		if lon == nil || lat == nil || s[8] == true {
			continue
		}
		lo, _ := lon.(json.Number).Float64()
		la, _ := lat.(json.Number).Float64()
		if lo > 0 && lo < 20 && la > 40 && la < 55 {
			s[14] = "7700"
			emergency = s[0].(string)
			emCallsign, emCountry = strings.TrimSpace(s[1].(string)), s[2].(string)
			break
		}
	}
	if emergency == "" {
		t.Fatal("the recording has no airborne aircraft over Europe to mark as an emergency")
	}
	// Second snapshot, a minute later: every other aircraft, no emergency.
	second := recording{Time: first.Time + 60}
	for i, s := range first.States {
		if i%2 == 0 && s[0] != emergency {
			second.States = append(second.States, s)
		}
	}

	srv := openskytest.New(t, first.body(t))
	port := freePort(t)
	h := startBinary(t, map[string]string{
		"OPENSKY_BASE_URL": srv.BaseURL(),
		"OPENSKY_SINK":     "file",
		"OPENSKY_FILE":     filepath.Join(t.TempDir(), "opensky.ndjson"),
	}, "run", "--every", "1s", "--view", "127.0.0.1:"+port)
	if !h.Stderr.WaitFor("view: open the live map", 20*time.Second) {
		t.Fatalf("no view URL logged:\n%s", h.Stderr)
	}
	m := regexp.MustCompile(`live map" url=(http://\S+)`).FindStringSubmatch(h.Stderr.String())
	if m == nil || m[1] != "http://127.0.0.1:"+port+"/" {
		t.Fatalf("view URL %v, want http://127.0.0.1:%s/", m, port)
	}
	pageURL := m[1]

	ctx, cancel := context.WithTimeout(br.Ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatal(err)
	}
	want := first.aircraft()
	waitAircraft(t, ctx, want, h)

	// The per-country table, as rendered.
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][2]string](
		`[...document.querySelectorAll('#countries tbody tr')].map(tr => [tr.cells[0].textContent, tr.cells[1].textContent])`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range rows {
		var n int
		fmt.Sscan(r[1], &n)
		if r[0] == "(not given)" { // how the page shows OpenSky's empty origin_country
			r[0] = ""
		}
		got[r[0]] = n
	}
	if wantC := first.countries(); fmt.Sprint(got) != fmt.Sprint(wantC) {
		t.Errorf("country table (%d rows) differs from the recording's %d countries:\ngot  %v\nwant %v", len(got), len(wantC), got, wantC)
	}
	if len(rows) > 1 && got[rows[0][0]] < got[rows[len(rows)-1][0]] {
		t.Errorf("country table not sorted by aircraft, most first: %v ... %v", rows[0], rows[len(rows)-1])
	}
	// The screenshot, as a test artifact.
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("VIEW_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "opensky-view-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "view.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))

	// Sorting by country name, by a click.
	if err := chromedp.Do(ctx, chromedp.Click(`th[data-key=origin_country] button`)); err != nil {
		t.Fatal(err)
	}
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#countries tbody tr')].map(tr => tr.cells[0].textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if !sort.SliceIsSorted(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) }) && !sort.StringsAreSorted(names) {
		t.Errorf("after a click on Country the rows are not by name: %v", names[:min(5, len(names))])
	}

	// The emergency: listed, and ringed in red on the map.
	listed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#emergencies li[data-icao24]')].map(li => li.dataset.icao24 + ' ' + li.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || !strings.HasPrefix(listed[0], emergency+" ") || !strings.Contains(listed[0], "7700") {
		t.Errorf("emergencies listed: %q, want %s squawking 7700", listed, emergency)
	}
	red, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => {
		const p = openskyView.screen(`+jsString(emergency)+`);
		if (!p || !p.emergency) return -1;
		const c = document.getElementById('canvas'), g = c.getContext('2d'), d = window.devicePixelRatio || 1;
		let red = 0;
		for (let a = 0; a < 16; a++) {
			const x = Math.round((p.x + 11 * Math.cos(a * Math.PI / 8)) * d), y = Math.round((p.y + 11 * Math.sin(a * Math.PI / 8)) * d);
			const [r, gr, b] = g.getImageData(x, y, 1, 1).data;
			if (r > 200 && gr < 90 && b < 90) red++;
		}
		return red;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if red < 8 {
		t.Errorf("the emergency %s is not ringed in red on the map (%d of 16 ring pixels red; -1: not marked)", emergency, red)
	}

	// Hover shows the aircraft; a drag pans; the wheel zooms about the pointer.
	type pos struct {
		X, Y      float64
		Emergency bool
	}
	where := func(icao string) pos {
		t.Helper()
		p, err := chromedp.Run(ctx, chromedp.Evaluate[pos](`openskyView.screen(`+jsString(icao)+`)`))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := where(emergency)
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, p.X, p.Y)); err != nil {
		t.Fatal(err)
	}
	tipText, err := chromedp.Run(ctx, chromedp.Poll[string](`!document.getElementById('tip').hidden && document.getElementById('tip').textContent`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("no tooltip on hover: %v", err)
	}
	for _, w := range []string{emCallsign, emCountry, "Altitude", "Speed", "Vertical rate", "Squawk: 7700 (emergency)"} {
		if !strings.Contains(tipText, w) {
			t.Errorf("tooltip %q lacks %q", tipText, w)
		}
	}
	buttons := func(p *input.DispatchMouseEventParams) { p.Buttons = 1 }
	if err := chromedp.Do(ctx,
		chromedp.MouseEvent(chromedp.MousePressed, 300, 300, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, 350, 320, buttons),
		chromedp.MouseEvent(chromedp.MouseMoved, 400, 350, buttons),
		chromedp.MouseEvent(chromedp.MouseReleased, 400, 350, chromedp.ButtonLeft),
	); err != nil {
		t.Fatal(err)
	}
	if q := where(emergency); q.X-p.X < 99 || q.X-p.X > 101 || q.Y-p.Y < 49 || q.Y-p.Y > 51 {
		t.Errorf("a drag by (100, 50) moved the aircraft from %+v to %+v", p, q)
	}
	p = where(emergency)
	other := first.States[0][0].(string)
	before := where(other)
	// Chrome wants both deltas, and cdproto omits a zero: a hundredth of a pixel sideways.
	wheel := func(p *input.DispatchMouseEventParams) { p.DeltaX, p.DeltaY = 0.01, -400 }
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseWheel, p.X, p.Y, wheel)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`(() => { const q = openskyView.screen(%s); return Math.abs(q.x - %f) > 10; })()`, jsString(other), before.X), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the wheel did not zoom: %v", err)
	}
	if q := where(emergency); math.Abs(q.X-p.X) > 1 || math.Abs(q.Y-p.Y) > 1 {
		t.Errorf("zoom moved the point under the pointer from %+v to %+v", p, q)
	}

	// A tap (touch) shows the aircraft too, once the zoom has settled and the map is rendered.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`openskyView.settled`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('tip').hidden = true`)); err != nil {
		t.Fatal(err)
	}
	p = where(emergency)
	if err := chromedp.Do(ctx, chromedp.TapXY(p.X, p.Y)); err != nil {
		t.Fatal(err)
	}
	if tipText, err = chromedp.Run(ctx, chromedp.Poll[string](`!document.getElementById('tip').hidden && document.getElementById('tip').textContent`, chromedp.WithPollingTimeout(10*time.Second))); err != nil || !strings.Contains(tipText, emCallsign) {
		t.Errorf("a tap on %s shows %q (%v)", emCallsign, tipText, err)
	}

	// A new snapshot arrives: the page shows it without a reload.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.notReloaded = 42`)); err != nil {
		t.Fatal(err)
	}
	steps := make([]openskytest.Step, 200)
	for i := range steps {
		steps[i] = openskytest.Step{Body: second.body(t)}
	}
	srv.Script(steps...)
	waitAircraft(t, ctx, second.aircraft(), h)
	after, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`[window.notReloaded, performance.getEntriesByType('navigation').length,
		document.querySelectorAll('#emergencies li[data-icao24]').length, document.getElementById('snapshot-time').dateTime]`))
	if err != nil {
		t.Fatal(err)
	}
	wantTime := time.Unix(second.Time, 0).UTC().Format(time.RFC3339)
	if after[0] != 42.0 || after[1] != 1.0 || after[2] != 0.0 || after[3] != wantTime {
		t.Errorf("after the new snapshot: marker %v, navigations %v, emergencies %v, time %v; want 42, 1, 0, %s", after[0], after[1], after[2], after[3], wantTime)
	}

	// Nothing left the machine: every request went to the view's own address.
	reqs := br.Requests()
	if len(reqs) < 4 {
		t.Errorf("only %d requests recorded: %v", len(reqs), reqs)
	}
	for _, r := range reqs {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Host != "127.0.0.1:"+port) {
			t.Errorf("request to %s: the page must load nothing from elsewhere", r)
		}
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitCount waits until the page shows n aircraft in #aircraft-count and on the map.
func waitAircraft(t *testing.T, ctx context.Context, n int, h *Handler) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	expr := fmt.Sprintf(`document.getElementById('aircraft-count').textContent.replace(/,/g, '') === '%d' && window.openskyView && openskyView.aircraftOnMap > 0`, n)
	if _, err := chromedp.Run(wctx, chromedp.Poll[bool](expr)); err != nil {
		shown, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('aircraft-count').textContent`))
		t.Fatalf("page does not show %d aircraft (it shows %q): %v\nhandler log:\n%s", n, shown, err, h.Stderr)
	}
}

// startBinary starts the binary with args (a long-running command) and interrupts it at the end
// of the test, when it must stop cleanly: exit 0 within 10s.
func startBinary(t *testing.T, env map[string]string, args ...string) *Handler {
	t.Helper()
	h := &Handler{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, done: make(chan error, 1)}
	h.Cmd = exec.Command(binary, args...)
	h.Cmd.Env = baseEnv(env)
	h.Cmd.Stdout, h.Cmd.Stderr = h.Stdout, h.Stderr
	if err := h.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { h.done <- h.Cmd.Wait() }()
	t.Cleanup(func() {
		_ = h.Cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("handler %v after an interrupt: %v, want exit 0\n%s", args, err, h.Stderr)
			}
		case <-time.After(10 * time.Second):
			_ = h.Cmd.Process.Kill()
			<-h.done
			t.Errorf("handler %v did not stop within 10s of an interrupt", args)
		}
	})
	return h
}

// TestViewFileIntegration follows the file the file sink writes: the snapshot already in it,
// then one appended in two writes that split a line.
func TestViewFileIntegration(t *testing.T) {
	rec := readRecording(t, "small-2018-02-13.json")
	later := recording{Time: rec.Time + 10, States: rec.States[:len(rec.States)-2]}
	ndjson := func(r recording) []byte {
		t.Helper()
		srv := openskytest.New(t, r.body(t))
		out, stderr, err := run(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": "-"}, "run", "--once")
		if err != nil {
			t.Fatalf("run --once: %v\n%s", err, stderr)
		}
		return []byte(out)
	}
	file := filepath.Join(t.TempDir(), "opensky.ndjson")
	if err := os.WriteFile(file, ndjson(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	h := startBinary(t, nil, "view", "--file", file, "--listen", "127.0.0.1:"+port)
	base := "http://127.0.0.1:" + port

	stats := func(want time.Time, aircraft int) { t.Helper(); waitStats(t, base, want, aircraft, h) }
	stats(time.Unix(rec.Time, 0), rec.aircraft())

	next := ndjson(later)
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	half := bytes.IndexByte(next, '\n') + 40
	if _, err := f.Write(next[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * view.FollowPoll) // the follower reads the half line and must hold it
	if _, err := f.Write(next[half:]); err != nil {
		t.Fatal(err)
	}
	stats(time.Unix(later.Time, 0), later.aircraft())
	if strings.Contains(h.Stderr.String(), "skipping a line") {
		t.Errorf("a line was skipped:\n%s", h.Stderr)
	}

	var fc struct {
		Features []json.RawMessage `json:"features"`
	}
	res, err := http.Get(base + "/api/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&fc); err != nil || len(fc.Features) != later.aircraft() {
		t.Errorf("/api/snapshot: %d features (%v), want %d", len(fc.Features), err, later.aircraft())
	}
}

func TestViewFlagsIntegration(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"view"}, "--file PATH"},
		{[]string{"view", "--file", "x", "--eventhub"}, "one source"},
		{[]string{"view", "--eventhub", "--listen", "127.0.0.1:0"}, "EVENTHUB_NAMESPACE"},
		{[]string{"view", "--eventhub", "--from", "yesterday"}, "--from"},
		{[]string{"view", "--file", "x", "--listen", "8080"}, "host:port"},
		{[]string{"run", "--view", "nowhere"}, "host:port"},
	} {
		_, stderr, err := run(t, map[string]string{"OPENSKY_BASE_URL": "http://127.0.0.1:1/api", "OPENSKY_FILE": "-"}, c.args...)
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("handler %v: %v, stderr %q; want an error naming %q", c.args, err, stderr, c.want)
		}
	}
}

// waitStats waits until the view at base shows the snapshot of time want with aircraft aircraft.
func waitStats(t *testing.T, base string, want time.Time, aircraft int, h *Handler) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got map[string]any
	for time.Now().Before(deadline) {
		got = nil
		if res, err := http.Get(base + "/api/stats"); err == nil {
			_ = json.NewDecoder(res.Body).Decode(&got)
			res.Body.Close()
		}
		if got["snapshot_time"] == want.UTC().Format(time.RFC3339) && got["aircraft"] == float64(aircraft) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("stats %v, want snapshot %s with %d aircraft\n%s", got, want.UTC().Format(time.RFC3339), aircraft, h.Stderr)
}

// view --eventhub shows what a tick published to the hub, read as handler tail reads it.
func TestViewEventHubIntegration(t *testing.T) {
	p := ehtest.Start(t, ehtest.Options{})
	cs := p.ConnectionString(ehtest.DefaultHub)
	rec := readRecording(t, "small-2018-02-13.json")
	tickToHub(t, cs, "states/small-2018-02-13.json")

	port := freePort(t)
	h := startBinary(t, map[string]string{"EVENTHUB_CONNECTION_STRING": cs}, "view", "--eventhub", "--from", "start", "--listen", "127.0.0.1:"+port)
	waitStats(t, "http://127.0.0.1:"+port, time.Unix(rec.Time, 0), rec.aircraft(), h)
}
