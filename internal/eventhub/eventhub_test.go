package eventhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"github.com/Azure/go-amqp"
	"github.com/sethvargo/go-retry"

	"github.com/opensky-eventhubs/handler/internal/ehtest"
	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/recordings"
	"github.com/opensky-eventhubs/handler/internal/sink"
)

// The expected indexes are FNV-1a (32 bit) of the key modulo n; "" hashes to FNV's offset basis,
// 2166136261. A change here moves aircraft between partitions for every consumer, so it must
// never happen silently.
func TestPartitionIndexStable(t *testing.T) {
	for _, tc := range []struct {
		key  string
		n    int
		want int
	}{
		{"", 4, 1},
		{"3c6444", 4, 1},
		{"3c6444", 32, 17},
		{"a808c4", 4, 3},
		{"a808c4", 2, 1},
		{"4b1805", 4, 1},
		{"e8027c", 4, 0},
		{"abcdef", 1, 0},
	} {
		if got := partitionIndex(tc.key, tc.n); got != tc.want {
			t.Errorf("partitionIndex(%q, %d) = %d, want %d", tc.key, tc.n, got, tc.want)
		}
	}
}

func TestSortPartitionIDs(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"3", "1", "0", "2"}, []string{"0", "1", "2", "3"}},
		{[]string{"10", "9", "1", "0"}, []string{"0", "1", "9", "10"}},
		{[]string{"b", "a"}, []string{"a", "b"}},
	} {
		if got := sortPartitionIDs(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("sortPartitionIDs(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"try timeout", fmt.Errorf("%w within 1s: %w", errTryTimeout, context.DeadlineExceeded), true},
		{"connection lost", &azeventhubs.Error{Code: azeventhubs.ErrorCodeConnectionLost}, true},
		{"ownership lost", &azeventhubs.Error{Code: azeventhubs.ErrorCodeOwnershipLost}, true},
		{"unauthorized", &azeventhubs.Error{Code: azeventhubs.ErrorCodeUnauthorizedAccess}, false},
		{"server busy", &amqp.Error{Condition: "com.microsoft:server-busy"}, true},
		{"connection forced", fmt.Errorf("send: %w", &amqp.Error{Condition: amqp.ErrCondConnectionForced}), true},
		{"message too large", &amqp.Error{Condition: amqp.ErrCondMessageSizeExceeded}, false},
		{"not found", &amqp.Error{Condition: amqp.ErrCondNotFound}, false},
		{"caller's deadline", context.DeadlineExceeded, false},
		{"other", errors.New("boom"), false},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("%s: transient(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	const secret = "c2VjcmV0LWtleS12YWx1ZQ=="
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"nothing set", Config{}, []string{"neither a connection string nor a namespace", "no hub name"}},
		{"short namespace", Config{Namespace: "myns", HubName: "h"}, []string{`namespace "myns" is not a fully qualified`}},
		{"hub mismatch", Config{ConnectionString: "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=" + secret + ";EntityPath=a", HubName: "b"},
			[]string{`names hub "a" (EntityPath) but the hub name is "b"`}},
		{"no hub", Config{ConnectionString: "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=" + secret},
			[]string{"no EntityPath and no hub name"}},
		{"broken string", Config{ConnectionString: "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey" + secret}, []string{"connection string"}},
	} {
		_, err := New(context.Background(), tc.cfg)
		if err == nil {
			t.Errorf("%s: New succeeded, want an error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error %q contains the key", tc.name, err)
		}
	}
}

func TestRedact(t *testing.T) {
	s := &Sink{secrets: []string{"KEY123"}}
	inner := errors.New("bad token KEY123")
	err := s.wrap(fmt.Errorf("connecting: %w", inner))
	if strings.Contains(err.Error(), "KEY123") || !strings.Contains(err.Error(), "<redacted>") {
		t.Errorf("wrap kept the secret: %q", err)
	}
	if !errors.Is(err, inner) {
		t.Error("wrap lost the error chain")
	}
}

// snapshotBatch builds a batch the way the handler does: decode, transform, encode.
func snapshotBatch(t testing.TB, name string) flight.Batch {
	t.Helper()
	snap, err := opensky.Decode(recordings.Read(t, "states/"+name), opensky.LimitsAt(time.Now(), 0))
	if err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	b, err := flight.Encode(time.Unix(snap.Time, 0).UTC(), flight.Transform(snap))
	if err != nil {
		t.Fatalf("encoding %s: %v", name, err)
	}
	return b
}

func newSink(t *testing.T, ctx context.Context, cfg Config) *Sink {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.backoff = func() backoff { return retry.WithMaxRetries(5, retry.NewConstant(20*time.Millisecond)) }
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// checkDelivered reads back what was sent after marks and checks it against the batch: every
// record arrived as many times as it was sent (once, unless ids repeat in the snapshot), with its
// body, message id, content type and schema version; each aircraft is in one partition, the one
// the hash names, in snapshot order; and the report agrees.
func checkDelivered(t *testing.T, ctx context.Context, cs string, marks ehtest.Marks, b flight.Batch, skip map[string]bool, rep sink.Report) {
	t.Helper()
	got := ehtest.ReadFrom(ctx, t, cs, marks)
	ids := slices.Sorted(maps.Keys(got))

	want := map[string]int{}           // event id -> times sent
	wantOrder := map[string][]string{} // partition -> event ids in send order
	for _, r := range b.Records {
		if skip[r.ID] {
			continue
		}
		want[r.ID]++
		p := ids[partitionIndex(r.Key, len(ids))]
		wantOrder[p] = append(wantOrder[p], r.ID)
	}
	bodies := map[string]string{}
	for _, r := range b.Records {
		bodies[r.ID] = string(r.Body)
	}

	seen := map[string]int{}
	partitionOf := map[string]string{} // icao24 -> partition
	total := 0
	for _, p := range ids {
		var order []string
		for _, e := range got[p] {
			total++
			if e.MessageID == nil {
				t.Fatalf("partition %s: event without a message id: %s", p, e.Body)
			}
			id := *e.MessageID
			seen[id]++
			order = append(order, id)
			if e.ContentType == nil || *e.ContentType != flight.ContentType {
				t.Errorf("event %s: content type %v, want %s", id, e.ContentType, flight.ContentType)
			}
			if v := e.Properties[SchemaVersionProperty]; v != flight.SchemaVersion {
				t.Errorf("event %s: %s = %v, want %s", id, SchemaVersionProperty, v, flight.SchemaVersion)
			}
			if string(e.Body) != bodies[id] {
				t.Errorf("event %s: body differs from the one sent", id)
			}
			var ev struct {
				EventID string `json:"event_id"`
				ICAO24  string `json:"icao24"`
			}
			if err := json.Unmarshal(e.Body, &ev); err != nil || ev.EventID != id {
				t.Errorf("event %s: body is not the event (%v): %.80s", id, err, e.Body)
			}
			if prev, ok := partitionOf[ev.ICAO24]; ok && prev != p {
				t.Errorf("aircraft %s is in partitions %s and %s", ev.ICAO24, prev, p)
			}
			partitionOf[ev.ICAO24] = p
		}
		if !slices.Equal(order, wantOrder[p]) {
			t.Errorf("partition %s: %d events, not the %d sent in snapshot order", p, len(order), len(wantOrder[p]))
		}
	}
	for id, n := range want {
		if seen[id] != n {
			t.Errorf("event %s arrived %d times, want %d", id, seen[id], n)
		}
	}
	for id := range seen {
		if want[id] == 0 {
			t.Errorf("event %s arrived but was not sent", id)
		}
	}
	sent := len(b.Records) - len(skip)
	if total != sent || rep.Events != sent {
		t.Errorf("read %d events, report says %d, sent %d", total, rep.Events, sent)
	}
	sum := sink.PartitionReport{}
	for p, pr := range rep.Partitions {
		if pr.Events != len(got[p]) {
			t.Errorf("report: partition %s has %d events, %d were read", p, pr.Events, len(got[p]))
		}
		sum.Events += pr.Events
		sum.Batches += pr.Batches
		sum.Bytes += pr.Bytes
	}
	if sum.Events != rep.Events || sum.Batches != rep.Batches || sum.Bytes != rep.Bytes {
		t.Errorf("report totals %+v do not add up to its partitions %+v", rep, sum)
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestPublishRecordingsIntegration publishes each recorded snapshot through the real SDK to the
// local peer (or EVENTHUB_TEST_CONNECTION_STRING's hub) and reads every event back.
func TestPublishRecordingsIntegration(t *testing.T) {
	ctx := testContext(t)
	cs, _ := ehtest.Target(t, ehtest.Options{})
	s := newSink(t, ctx, Config{ConnectionString: cs})
	for _, rec := range recordings.States {
		t.Run(rec.Name, func(t *testing.T) {
			b := snapshotBatch(t, rec.Name)
			if len(b.Records) != rec.States {
				t.Fatalf("%s: %d records, want %d", rec.Name, len(b.Records), rec.States)
			}
			marks := ehtest.Mark(ctx, t, cs)
			rep, err := s.Publish(ctx, b)
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if rep.Bytes != b.Bytes() {
				t.Errorf("report: %d bytes, the batch has %d", rep.Bytes, b.Bytes())
			}
			t.Logf("%s: %d events in %d batches over %d partitions", rec.Name, rep.Events, rep.Batches, len(rep.Partitions))
			checkDelivered(t, ctx, cs, marks, b, nil, rep)
		})
	}
}

// TestPublishSmallMessagesIntegration sends the largest recording to a peer that allows 64 KB per
// message: more batches, none over the limit, nothing lost.
func TestPublishSmallMessagesIntegration(t *testing.T) {
	ctx := testContext(t)
	const limit = 64 * 1024
	p := ehtest.Start(t, ehtest.Options{MaxMessageSize: limit})
	cs := p.ConnectionString(ehtest.DefaultHub)
	s := newSink(t, ctx, Config{ConnectionString: cs, Concurrency: 2})
	b := snapshotBatch(t, "north-america-2025-01-31.json")
	rep, err := s.Publish(ctx, b)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if min := b.Bytes() / limit; rep.Batches <= min {
		t.Errorf("%d batches for %d bytes of events, want more than %d", rep.Batches, b.Bytes(), min)
	}
	st := p.Stats(t)
	if st.MaxTransferBytes > limit || st.RejectedTooLarge > 0 {
		t.Errorf("largest batch %d bytes (limit %d), %d rejected as too large", st.MaxTransferBytes, limit, st.RejectedTooLarge)
	}
	if st.Sends != rep.Batches {
		t.Errorf("peer got %d sends, report says %d batches", st.Sends, rep.Batches)
	}
	checkDelivered(t, ctx, cs, nil, b, nil, rep)
}

// TestPublishOversizedEventIntegration: an event larger than a message may be is reported by id,
// and the others are still delivered.
func TestPublishOversizedEventIntegration(t *testing.T) {
	ctx := testContext(t)
	p := ehtest.Start(t, ehtest.Options{MaxMessageSize: 1024})
	cs := p.ConnectionString(ehtest.DefaultHub)
	s := newSink(t, ctx, Config{ConnectionString: cs})

	snap, err := opensky.Decode(recordings.Read(t, "states/small-2018-02-13.json"), opensky.LimitsAt(time.Now(), 0))
	if err != nil {
		t.Fatal(err)
	}
	events := flight.Transform(snap)
	events[2].OriginCountry = strings.Repeat("x", 2000)
	b, err := flight.Encode(time.Unix(snap.Time, 0).UTC(), events)
	if err != nil {
		t.Fatal(err)
	}
	big := b.Records[2].ID
	rep, err := s.Publish(ctx, b)
	if err == nil {
		t.Fatal("Publish succeeded with an event over the message size limit")
	}
	if !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "too large") {
		t.Errorf("error %q does not name event %s as too large", err, big)
	}
	if !strings.Contains(err.Error(), "1 of 6 events not accepted") {
		t.Errorf("error %q does not count the event left out", err)
	}
	checkDelivered(t, ctx, cs, nil, b, map[string]bool{big: true}, rep)
}

// TestPublishFaultsIntegration: transient failures are retried and every event arrives once.
func TestPublishFaultsIntegration(t *testing.T) {
	b := snapshotBatch(t, "global-2021-10-17.json")
	for _, tc := range []struct {
		name    string
		opts    ehtest.Options
		control string // sent after New, before Publish
		check   func(t *testing.T, st ehtest.Stats)
	}{
		{"server busy", ehtest.Options{BusySends: 3}, "", func(t *testing.T, st ehtest.Stats) {
			if st.RejectedBusy != 3 {
				t.Errorf("%d sends rejected as busy, want 3", st.RejectedBusy)
			}
		}},
		{"connection dropped", ehtest.Options{}, "drop 2", func(t *testing.T, st ehtest.Stats) {
			if st.Drops != 1 {
				t.Errorf("%d drops, want 1", st.Drops)
			}
		}},
		{"send unanswered", ehtest.Options{}, "stall 1", func(t *testing.T, st ehtest.Stats) {
			if st.Stalled != 1 || st.Connections < 2 {
				t.Errorf("%d sends stalled, %d connections: want 1 stalled and a new connection", st.Stalled, st.Connections)
			}
		}},
		{"connection closed by the service", ehtest.Options{}, "close-all", func(t *testing.T, st ehtest.Stats) {
			if st.ForcedCloses < 1 {
				t.Errorf("%d forced closes, want at least 1", st.ForcedCloses)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			p := ehtest.Start(t, tc.opts)
			cs := p.ConnectionString(ehtest.DefaultHub)
			s := newSink(t, ctx, Config{ConnectionString: cs, SendTimeout: 2 * time.Second})
			if tc.control != "" {
				p.Control(t, tc.control)
			}
			rep, err := s.Publish(ctx, b)
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			tc.check(t, p.Stats(t))
			checkDelivered(t, ctx, cs, nil, b, nil, rep)
		})
	}
}

// TestPublishDeadlineIntegration: when the hub never answers, Publish returns by the caller's
// deadline with an error saying so, instead of hanging.
func TestPublishDeadlineIntegration(t *testing.T) {
	p := ehtest.Start(t, ehtest.Options{})
	s := newSink(t, testContext(t), Config{ConnectionString: p.ConnectionString(ehtest.DefaultHub), SendTimeout: 500 * time.Millisecond})
	p.Control(t, "stall 1000")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	b := snapshotBatch(t, "small-2018-02-13.json")
	start := time.Now()
	_, err := s.Publish(ctx, b)
	t.Logf("Publish returned after %v: %v", time.Since(start), err)
	if err == nil {
		t.Fatal("Publish succeeded though no send was answered")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Publish took %v, past its 3s deadline", d)
	}
	if !strings.Contains(err.Error(), "no answer from Event Hubs") {
		t.Errorf("error %q does not say the hub did not answer", err)
	}
}

// TestNewUnknownHubIntegration: a wrong hub name fails New with the hub named and no key shown.
func TestNewUnknownHubIntegration(t *testing.T) {
	p := ehtest.Start(t, ehtest.Options{})
	const key = "dGhlLWtleS12YWx1ZQ=="
	cs := strings.Replace(p.ConnectionString("nope"), "SharedAccessKey=y", "SharedAccessKey="+key, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := New(ctx, Config{ConnectionString: cs})
	if err == nil {
		t.Fatal("New succeeded for a hub that does not exist")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "connecting to Event Hub nope") || strings.Contains(err.Error(), key) {
		t.Errorf("error %q: want it to name hub nope and not show the key", err)
	}
}

// TestStalledConnectionReplacedAtDeadlineIntegration: a tick whose deadline (shorter than the
// send timeout) ends a try on a connection that went silent replaces the producer, so the next
// tick goes out on a new connection and succeeds instead of hanging on the dead one.
func TestStalledConnectionReplacedAtDeadlineIntegration(t *testing.T) {
	p := ehtest.Start(t, ehtest.Options{})
	x := ehtest.StartProxy(t, p)
	s := newSink(t, testContext(t), Config{ConnectionString: x.ConnectionString(ehtest.DefaultHub)})
	b := snapshotBatch(t, "small-2018-02-13.json")
	publish := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := s.Publish(ctx, b)
		return err
	}
	if err := publish(10 * time.Second); err != nil {
		t.Fatalf("first tick: %v", err)
	}
	x.Stall()
	// The tick's deadline, well under the 30 s send timeout, ends the stalled try.
	if err := publish(time.Second); err == nil {
		t.Fatal("a tick on a silent connection succeeded")
	}
	start := time.Now()
	if err := publish(10 * time.Second); err != nil {
		t.Fatalf("the tick after the stalled one: %v (after %v, %d connections)", err, time.Since(start).Round(time.Millisecond), x.Connections())
	}
	if n := x.Connections(); n != 2 {
		t.Errorf("%d connections, want 2: the stalled one and its replacement", n)
	}
}

// TestCloseStalledConnectionIntegration: Close returns by its context's deadline even when the
// connection went silent while a send was opening its link (which the SDK does under a lock that
// Close needs too).
func TestCloseStalledConnectionIntegration(t *testing.T) {
	p := ehtest.Start(t, ehtest.Options{})
	x := ehtest.StartProxy(t, p)
	s, err := New(testContext(t), Config{ConnectionString: x.ConnectionString(ehtest.DefaultHub), Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	x.Stall()
	pubCtx, cancelPub := context.WithCancel(context.Background())
	defer cancelPub()
	published := make(chan error, 1)
	go func() {
		_, err := s.Publish(pubCtx, snapshotBatch(t, "small-2018-02-13.json"))
		published <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); x.Swallowed() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the publish sent nothing on the stalled connection")
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Close(ctx)
	took := time.Since(start)
	t.Logf("Close returned after %v: %v", took.Round(time.Millisecond), err)
	if took > 1500*time.Millisecond {
		t.Errorf("Close took %v with a 500ms deadline", took)
	}
	if err == nil || !strings.Contains(err.Error(), "no clean close") {
		t.Errorf("Close on a silent connection: err = %v, want it to say it gave up", err)
	}
	cancelPub()
	<-published
}

// TestPublishManyOversizedEventsIntegration: when many events are too large, the error names the
// first few of each partition and counts the rest, instead of listing every id in one line.
func TestPublishManyOversizedEventsIntegration(t *testing.T) {
	ctx := testContext(t)
	p := ehtest.Start(t, ehtest.Options{MaxMessageSize: 1024})
	s := newSink(t, ctx, Config{ConnectionString: p.ConnectionString(ehtest.DefaultHub)})
	const n = 2000
	events := make([]flight.Event, n)
	for i := range events {
		icao := fmt.Sprintf("%06x", i)
		events[i] = flight.Event{ICAO24: icao, OriginCountry: strings.Repeat("x", 1500)}
		events[i].EventID = flight.EventID(&events[i])
	}
	b, err := flight.Encode(time.Unix(1, 0).UTC(), events)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Publish(ctx, b)
	if err == nil {
		t.Fatal("Publish succeeded with every event over the message size limit")
	}
	msg := err.Error()
	t.Logf("error (%d bytes): %s", len(msg), msg)
	if !strings.Contains(msg, fmt.Sprintf("%d of %d events not accepted", n, n)) || !strings.Contains(msg, b.Records[0].ID) || !strings.Contains(msg, "more") {
		t.Errorf("the error does not count the events, name the first, and say there are more: %.300s", msg)
	}
	// Four partitions, each naming 5 ids of about 30 bytes: well under 2 KB, where the full list
	// would be about 60 KB.
	if len(msg) > 2048 {
		t.Errorf("the error is %d bytes long", len(msg))
	}
}

// syntheticBatch is n events of distinct aircraft, about 400 bytes each.
func syntheticBatch(t testing.TB, n int) flight.Batch {
	t.Helper()
	events := make([]flight.Event, n)
	for i := range events {
		icao := fmt.Sprintf("%06x", i)
		events[i] = flight.Event{ICAO24: icao, OriginCountry: "Kingdom of the Netherlands"}
		events[i].EventID = flight.EventID(&events[i])
	}
	b, err := flight.Encode(time.Unix(1, 0).UTC(), events)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSlowLinkSucceedsIntegration: on a link too slow for the batches in flight to finish within
// the send timeout, but moving, the tries are not cut and resent: the publish succeeds, each
// event stored once. (Scaled down from 50 KB/s, 1 MB messages and a 30 s send timeout: 64 KB/s
// with 32 KB messages and a 1 s send timeout, where four batches in flight take 2 s.)
func TestSlowLinkSucceedsIntegration(t *testing.T) {
	ctx := testContext(t)
	p := ehtest.Start(t, ehtest.Options{MaxMessageSize: 32 << 10})
	x := ehtest.StartProxy(t, p)
	s := newSink(t, ctx, Config{ConnectionString: x.ConnectionString(ehtest.DefaultHub), SendTimeout: time.Second})
	const n = 600
	b := syntheticBatch(t, n)
	x.Throttle(64 << 10)
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	start := time.Now()
	rep, err := s.Publish(pctx, b)
	t.Logf("%d bytes in %d batches over %v: %v", b.Bytes(), rep.Batches, time.Since(start).Round(time.Millisecond), err)
	if err != nil {
		t.Fatalf("Publish on a slow link: %v", err)
	}
	if st := p.Stats(t); st.Accepted != n || rep.Events != n {
		t.Errorf("the peer stored %d events, the report says %d, for %d: tries were cut and resent", st.Accepted, rep.Events, n)
	}
}

// TestLinksOpenedInBackgroundIntegration: once New has connected, the partitions' links are
// opened in the background, so that the first publish does not pay for them one after another.
func TestLinksOpenedInBackgroundIntegration(t *testing.T) {
	ctx := testContext(t)
	p := ehtest.Start(t, ehtest.Options{Partitions: 4})
	newSink(t, ctx, Config{ConnectionString: p.ConnectionString(ehtest.DefaultHub)})
	var st ehtest.Stats
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if st = p.Stats(t); st.ProducerLinks >= 4 || time.Now().After(deadline) {
			break
		}
	}
	if st.ProducerLinks != 4 || st.Sends != 0 {
		t.Errorf("%d producer links open and %d sends after New, want the 4 partitions' links and no send", st.ProducerLinks, st.Sends)
	}
}

// BenchmarkFirstPublishOverLatency measures the first publish after connecting on a link with a
// 50 ms round trip (ehtest.Proxy), some time after New returned, as when the first tick fetches
// from OpenSky (half a second) or comes later (three seconds): first-ms is that publish,
// second-ms the next one, which finds every link open. Without opening the links in the
// background the first pays for the partitions' links one after another.
func BenchmarkFirstPublishOverLatency(b *testing.B) {
	p := ehtest.Start(b, ehtest.Options{})
	x := ehtest.StartProxy(b, p)
	x.Delay(25 * time.Millisecond)
	batch := syntheticBatch(b, 400) // every partition, a batch each
	ctx := context.Background()
	for _, gap := range []time.Duration{500 * time.Millisecond, 3 * time.Second} {
		b.Run("after="+gap.String(), func(b *testing.B) {
			var first, second time.Duration
			for b.Loop() {
				s, err := New(ctx, Config{ConnectionString: x.ConnectionString(ehtest.DefaultHub), Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					b.Fatal(err)
				}
				time.Sleep(gap) // until the first tick publishes
				start := time.Now()
				if _, err := s.Publish(ctx, batch); err != nil {
					b.Fatal(err)
				}
				first += time.Since(start)
				start = time.Now()
				if _, err := s.Publish(ctx, batch); err != nil {
					b.Fatal(err)
				}
				second += time.Since(start)
				_ = s.Close(ctx)
			}
			b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "first-ms")
			b.ReportMetric(float64(second.Milliseconds())/float64(b.N), "second-ms")
		})
	}
}

// TestRetiredProducersAreForgotten: a producer replaced after a timeout is closed a send timeout
// later and then dropped, so that a long-running handler on a flaky link does not keep every
// client it ever replaced.
func TestRetiredProducersAreForgotten(t *testing.T) {
	const cs = "Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=k;SharedAccessKey=0123456789;EntityPath=hub"
	s := &Sink{sendTimeout: time.Millisecond, log: slog.New(slog.DiscardHandler)}
	s.newProducer = func() (*azeventhubs.ProducerClient, error) {
		return azeventhubs.NewProducerClientFromConnectionString(cs, "", nil) // connects lazily: never, here
	}
	if err := s.firstProducer(); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		s.replaceProducer(s.client())
	}
	n := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		s.mu.Lock()
		n = len(s.retired)
		s.mu.Unlock()
		if n == 0 {
			break
		}
	}
	if n != 0 {
		t.Errorf("%d replaced producers still held after their close", n)
	}
	_ = s.Close(context.Background())
}
