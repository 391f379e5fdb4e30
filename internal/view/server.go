package view

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
)

// assets is the page as built by `make view-assets` from web/src (see web/build.mjs).
//
//go:embed web/dist
var assets embed.FS

// keepAlive is how often the event stream sends a comment when no snapshot comes, so proxies
// and browsers keep the connection open.
const keepAlive = 25 * time.Second

// NewHandler serves the page and its API from store:
//
//	GET /                 the map (embedded assets)
//	GET /api/snapshot     the latest snapshot as GeoJSON
//	GET /api/stats        its aggregates
//	GET /api/stream       server-sent events, one "snapshot" event (its stats) per new snapshot
func NewHandler(store *Store, log *slog.Logger) http.Handler {
	dist, err := fs.Sub(assets, "web/dist")
	if err != nil {
		panic("view: embedded assets: " + err.Error()) // the embed pattern guarantees the folder
	}
	r := chi.NewRouter()
	r.Use(securityHeaders)
	r.Get("/api/snapshot", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, "application/geo+json", store.Current().GeoJSON)
	})
	r.Get("/api/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, "application/json", store.Current().Stats)
	})
	r.Get("/api/stream", func(w http.ResponseWriter, r *http.Request) { stream(w, r, store, log) })
	r.Handle("/*", http.FileServerFS(dist))
	return r
}

// securityHeaders keeps the page to its own origin: it loads nothing from elsewhere, and the
// policy makes the browser refuse should any code try.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// stream sends the current snapshot's stats at once, then those of each new snapshot, as
// server-sent events named "snapshot" whose id is the snapshot time.
func stream(w http.ResponseWriter, r *http.Request, store *Store, log *slog.Logger) {
	rc := http.NewResponseController(w)
	// The server's write timeout would end the stream; this response has no end.
	_ = rc.SetWriteDeadline(time.Time{})
	notices, cancel := store.Subscribe()
	defer cancel()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)

	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	send := func() error {
		p := store.Current()
		id := ""
		if !p.Time.IsZero() {
			id = p.Time.UTC().Format(time.RFC3339)
		}
		// The stats are one line of compact JSON, so they fit one data field.
		if _, err := fmt.Fprintf(w, "event: snapshot\nid: %s\ndata: %s\n\n", id, p.Stats); err != nil {
			return err
		}
		return rc.Flush()
	}
	err := send()
	for err == nil {
		select {
		case <-r.Context().Done():
			return
		case <-notices:
			err = send()
		case <-ping.C:
			if _, err = fmt.Fprint(w, ": keep-alive\n\n"); err == nil {
				err = rc.Flush()
			}
		}
	}
	if log != nil {
		log.Debug("view: event stream ended", slog.String("error", err.Error()))
	}
}
