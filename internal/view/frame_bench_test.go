package view_test

import (
	"context"
	"io/fs"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/opensky-eventhubs/handler/internal/browsertest"
	"github.com/opensky-eventhubs/handler/internal/view"
)

// frameJS loads a synthetic snapshot of 10,000 aircraft into the page and times, with
// performance.now, full renders (a new snapshot or a zoom) and pan frames, 100 of each. Canvas commands
// are rasterized lazily, so each frame ends with a one-pixel read, which waits for the raster:
// the times are whole frames, not just the script that records them.
const frameJS = `(() => {
	let seed = 1;
	const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
	const features = [];
	for (let i = 0; i < 10000; i++) {
		const ground = rnd() < 0.05;
		features.push({ type: "Feature", id: "s" + i, geometry: { type: "Point", coordinates: [rnd() * 360 - 180, rnd() * 130 - 60] },
			properties: { icao24: i.toString(16).padStart(6, "0"), callsign: "SYN" + i, origin_country: "Synthetica", on_ground: ground,
				baro_altitude: ground ? null : rnd() * 13000, true_track: rnd() < 0.02 ? null : rnd() * 360, velocity: 200, vertical_rate: 0,
				squawk: i % 1000 === 0 ? "7700" : "1000" } });
	}
	const g = document.getElementById("canvas").getContext("2d");
	const flush = () => g.getImageData(0, 0, 1, 1);
	let tb = performance.now();
	for (let i = 0; i < 20; i++) { openskyView.draw(); flush(); }
	const base = (performance.now() - tb) / 20;
	let t0 = performance.now();
	openskyView.load({ type: "FeatureCollection", features });
	const load = performance.now() - t0;
	openskyView.draw();
	flush();
	const time = (f) => {
		const ms = [];
		for (let i = 0; i < 100; i++) {
			const t = performance.now();
			f(i);
			flush();
			ms.push(performance.now() - t);
		}
		ms.sort((a, b) => a - b);
		return [ms.reduce((a, b) => a + b) / ms.length, ms[94], ms[99]];
	};
	const draw = time(() => openskyView.draw());
	// A steady drag, 8 px a frame: past the layer's margin every 32 frames, which then renders.
	const pan = time(() => openskyView.pan(8, 3));
	return [load, draw[0], draw[1], pan[0], pan[1], openskyView.aircraftOnMap, base, pan[2]];
})()`

// BenchmarkFrame10k measures, in headless Chromium (software rendering: --disable-gpu), the
// frame time of the map with 10,000 aircraft, and reports the page's size.
//
//	go test ./internal/view -run '^$' -bench Frame10k -benchtime 1x
func BenchmarkFrame10k(b *testing.B) {
	srv := httptest.NewServer(view.NewHandler(view.NewStore(nil, 0), nil))
	b.Cleanup(srv.Close) // after the browser's cleanup, which ends the page's event stream
	br := browsertest.Start(b, 1280, 800)
	ctx, cancel := context.WithTimeout(br.Ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		b.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!window.openskyView`)); err != nil {
		b.Fatal(err)
	}
	var m []float64
	for b.Loop() {
		var err error
		if m, err = chromedp.Run(ctx, chromedp.Evaluate[[]float64](frameJS)); err != nil {
			b.Fatal(err)
		}
	}
	if m[5] != 10000 {
		b.Fatalf("%v aircraft on the map, want 10000", m[5])
	}
	b.ReportMetric(m[0], "load-ms")
	b.ReportMetric(m[6], "basemap-ms")
	b.ReportMetric(m[1], "render-ms")
	b.ReportMetric(m[2], "render-p95-ms")
	b.ReportMetric(m[3], "pan-ms/frame")
	b.ReportMetric(m[4], "pan-p95-ms")
	b.ReportMetric(m[7], "pan-max-ms")
	size := 0
	_ = fs.WalkDir(os.DirFS("web/dist"), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				size += int(fi.Size())
			}
		}
		return nil
	})
	b.ReportMetric(float64(size), "page-bytes")
}
