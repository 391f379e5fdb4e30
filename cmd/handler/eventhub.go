package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/opensky-eventhubs/handler/internal/config"
	"github.com/opensky-eventhubs/handler/internal/eventhub"
	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/sink"
)

// eventHubConnectTimeout bounds one attempt to connect and read the partitions.
const eventHubConnectTimeout = 30 * time.Second

// newEventHubSink returns a sink that connects to the hub in the background once Start is called
// (serve calls it when the host's first GET / has been answered, so that the handler's start is
// not slowed by the connection's work), or at once with Connect (run, before its first tick,
// failing if the hub cannot be used). The first publish starts the connection if nothing has,
// and waits for it; a failed connection is logged at once and tried again by the next publish.
func newEventHubSink(ctx context.Context, cfg config.Config, log *slog.Logger) (*pendingSink, error) {
	ecfg := eventhub.Config{
		ConnectionString: cfg.EventHubConnString.Value(),
		Namespace:        cfg.EventHubNamespace,
		HubName:          cfg.EventHubName,
		ClientID:         cfg.ManagedIdentityClient,
		Concurrency:      cfg.Concurrency,
		Logger:           log,
	}
	return newPendingSink(context.WithoutCancel(ctx), log, func(ctx context.Context) (publisher, error) {
		ctx, cancel := context.WithTimeout(ctx, eventHubConnectTimeout)
		defer cancel()
		s, err := eventhub.New(ctx, ecfg)
		if err != nil {
			return nil, fmt.Errorf("OPENSKY_SINK=eventhub: %w; %s", err, hubHint(cfg))
		}
		return s, nil
	}), nil
}

// hubHint names the settings to check when the hub cannot be reached or sent to.
func hubHint(cfg config.Config) string {
	if cfg.EventHubConnString != "" {
		return "check EVENTHUB_CONNECTION_STRING (its endpoint, and a key whose policy has the Send right) and EVENTHUB_NAME"
	}
	return "check EVENTHUB_NAMESPACE and EVENTHUB_NAME, and that the identity (managed identity in Azure, az login locally; " +
		"AZURE_CLIENT_ID for a user-assigned one) has the Azure Event Hubs Data Sender role on the hub"
}

// pendingSink is a sink that is yet to be created, being created, or whose creation failed and is
// retried.
type pendingSink struct {
	ctx    context.Context // for the first attempt
	create func(context.Context) (publisher, error)
	log    *slog.Logger

	mu      sync.Mutex
	attempt chan struct{} // closed when the attempt under way ends; nil before the first
	p       publisher
	err     error
}

func newPendingSink(ctx context.Context, log *slog.Logger, create func(context.Context) (publisher, error)) *pendingSink {
	return &pendingSink{ctx: ctx, create: create, log: log}
}

// Start begins creating the sink in the background, unless an attempt has begun already.
func (s *pendingSink) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.attempt == nil {
		s.startLocked(s.ctx)
	}
}

// startLocked begins an attempt; s.mu is held, and the attempt takes it only when it ends.
func (s *pendingSink) startLocked(ctx context.Context) {
	done := make(chan struct{})
	s.attempt, s.err = done, nil
	go func() {
		p, err := s.create(ctx)
		if err != nil {
			s.log.Error("sink check failed: cannot connect to the Event Hub; ticks fail until it works (each tick tries again)", slog.String("error", err.Error()))
		}
		s.mu.Lock()
		s.p, s.err = p, err
		s.mu.Unlock()
		close(done)
	}()
}

// Connect creates the sink now, in the caller's goroutine, and returns the failure instead of
// logging it (handler run checks its sink this way before its first tick). If an attempt is under
// way it waits for it, as Publish would.
func (s *pendingSink) Connect(ctx context.Context) error {
	s.mu.Lock()
	if s.attempt != nil {
		s.mu.Unlock()
		_, err := s.ready(ctx)
		return err
	}
	done := make(chan struct{})
	s.attempt = done
	s.mu.Unlock()
	p, err := s.create(ctx)
	s.mu.Lock()
	s.p, s.err = p, err
	s.mu.Unlock()
	close(done)
	return err
}

// ready waits for the sink, starting a new attempt if the last one failed. Concurrent callers
// share one attempt.
func (s *pendingSink) ready(ctx context.Context) (publisher, error) {
	s.mu.Lock()
	if s.attempt == nil {
		s.startLocked(s.ctx)
	}
	select {
	case <-s.attempt:
		if s.p == nil && s.err != nil {
			s.startLocked(context.WithoutCancel(ctx))
		}
	default: // still connecting: wait below
	}
	done := s.attempt
	s.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the sink to connect: %w", ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p, s.err
}

// Publish waits for the connection, then publishes.
func (s *pendingSink) Publish(ctx context.Context, b flight.Batch) (sink.Report, error) {
	p, err := s.ready(ctx)
	if err != nil {
		return sink.Report{}, err
	}
	return p.Publish(ctx, b)
}

// Close waits for an attempt under way (within ctx) and closes the sink it made.
func (s *pendingSink) Close(ctx context.Context) error {
	s.mu.Lock()
	done := s.attempt
	s.mu.Unlock()
	if done == nil {
		return nil // never started
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil
	}
	s.mu.Lock()
	p := s.p
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.Close(ctx)
}
