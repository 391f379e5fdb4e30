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

	"github.com/opensky-eventhubs/handler/internal/config"
	"github.com/opensky-eventhubs/handler/internal/functions"
	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/sink"
	"github.com/opensky-eventhubs/handler/internal/tick"
)

// app is what both commands share: config, logger, the tick runner and the sink to close.
type app struct {
	cfg    config.Config
	log    *slog.Logger
	runner *tick.Runner
	close  func(context.Context) error
	// start begins the sink's connection in the background (a no-op for sinks without one).
	start func()

	mu      sync.Mutex
	stopped time.Time // when the stop signal came; zero before
}

// closer is a sink that holds a connection.
type closer interface {
	Close(ctx context.Context) error
}

// publisher is a sink: it publishes a snapshot's events and releases its connection on Close.
type publisher interface {
	tick.Publisher
	closer
}

func setup(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) (*app, error) {
	cfg, err := config.Load(getenv, nil)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	log.Info("starting", attrsAny(cfg.LogAttrs())...)

	q := opensky.Query{ICAO24: cfg.ICAO24, Extended: cfg.Extended}
	if b := cfg.BBox; b != nil {
		q.BBox = &opensky.BBox{LaMin: b.LaMin, LoMin: b.LoMin, LaMax: b.LaMax, LoMax: b.LoMax}
	}
	budget := tick.NewBudget(cfg.Schedule.CallsPerDay(), q.Credits(), cfg.Account.DailyCredits())
	if w := budget.Warning(); w != "" {
		log.Warn(w)
	} else {
		log.Info("credit budget fits", slog.Float64("credits_per_day", budget.CreditsPerDay), slog.Int("allowance", budget.Allowance))
	}

	client := opensky.NewClient(opensky.Options{
		BaseURL:        cfg.BaseURL,
		TokenURL:       cfg.TokenURL,
		ClientID:       cfg.ClientID,
		ClientSecret:   cfg.ClientSecret.Value(),
		RequestTimeout: cfg.RequestTimeout,
	})
	snk, start, err := newSink(ctx, cfg, log, stdout)
	if err != nil {
		return nil, err
	}
	runner := &tick.Runner{
		Source:        client,
		Sink:          snk,
		SinkName:      cfg.Sink,
		Query:         q,
		Authenticated: cfg.Authenticated(),
		Timeout:       cfg.TickTimeout,
		LowCredits:    cfg.Account.DailyCredits() / 10,
	}
	a := &app{cfg: cfg, log: log, runner: runner, close: snk.Close, start: start}
	context.AfterFunc(ctx, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.stopped = time.Now()
	})
	return a, nil
}

// newSink makes the configured sink, and the function that starts its connection.
func newSink(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) (publisher, func(), error) {
	switch cfg.Sink {
	case config.SinkEventHub:
		s, err := newEventHubSink(ctx, cfg, log)
		if err != nil {
			return nil, nil, err
		}
		return s, s.Start, nil
	default:
		return sink.NewFile(cfg.File, stdout), func() {}, nil
	}
}

// startAfterFirstAnswer calls start once, when the first request (the host's GET / poll) has been
// answered and its answer flushed: the host waits for that answer to start the function, and
// the sink's connection needs the CPU no sooner.
func startAfterFirstAnswer(h http.Handler, start func()) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		once.Do(func() {
			_ = http.NewResponseController(w).Flush()
			start()
		})
	})
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := setup(ctx, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.shutdown()
	if a.cfg.Port == "" {
		return errors.New("FUNCTIONS_CUSTOMHANDLER_PORT is not set: the Functions host sets it; to run without the host use: handler run")
	}
	// The host calls 127.0.0.1; listening nowhere else keeps the handler off the network.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", a.cfg.Port))
	if err != nil {
		return fmt.Errorf("listening on 127.0.0.1:%s (FUNCTIONS_CUSTOMHANDLER_PORT): %w", a.cfg.Port, err)
	}
	srv := &http.Server{
		Handler:           startAfterFirstAnswer(functions.NewServer(a.log, a.runner), a.start),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// A tick may take up to OPENSKY_TICK_TIMEOUT before its answer is written.
		WriteTimeout: a.cfg.TickTimeout + 30*time.Second,
		IdleTimeout:  5 * time.Minute,
		ErrorLog:     slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("function", functions.FunctionName))
	err = functions.Serve(ctx, srv, ln, a.cfg.ShutdownGrace)
	a.log.Info("stopped")
	return err
}

// closeTimeout bounds closing the sink when the program ends by itself (run --once, --for).
const closeTimeout = 10 * time.Second

// shutdown closes the sink. After a stop signal it keeps within SHUTDOWN_GRACE of the signal
// (with a moment to close, should the tick have used all of it), whatever the sink's
// connection does: the sink's Close gives up at the deadline.
func (a *app) shutdown() {
	a.mu.Lock()
	stopped := a.stopped
	a.mu.Unlock()
	deadline := time.Now().Add(closeTimeout)
	if !stopped.IsZero() {
		deadline = stopped.Add(a.cfg.ShutdownGrace)
		if least := time.Now().Add(100 * time.Millisecond); deadline.Before(least) {
			deadline = least
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := a.close(ctx); err != nil {
		a.log.Warn("closing sink", slog.String("error", err.Error()))
	}
}

func runStandalone(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	once := fs.Bool("once", false, "run one tick, then exit")
	every := fs.Duration("every", 0, "tick at once, then every `DURATION` (default: follow OPENSKY_SCHEDULE)")
	forDur := fs.Duration("for", 0, "stop after `DURATION` (default: until Ctrl-C)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("run takes flags only, not %q", fs.Args())
	}
	if *every < 0 || *forDur < 0 {
		return errors.New("--every and --for must be positive durations such as 1m or 10m")
	}
	a, err := setup(ctx, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.shutdown()
	a.start() // connect while the first tick fetches

	var deadline time.Time
	if *forDur > 0 {
		deadline = time.Now().Add(*forDur)
	}
	next := func(now time.Time) time.Time {
		if *every > 0 {
			return now.Add(*every)
		}
		return a.cfg.Schedule.Next(now)
	}
	// A tick under way at Ctrl-C or SIGTERM runs on, within SHUTDOWN_GRACE, as in serve.
	work, stop := functions.StopAfterGrace(ctx, a.cfg.ShutdownGrace)
	defer stop()
	var ticks, failed int
	for {
		ticks++
		sum, err := a.runner.Tick(work, tick.Request{})
		if cause := context.Cause(work); err != nil && cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w: %w", err, cause)
		}
		if err != nil {
			failed++
			a.log.Error("tick failed", append([]any{slog.String("error", err.Error())}, attrsAny(sum.LogAttrs())...)...)
		} else {
			for _, w := range sum.Warnings {
				a.log.Warn(w)
			}
			a.log.Info(sum.Line())
		}
		if *once {
			break
		}
		at := next(time.Now())
		if !deadline.IsZero() && at.After(deadline) {
			break
		}
		a.log.Info("next tick", slog.Time("at", at))
		t := time.NewTimer(time.Until(at))
		select {
		case <-ctx.Done():
			t.Stop()
			a.log.Info("interrupted; stopping")
			return summarize(ticks, failed)
		case <-t.C:
		}
	}
	return summarize(ticks, failed)
}

func summarize(ticks, failed int) error {
	if failed > 0 {
		return fmt.Errorf("%d of %d ticks failed (see the log above)", failed, ticks)
	}
	return nil
}

func attrsAny(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}
