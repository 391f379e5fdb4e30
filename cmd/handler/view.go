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
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"

	"github.com/opensky-eventhubs/handler/internal/config"
	"github.com/opensky-eventhubs/handler/internal/eventhub"
	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/view"
)

// defaultViewAddr keeps the view on this machine unless the user names another address.
const defaultViewAddr = "127.0.0.1:8080"

const viewUsage = `usage: handler view (--file PATH | --eventhub) [flags]
Serve the live map of the latest snapshot (and /api/snapshot, /api/stats, /api/stream) on --listen:
from an NDJSON file the file sink writes, followed as it grows, or from the configured Event Hub
(EVENTHUB_NAMESPACE with your az login, or EVENTHUB_CONNECTION_STRING; EVENTHUB_NAME), read as
handler tail reads it. Ctrl-C stops it.
`

// viewFromDefault is how far back view --eventhub starts reading by default: a little over one
// interval of the default schedule, so the map shows the newest published snapshot at once.
const viewFromDefault = 20 * time.Minute

// viewCmd is `handler view`: the live map of a file the file sink writes, or of an Event Hub.
func viewCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("view", viewUsage)
	listen := fs.String("listen", defaultViewAddr, "serve the page on `ADDR` (host:port; loopback unless you name another address)")
	file := fs.String("file", "", "follow the NDJSON file at `PATH` that the file sink writes (OPENSKY_FILE)")
	hub := fs.Bool("eventhub", false, "read the configured Event Hub (as handler tail)")
	fromFlag := fs.String("from", "", "with --eventhub: where to start: start, latest or an RFC 3339 time (default: 20 minutes ago)")
	group := fs.String("consumer-group", azeventhubs.DefaultConsumerGroup, "with --eventhub: the consumer group to read as")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if (*file == "") == !*hub {
		return usageErrorf("view", "view needs one source: --file PATH (an NDJSON file the file sink writes) or --eventhub (the configured hub)")
	}
	if *file != "" {
		var hubOnly []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "from" || f.Name == "consumer-group" {
				hubOnly = append(hubOnly, "--"+f.Name)
			}
		})
		if len(hubOnly) > 0 {
			// Ignoring them would show the whole file when the user asked for less.
			verb := "goes"
			if len(hubOnly) > 1 {
				verb = "go"
			}
			return usageErrorf("view", "%s %s with --eventhub only; --file reads the whole file, then what is appended", strings.Join(hubOnly, " and "), verb)
		}
	}
	var from eventhub.From
	if *hub {
		text := *fromFlag
		if text == "" {
			text = time.Now().Add(-viewFromDefault).UTC().Format(time.RFC3339)
		}
		var err error
		if from, err = eventhub.ParseFrom(text); err != nil {
			return &usageError{cmd: "view", err: err}
		}
	}
	// The hub's settings are checked before the page is served: a view that cannot read its
	// source must not first say where to open it. They also set the log level, as for tail.
	var (
		client *azeventhubs.ConsumerClient
		cfg    config.Config
		level  = slog.LevelInfo
	)
	if *hub {
		var err error
		if client, cfg, err = openConsumer(getenv, *group); err != nil {
			return fmt.Errorf("handler view --eventhub: %w", err)
		}
		defer client.Close(context.WithoutCancel(ctx))
		level = cfg.LogLevel
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
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
	log.Info("view: reading", slog.String("eventhub", cfg.EventHubName), slog.String("from", from.String()),
		slog.String("consumer_group", *group))
	err = eventhub.Consume(ctx, client, from, func(body []byte) error {
		// A bad event is logged and passed over: one event must not stop the map.
		if err := store.Ingest(body); err != nil {
			log.Warn("view: skipping an event", slog.String("error", err.Error()))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("handler view --eventhub: %w", err)
	}
	return nil
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
	shutdown := func() {
		once.Do(func() {
			cancel()
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			_ = srv.Shutdown(sctx)
		})
		<-done
	}
	// Not a goroutine waiting for ctx: a caller that stops the view itself may have a ctx that
	// never ends.
	unwatch := context.AfterFunc(ctx, shutdown)
	return func() {
		unwatch()
		shutdown()
	}, nil
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
