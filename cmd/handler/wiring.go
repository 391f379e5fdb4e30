package main

import (
	"context"
	"errors"
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
	"github.com/opensky-eventhubs/handler/internal/view"
)

// app is what both commands share: config, logger, the tick runner and the sink to close.
type app struct {
	cfg    config.Config
	log    *slog.Logger
	runner *tick.Runner
	close  func(context.Context) error
	// start checks the sink in the background (the Event Hubs connection), logging a failure.
	start func()
	// check checks the sink now and returns what would make every publish fail.
	check func(context.Context) error

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

// setup loads the config and builds the app. every is run's --every (zero: follow the schedule).
func setup(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, every time.Duration) (*app, error) {
	cfg, err := config.LoadEvery(getenv, nil, every)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	log.Info("starting", attrsAny(cfg.LogAttrs())...)

	q := opensky.Query{ICAO24: cfg.ICAO24, Extended: cfg.Extended}
	if b := cfg.BBox; b != nil {
		q.BBox = &opensky.BBox{LaMin: b.LaMin, LoMin: b.LoMin, LaMax: b.LaMax, LoMax: b.LoMax}
	}
	budget := tick.NewBudget(cfg.CallsPerDay(), q.Credits(), cfg.Account.DailyCredits())
	if cfg.Every > 0 {
		budget = tick.NewEveryBudget(cfg.Every, q.Credits(), cfg.Account.DailyCredits())
	}
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
		Logger:         log,
	})
	snk, start, check, err := newSink(ctx, cfg, log, stdout)
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
		MaxStates:     cfg.MaxStates,
		MaxStatesHint: cfg.MaxStatesHint(),
	}
	a := &app{cfg: cfg, log: log, runner: runner, close: snk.Close, start: start, check: check}
	context.AfterFunc(ctx, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.stopped = time.Now()
	})
	return a, nil
}

// newSink makes the configured sink, a function that checks it in the background (logging a
// failure) and one that checks it at once (returning it).
func newSink(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) (publisher, func(), func(context.Context) error, error) {
	switch cfg.Sink {
	case config.SinkEventHub:
		s, err := newEventHubSink(ctx, cfg, log)
		if err != nil {
			return nil, nil, nil, err
		}
		return s, s.Start, s.Connect, nil
	default:
		f := sink.NewFile(cfg.File, stdout)
		check := func(context.Context) error {
			// The default path's folder (data/) is made for the user; a folder missing from a
			// path the user chose is reported instead: see sink.File.Check.
			created, err := f.Check(cfg.File == config.DefaultFile)
			if created != "" {
				log.Info("created the folder for OPENSKY_FILE", slog.String("folder", created))
			}
			return err
		}
		start := func() {
			if err := check(ctx); err != nil {
				log.Error("sink check failed: every tick will fail until OPENSKY_FILE is fixed", slog.String("error", err.Error()))
			}
		}
		return f, start, check, nil
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
	fs := newFlagSet("serve", `usage: handler serve

Serves the Azure Functions host (what "handler" with no command does): listens on
127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT, which the host sets, and runs one tick per timer
invocation it POSTs to /OpenSkyTimer. Takes no flags; settings are environment variables.
`)
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	a, err := setup(ctx, getenv, stdout, stderr, 0)
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

const runUsage = `usage: handler run [--once | --every DURATION] [--for DURATION] [--view ADDR]

Ticks without the Functions host: one tick at once, then on OPENSKY_SCHEDULE (or every
DURATION) until Ctrl-C or --for. Before the first tick it checks the sink (OPENSKY_FILE can be
written, the Event Hub answers and may be sent to), so a run that cannot publish spends no
OpenSky credits. A run of several ticks ends with one summary line, and exits 1 if any tick failed.
With --view it also serves the live map of its snapshots (see handler view --help).
`

func runStandalone(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", runUsage)
	once := fs.Bool("once", false, "run one tick, then exit")
	var every, forDur durationFlag
	fs.Var(&every, "every", "tick at once, then every `DURATION`, such as 5m (default: follow OPENSKY_SCHEDULE)")
	fs.Var(&forDur, "for", "stop after `DURATION`, such as 1h (default: run until Ctrl-C)")
	viewAddr := fs.String("view", "", "also serve the live map of the ticks' snapshots on `ADDR` (host:port, such as 127.0.0.1:8080)")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	switch {
	case *once && every > 0:
		return usageErrorf("run", "--once and --every do not go together: --once runs one tick, --every keeps ticking")
	case *once && forDur > 0:
		return usageErrorf("run", "--once and --for do not go together: --once stops after one tick")
	}
	a, err := setup(ctx, getenv, stdout, stderr, time.Duration(every))
	if err != nil {
		return err
	}
	defer a.shutdown()
	// A sink that cannot take the events would waste the snapshot and its credits.
	if err := a.check(ctx); err != nil {
		return fmt.Errorf("the sink is not usable, so nothing was fetched from OpenSky: %w", err)
	}
	if *viewAddr != "" {
		store := view.NewStore(a.log, 0)
		stopView, err := startView(ctx, *viewAddr, store, a.log)
		if err != nil {
			return err
		}
		defer stopView()
		a.runner.Observe = observeInto(store, a.log)
		defer func() { viewUntilInterrupted(ctx, a.log) }()
	}

	var deadline time.Time
	if forDur > 0 {
		deadline = time.Now().Add(time.Duration(forDur))
	}
	next := func(now time.Time) time.Time {
		if every > 0 {
			return now.Add(time.Duration(every))
		}
		return a.cfg.Schedule.Next(now)
	}
	// A tick under way at Ctrl-C or SIGTERM runs on, within SHUTDOWN_GRACE, as in serve.
	work, stop := functions.StopAfterGrace(ctx, a.cfg.ShutdownGrace)
	defer stop()
	var runs runTally
	for {
		sum, err := a.runner.Tick(work, tick.Request{})
		if cause := context.Cause(work); err != nil && cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w: %w", err, cause)
		}
		runs.add(sum, err)
		if err != nil {
			a.log.Error("tick failed", append([]any{slog.String("error", err.Error())}, attrsAny(sum.LogAttrs())...)...)
		} else {
			for _, w := range sum.Warnings {
				a.log.Warn(w)
			}
			a.log.Info(sum.Line())
		}
		if *once {
			return runs.err()
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
			a.log.Info(runs.line())
			return runs.err()
		case <-t.C:
		}
	}
	a.log.Info(runs.line())
	return runs.err()
}

// runTally counts what the ticks of one run did, for its closing line and exit status.
type runTally struct{ ticks, failed, skipped, events int }

func (r *runTally) add(sum tick.Summary, err error) {
	r.ticks++
	switch {
	case err != nil:
		r.failed++
	case sum.Skipped != "":
		r.skipped++
	}
	r.events += sum.EventsPublished
}

func (r runTally) line() string {
	return fmt.Sprintf("run finished: %d ticks, %d failed, %d skipped, %d events published", r.ticks, r.failed, r.skipped, r.events)
}

func (r runTally) err() error {
	if r.failed > 0 {
		return fmt.Errorf("%d of %d ticks failed (see the log above)", r.failed, r.ticks)
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
