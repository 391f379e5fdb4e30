package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/view"
)

// defaultViewAddr keeps the view on this machine unless the user names another address.
const defaultViewAddr = "127.0.0.1:8080"

// viewCmd is `handler view`: the live map of a file the file sink writes, or of an Event Hub.
func viewCmd(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("view", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", defaultViewAddr, "serve the page on `ADDR` (host:port)")
	file := fs.String("file", "", "follow the NDJSON file at `PATH` that the file sink writes (OPENSKY_FILE)")
	hub := fs.Bool("eventhub", false, "read the configured Event Hub (EVENTHUB_NAMESPACE or EVENTHUB_CONNECTION_STRING, as handler tail)")
	from := fs.String("from", "latest", "with --eventhub: where to start reading (as handler tail --from)")
	group := fs.String("consumer-group", "$Default", "with --eventhub: the consumer group to read with")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("view takes flags only, not %q", fs.Args())
	}
	if (*file == "") == !*hub {
		return errors.New("view needs one source: --file PATH (an NDJSON file the file sink writes) or --eventhub (the configured hub)")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	store := view.NewStore(log, view.DefaultQuiet)
	stop, err := startView(ctx, *listen, store, log)
	if err != nil {
		return err
	}
	defer stop()
	if *file != "" {
		log.Info("view: following", slog.String("file", *file))
		return view.FollowFile(ctx, *file, log, store.Ingest)
	}
	return viewEventHub(ctx, getenv, *from, *group, func(body []byte) error {
		// A bad event is logged and passed over: one event must not stop the map.
		if err := store.Ingest(body); err != nil {
			log.Warn("view: skipping an event", slog.String("error", err.Error()))
		}
		return nil
	})
}

// viewEventHub feeds the view from the configured hub: ingest is called with each event's body.
//
// TODO(view --eventhub): not yet built; wire it to the hub consumer of `handler tail` once
// internal/eventhub/consumer.go is in this branch, as tail does:
//
//	from, err := eventhub.ParseFrom(from)            // a usage error naming --from
//	cfg, err := config.Load(getenv, nil)             // EVENTHUB_NAMESPACE or _CONNECTION_STRING, EVENTHUB_NAME
//	client, err := eventhub.NewConsumerClient(eventhub.Config{...}, group); defer client.Close(...)
//	return eventhub.Consume(ctx, client, from, ingest)
//
// For the map, a default --from a little before now (say 20 minutes, over one tick of the
// default 15-minute schedule) shows the latest published snapshot at once instead of waiting for
// the next tick.
func viewEventHub(ctx context.Context, getenv func(string) string, from, group string, ingest func(body []byte) error) error {
	_, _, _, _, _ = ctx, getenv, from, group, ingest
	return errors.New("handler view --eventhub is not yet built (it needs the hub consumer of handler tail); use handler view --file")
}

// startView serves the view on addr until ctx ends or stop is called.
func startView(ctx context.Context, addr string, store *view.Store, log *slog.Logger) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("view address %q: want host:port such as %s: %w", addr, defaultViewAddr, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("view: listening on %s: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		log.Warn("view: listening beyond this machine: anyone who can reach the address sees the map", slog.String("addr", addr))
	}
	// Event streams end with this context: Shutdown waits for handlers, and theirs never end
	// on their own.
	base, cancel := context.WithCancel(context.WithoutCancel(ctx))
	srv := &http.Server{
		Handler:           view.NewHandler(store, log),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("view: serving", slog.String("error", err.Error()))
		}
	}()
	log.Info("view: open the live map", slog.String("url", "http://"+ln.Addr().String()+"/"))
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			_ = srv.Shutdown(sctx)
		})
		<-done
	}
	go func() {
		<-ctx.Done()
		stop()
	}()
	return stop, nil
}

// observeInto hands each published snapshot of the tick runner to the view.
func observeInto(store *view.Store, log *slog.Logger) func(time.Time, []flight.Record) {
	return func(t time.Time, records []flight.Record) {
		bodies := make([][]byte, len(records))
		for i := range records {
			bodies[i] = records[i].Body
		}
		if err := store.Replace(t, bodies); err != nil {
			log.Error("view: snapshot not shown", slog.String("error", err.Error()))
		}
	}
}

// viewUntilInterrupted keeps the view of a `run --view` whose ticks have ended up until Ctrl-C.
func viewUntilInterrupted(ctx context.Context, log *slog.Logger) {
	log.Info("view: ticks done; the map stays up until Ctrl-C")
	<-ctx.Done()
}
