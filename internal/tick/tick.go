// Package tick runs one tick of the pipeline: fetch one OpenSky snapshot, decode and transform
// it, and publish every event through a sink. A tick either publishes the whole snapshot or
// returns an error; it never reports success with events missing.
package tick

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/sink"
)

// Source fetches one raw /states/all answer. It retries transient failures itself, within ctx.
type Source interface {
	States(ctx context.Context, q opensky.Query) (opensky.Fetched, error)
}

// Publisher publishes one snapshot's events. It blocks until every event is acknowledged or ctx
// is done, and returns an error unless every event was published. It must not keep b, or anything
// b points into, after it returns: the next tick reuses b's buffers.
type Publisher interface {
	Publish(ctx context.Context, b flight.Batch) (sink.Report, error)
}

// Runner runs ticks. Its fields are set once; Tick is safe for concurrent use.
type Runner struct {
	Source        Source
	Sink          Publisher
	SinkName      string
	Query         opensky.Query
	Authenticated bool
	// Timeout bounds one tick, fetch and publish together (OPENSKY_TICK_TIMEOUT).
	Timeout time.Duration
	// LowCredits is the X-Rate-Limit-Remaining below which a tick warns.
	LowCredits int
	// MaxStates is the most states a snapshot may have (0: no cap), and MaxStatesHint what to do
	// about a larger one; both come from config (memory).
	MaxStates     int
	MaxStatesHint string
	Now           func() time.Time
	// Observe, when set, is called with each snapshot's records after they are all published
	// (the local view shows them). It runs in the tick and must not keep records, whose buffers
	// the next tick reuses.
	Observe func(snapshotTime time.Time, records []flight.Record)

	mu           sync.Mutex
	blockedUntil time.Time
	spare        *flight.Encoder // the last tick's, with its buffers; nil while a tick has it
}

// Request is what the trigger says about one tick.
type Request struct {
	Scheduled time.Time // zero when unknown
	IsPastDue bool
}

// Summary is the outcome of one tick: the ReturnValue of the invocation. EventsPublished counts
// the events the sink accepted: all of the snapshot's on success, and on a failed publish those
// accepted before it failed.
type Summary struct {
	SnapshotTime     *time.Time                      `json:"snapshot_time"`
	StatesReceived   int                             `json:"states_received"`
	StatesRejected   int                             `json:"states_rejected"`
	RejectedByField  map[string]int                  `json:"rejected_by_field,omitempty"`
	EventsPublished  int                             `json:"events_published"`
	Batches          int                             `json:"batches"`
	Bytes            int                             `json:"bytes"`
	Partitions       map[string]sink.PartitionReport `json:"partitions,omitempty"`
	Sink             string                          `json:"sink"`
	CreditsRemaining *int                            `json:"credits_remaining"`
	Attempts         int                             `json:"attempts"`
	PastDue          bool                            `json:"past_due"`
	Skipped          string                          `json:"skipped,omitempty"`
	DurationMS       int64                           `json:"duration_ms"`
	Warnings         []string                        `json:"warnings,omitempty"`
}

// Line is the one-line summary of a tick.
func (s Summary) Line() string {
	if s.Skipped != "" {
		return "tick skipped: " + s.Skipped
	}
	var b strings.Builder
	snap := "?"
	if s.SnapshotTime != nil {
		snap = s.SnapshotTime.Format(time.RFC3339)
	}
	fmt.Fprintf(&b, "tick ok: snapshot %s, %d states, %d rejected, %d events in %d batch(es) (%d bytes) to %s",
		snap, s.StatesReceived, s.StatesRejected, s.EventsPublished, s.Batches, s.Bytes, s.Sink)
	if s.CreditsRemaining != nil {
		fmt.Fprintf(&b, ", %d credits left", *s.CreditsRemaining)
	}
	fmt.Fprintf(&b, ", %dms", s.DurationMS)
	return b.String()
}

// maxRejectionWarnings bounds how many rejected states are named one by one in a tick's warnings.
const maxRejectionWarnings = 5

// Tick runs one tick within r.Timeout. The returned summary is filled as far as the tick got,
// also when it fails.
func (r *Runner) Tick(ctx context.Context, req Request) (Summary, error) {
	now := r.now()
	start := now
	sum := Summary{Sink: r.SinkName, PastDue: req.IsPastDue}
	finish := func(err error) (Summary, error) {
		sum.DurationMS = r.now().Sub(start).Milliseconds()
		return sum, err
	}

	if until, blocked := r.blocked(now); blocked {
		sum.Skipped = fmt.Sprintf("OpenSky credits are used up until %s (it answered 429 with a retry-after); not calling it again before then", until.Format(time.RFC3339))
		return finish(nil)
	}
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}

	q := r.Query
	if req.IsPastDue {
		switch {
		case !r.Authenticated:
			sum.Warnings = append(sum.Warnings, "tick is past due; anonymous callers cannot ask OpenSky for an earlier time, so this publishes the current snapshot and the scheduled one is skipped")
		case req.Scheduled.IsZero():
			sum.Warnings = append(sum.Warnings, "tick is past due but the host gave no scheduled time; publishing the current snapshot")
		case now.Sub(req.Scheduled) > 55*time.Minute:
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("tick is past due by %s, more than OpenSky keeps (1 hour); publishing the current snapshot, the scheduled one is skipped", now.Sub(req.Scheduled).Round(time.Second)))
		default:
			q.Time = req.Scheduled.Unix()
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("tick is past due; fetching the snapshot for its scheduled time %s", req.Scheduled.UTC().Format(time.RFC3339)))
		}
	}

	fetched, err := r.Source.States(ctx, q)
	sum.Attempts = fetched.Attempts
	if fetched.Remaining >= 0 && (err == nil || fetched.Body != nil) {
		rem := fetched.Remaining
		sum.CreditsRemaining = &rem
	}
	if err != nil {
		var oe *opensky.Error
		if errors.As(err, &oe) {
			if oe.Remaining >= 0 {
				rem := oe.Remaining
				sum.CreditsRemaining = &rem
			}
			if oe.Status == 429 && oe.RetryAfter > 0 {
				r.block(r.now().Add(oe.RetryAfter))
			}
		}
		return finish(err)
	}
	if sum.CreditsRemaining != nil && r.LowCredits > 0 && *sum.CreditsRemaining < r.LowCredits {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("only %d OpenSky credits left today; ticks will fail with 429 when they run out", *sum.CreditsRemaining))
	}

	snap, err := opensky.Decode(fetched.Body, opensky.LimitsAt(now, r.MaxStates))
	if err != nil {
		if errors.Is(err, opensky.ErrTooManyStates) && r.MaxStatesHint != "" {
			err = fmt.Errorf("%w; %s", err, r.MaxStatesHint)
		}
		return finish(fmt.Errorf("decoding OpenSky answer (%d bytes): %w", len(fetched.Body), err))
	}
	snapTime := time.Unix(snap.Time, 0).UTC()
	sum.SnapshotTime = &snapTime
	sum.StatesReceived = len(snap.States) + len(snap.Rejected)
	sum.StatesRejected = len(snap.Rejected)
	if len(snap.Rejected) > 0 {
		sum.RejectedByField = map[string]int{}
		for i, rej := range snap.Rejected {
			sum.RejectedByField[rej.Field]++
			if i < maxRejectionWarnings {
				sum.Warnings = append(sum.Warnings, "rejected "+rej.String())
			}
		}
		if n := len(snap.Rejected) - maxRejectionWarnings; n > 0 {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("... and %d more rejected states (by field: %s)", n, fieldCounts(sum.RejectedByField)))
		}
	}

	enc := r.encoder()
	defer r.putEncoder(enc)
	batch, err := enc.Encode(snapTime, flight.Transform(snap))
	if err != nil {
		return finish(err)
	}
	rep, err := r.Sink.Publish(ctx, batch)
	// Also when the publish fails: what was accepted before the failure is in the sink (and may
	// come again with the next try), and the failure's summary must not say nothing was.
	sum.EventsPublished, sum.Batches, sum.Bytes, sum.Partitions = rep.Events, rep.Batches, rep.Bytes, rep.Partitions
	if err != nil {
		return finish(fmt.Errorf("publishing %d events to %s: %w", len(batch.Records), r.SinkName, err))
	}
	if rep.Events != len(batch.Records) {
		// A sink that returns no error must have published everything; say so loudly if not.
		return finish(fmt.Errorf("publishing to %s: sink reported %d of %d events published", r.SinkName, rep.Events, len(batch.Records)))
	}
	if r.Observe != nil {
		r.Observe(snapTime, batch.Records)
	}
	return finish(nil)
}

// encoder lends out the Encoder the last tick used, so that its buffers serve this snapshot too,
// or a new one while another tick (a concurrent invocation) has it: ticks never share buffers.
func (r *Runner) encoder() *flight.Encoder {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.spare
	r.spare = nil
	if e == nil {
		e = new(flight.Encoder)
	}
	return e
}

// putEncoder keeps e for the next tick, once nothing uses its batch any more.
func (r *Runner) putEncoder(e *flight.Encoder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spare = e
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) blocked(now time.Time) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blockedUntil, now.Before(r.blockedUntil)
}

func (r *Runner) block(until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if until.After(r.blockedUntil) {
		r.blockedUntil = until
	}
}

func fieldCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// LogAttrs are the summary's fields for a structured log line.
func (s Summary) LogAttrs() []slog.Attr {
	attrs := []slog.Attr{
		slog.Int("states", s.StatesReceived),
		slog.Int("rejected", s.StatesRejected),
		slog.Int("events", s.EventsPublished),
		slog.Int("batches", s.Batches),
		slog.Int("bytes", s.Bytes),
		slog.Int64("duration_ms", s.DurationMS),
		slog.Bool("past_due", s.PastDue),
	}
	if s.CreditsRemaining != nil {
		attrs = append(attrs, slog.Int("credits_remaining", *s.CreditsRemaining))
	}
	return attrs
}
