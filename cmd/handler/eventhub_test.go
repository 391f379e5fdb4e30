package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/sink"
)

type countingSink struct{ published, closed atomic.Int32 }

func (c *countingSink) Publish(context.Context, flight.Batch) (sink.Report, error) {
	c.published.Add(1)
	return sink.Report{Events: 1}, nil
}

func (c *countingSink) Close(context.Context) error {
	c.closed.Add(1)
	return nil
}

// A sink that failed to connect at start is tried again by the next publish, not given up on.
func TestPendingSinkRetriesAfterFailure(t *testing.T) {
	var calls atomic.Int32
	real := &countingSink{}
	release := make(chan struct{})
	s := newPendingSink(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), func(ctx context.Context) (publisher, error) {
		if calls.Add(1) == 1 {
			<-release
			return nil, errors.New("hub unreachable")
		}
		return real, nil
	})
	s.Start()
	s.Start() // a second Start does not begin a second attempt

	// While the first attempt is under way, a publish with a short deadline waits and says so.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Publish(ctx, flight.Batch{}); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("publish while connecting: %v", err)
	}
	close(release)
	// The first attempt fails: a publish that waited on it reports its error; the publish after
	// that starts a second attempt, which succeeds.
	_, err := s.Publish(context.Background(), flight.Batch{})
	if err != nil {
		if err.Error() != "hub unreachable" {
			t.Fatalf("publish after a failed connect: %v", err)
		}
		if _, err := s.Publish(context.Background(), flight.Batch{}); err != nil {
			t.Fatalf("publish after the retry: %v", err)
		}
	}
	if calls.Load() != 2 || real.published.Load() != 1 {
		t.Errorf("create called %d times, published %d", calls.Load(), real.published.Load())
	}
	if err := s.Close(context.Background()); err != nil || real.closed.Load() != 1 {
		t.Errorf("close: %v, closed %d", err, real.closed.Load())
	}
}

// The sink's connection starts once, after the first answer has gone out, and not before.
func TestStartAfterFirstAnswer(t *testing.T) {
	var started atomic.Int32
	var startedBeforeAnswer atomic.Bool
	var requests atomic.Int32
	h := startAfterFirstAnswer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			startedBeforeAnswer.Store(started.Load() > 0)
		}
		_, _ = io.WriteString(w, "ok")
	}), func() { started.Add(1) })
	srv := httptest.NewServer(h)
	defer srv.Close()
	if started.Load() != 0 {
		t.Fatal("started before any request")
	}
	for range 3 {
		resp, err := http.Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok" {
			t.Fatalf("answer %q", body)
		}
	}
	if started.Load() != 1 {
		t.Errorf("start called %d times, want once", started.Load())
	}
	if startedBeforeAnswer.Load() {
		t.Error("the first request saw the sink started before it was answered")
	}
}
