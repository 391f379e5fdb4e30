package eventhub

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/ehtest"
	"github.com/opensky-eventhubs/handler/internal/flight"
)

func TestParseFrom(t *testing.T) {
	at := time.Date(2026, 11, 27, 15, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want From
	}{
		{"start", From{Earliest: true}},
		{"latest", From{}},
		{"2026-11-27T15:04:05Z", From{Time: at}},
		{"2026-11-27T16:04:05+01:00", From{Time: at}},
	} {
		got, err := ParseFrom(tc.in)
		if err != nil || got.Earliest != tc.want.Earliest || !got.Time.Equal(tc.want.Time) {
			t.Errorf("ParseFrom(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if err == nil && got.String() != tc.in && got.Time.IsZero() {
			t.Errorf("ParseFrom(%q).String() = %q", tc.in, got.String())
		}
	}
	for _, bad := range []string{"", "earliest", "yesterday", "2026-11-27", "2026-11-27 15:04:05"} {
		_, err := ParseFrom(bad)
		if err == nil || !strings.Contains(err.Error(), "--from") || !strings.Contains(err.Error(), "RFC 3339") {
			t.Errorf("ParseFrom(%q): error %v, want one naming --from and what it takes", bad, err)
		}
	}
}

// consumeN reads with Consume until n events have come, and returns their bodies.
func consumeN(t *testing.T, ctx context.Context, cs string, from From, n int) []string {
	t.Helper()
	cc, err := NewConsumerClient(Config{ConnectionString: cs}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close(context.Background())
	errEnough := errors.New("enough")
	var got []string
	err = Consume(ctx, cc, from, func(body []byte) error {
		got = append(got, string(body))
		if len(got) == n {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		t.Fatalf("Consume: %v after %d of %d events", err, len(got), n)
	}
	return got
}

func bodiesOf(b flight.Batch) []string {
	var out []string
	for _, r := range b.Records {
		out = append(out, string(r.Body))
	}
	return out
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s: read %d bodies, want the %d published ones", what, len(got), len(want))
	}
}

// TestConsumeIntegration reads back through the SDK's consumer what the sink published, from the
// start, from latest and from a time; fn's error stops it, and a done context ends it with nil.
func TestConsumeIntegration(t *testing.T) {
	ctx := testContext(t)
	p := ehtest.Start(t, ehtest.Options{})
	cs := p.ConnectionString(ehtest.DefaultHub)
	s := newSink(t, ctx, Config{ConnectionString: cs})

	first := snapshotBatch(t, "north-america-2025-01-31.json")
	if _, err := s.Publish(ctx, first); err != nil {
		t.Fatal(err)
	}
	sameSet(t, "from start", consumeN(t, ctx, cs, From{Earliest: true}, len(first.Records)), bodiesOf(first))

	// latest, pinned before the second snapshot is sent: only the second is read.
	cc, err := NewConsumerClient(Config{ConnectionString: cs}, "$Default")
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close(context.Background())
	latest, err := From{}.Pin(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	between := time.Now()
	second := snapshotBatch(t, "small-2018-02-13.json")
	if _, err := s.Publish(ctx, second); err != nil {
		t.Fatal(err)
	}
	sameSet(t, "from latest", consumeN(t, ctx, cs, latest, len(second.Records)), bodiesOf(second))
	sameSet(t, "from a time", consumeN(t, ctx, cs, From{Time: between}, len(second.Records)), bodiesOf(second))

	// Nothing more arrives: Consume waits until its context is done, then returns nil.
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	n := 0
	if err := Consume(short, cc, latest, func([]byte) error { n++; return nil }); err != nil {
		t.Errorf("Consume after its context ended: %v, want nil", err)
	}
	if n != len(second.Records) {
		t.Errorf("from latest until the context ended: %d events, want %d", n, len(second.Records))
	}
}

// BenchmarkConsumePeer reads the full world recording's events (5,485, published once to the
// local peer) from the start with Consume, connection included: what `handler tail --from start`
// does with a world snapshot.
func BenchmarkConsumePeer(b *testing.B) {
	batch := worldBatch(b)
	ctx := context.Background()
	p := ehtest.Start(b, ehtest.Options{})
	cs := p.ConnectionString(ehtest.DefaultHub)
	s, err := New(ctx, Config{ConnectionString: cs})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(ctx)
	if _, err := s.Publish(ctx, batch); err != nil {
		b.Fatal(err)
	}
	want := len(batch.Records)
	errDone := errors.New("done")
	for b.Loop() {
		// A new client (and connection) each time, as each run of handler tail has.
		cc, err := NewConsumerClient(Config{ConnectionString: cs}, "")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		err = Consume(ctx, cc, From{Earliest: true}, func([]byte) error {
			if n++; n == want {
				return errDone
			}
			return nil
		})
		if !errors.Is(err, errDone) {
			b.Fatalf("Consume: %v after %d of %d events", err, n, want)
		}
		_ = cc.Close(ctx)
	}
	b.ReportMetric(float64(want), "events")
}

// TestConsumeStalledConnectionIntegration: a Consume whose connection went silent returns soon
// after its context ends (Ctrl-C in handler tail or view), instead of waiting without end for the
// service to answer the close of each partition's link.
func TestConsumeStalledConnectionIntegration(t *testing.T) {
	ctx := testContext(t)
	p := ehtest.Start(t, ehtest.Options{})
	s := newSink(t, ctx, Config{ConnectionString: p.ConnectionString(ehtest.DefaultHub)})
	batch := snapshotBatch(t, "small-2018-02-13.json")
	if _, err := s.Publish(ctx, batch); err != nil {
		t.Fatal(err)
	}
	x := ehtest.StartProxy(t, p)
	cc, err := NewConsumerClient(Config{ConnectionString: x.ConnectionString(ehtest.DefaultHub)}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close(context.Background())
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	read := make(chan struct{}, len(batch.Records))
	done := make(chan error, 1)
	go func() {
		done <- Consume(cctx, cc, From{Earliest: true}, func([]byte) error { read <- struct{}{}; return nil })
	}()
	// Every link is open once every event was read: then the connection goes silent.
	for range batch.Records {
		select {
		case <-read:
		case err := <-done:
			t.Fatalf("Consume ended before reading every event: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatal("the events were not read within 20s")
		}
	}
	x.Stall()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Consume after its context ended: %v, want nil", err)
		}
	case <-time.After(consumeCloseTimeout + 10*time.Second):
		t.Fatalf("Consume did not return within %v of its context ending on a silent connection", consumeCloseTimeout+10*time.Second)
	}
}
