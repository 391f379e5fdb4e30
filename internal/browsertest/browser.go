// Package browsertest starts a real headless Chromium for tests of the local view, through the
// Chrome DevTools protocol (chromedp), and records every request the page makes. It is test
// tooling, not product code.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Browser is a started Chromium with one tab.
type Browser struct {
	Ctx context.Context // the tab: pass to chromedp.Run

	mu   sync.Mutex
	urls []string
}

// Path finds Debian's chromium (or CHROMIUM). A missing browser fails tb, saying how to install
// it: a test whose helper is missing fails, it does not skip (.ci/run installs it).
func Path(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const how = "Chromium not found: apt-get install -y chromium (or set CHROMIUM to a Chrome/Chromium binary)"
	tb.Fatal(how)
	return ""
}

// Start starts a headless Chromium with a fresh profile, sized width x height, that ends with tb.
func Start(tb testing.TB, width, height int) *Browser {
	tb.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path(tb)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root, where Chromium's sandbox cannot start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{}
	// A listener given at the start sees the page's first requests too.
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.urls = append(b.urls, e.Request.URL)
			b.mu.Unlock()
		}
	}))
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b.Ctx = ctx
	if err := chromedp.Do(ctx); err != nil { // starts the browser and its tab
		tb.Fatalf("starting Chromium: %v", err)
	}
	return b
}

// Requests returns the URL of every request the browser has made so far.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.urls...)
}
