package view

import (
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultQuiet is how long Ingest waits after the last event of a snapshot before showing it,
// when no newer snapshot has begun.
const DefaultQuiet = time.Second

// Published is a snapshot as served: its aggregates and its encoded answers, made once.
type Published struct {
	Snapshot
	GeoJSON []byte // GET /api/snapshot
	Stats   []byte // GET /api/stats
}

// Store holds the latest snapshot and tells subscribers when a new one is published. Sources feed
// it with Ingest (event by event, as read from a file or a hub) or Replace (a whole snapshot, as a
// tick has it). It is safe for concurrent use.
type Store struct {
	log   *slog.Logger
	quiet time.Duration

	mu      sync.Mutex
	cur     *Published
	pending []Event   // events of the snapshot being assembled
	pendT   time.Time // its snapshot_time; zero when nothing is pending
	late    int       // events dropped since the last publish because a newer snapshot had begun
	timer   *time.Timer
	subs    map[chan struct{}]struct{}
}

// NewStore returns an empty store. quiet is how long Ingest waits for more events of a snapshot
// before publishing it (DefaultQuiet when 0).
func NewStore(log *slog.Logger, quiet time.Duration) *Store {
	if quiet <= 0 {
		quiet = DefaultQuiet
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	empty := &Published{}
	empty.GeoJSON, empty.Stats = empty.Snapshot.GeoJSON(), empty.Snapshot.statsJSON()
	return &Store{log: log, quiet: quiet, cur: empty, subs: map[chan struct{}]struct{}{}}
}

// Current returns the latest published snapshot (an empty one before the first).
func (s *Store) Current() *Published {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Ingest adds one event (its JSON body; Ingest keeps a copy) to the snapshot of its
// snapshot_time. Events arrive grouped by snapshot: an event of a newer snapshot publishes the one
// being assembled and starts the next; a snapshot is also published once no event has come for
// the quiet period. An event of a snapshot older than the newest begun is dropped and counted in
// the log, since the map shows only the latest.
func (s *Store) Ingest(body []byte) error {
	e, err := ParseEvent(body)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := e.SnapshotTime
	switch {
	case s.pendT.IsZero() && t.Equal(s.cur.Time):
		// More of the snapshot already shown (a slow writer, or a partition that lagged): go on
		// assembling it from what is shown.
		s.pendT = t
		s.pending = append(make([]Event, 0, len(s.cur.Aircraft)+1), s.cur.Aircraft...)
		s.pending = append(s.pending, s.cur.Emergencies...) // event_id dedupe drops the repeats
	case s.pendT.IsZero() && t.Before(s.cur.Time), !s.pendT.IsZero() && t.Before(s.pendT):
		s.late++
		return nil
	case !s.pendT.IsZero() && t.After(s.pendT):
		s.publishPendingLocked()
		fallthrough
	case s.pendT.IsZero():
		s.pendT = t
	}
	s.pending = append(s.pending, e)
	if s.timer == nil {
		s.timer = time.AfterFunc(s.quiet, s.flush)
	} else {
		s.timer.Reset(s.quiet)
	}
	return nil
}

// flush publishes the snapshot being assembled, after the quiet period.
func (s *Store) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publishPendingLocked()
}

func (s *Store) publishPendingLocked() {
	if s.pendT.IsZero() {
		return
	}
	snap := Aggregate(s.pendT, s.pending)
	s.pending, s.pendT = nil, time.Time{}
	s.publishLocked(snap)
}

// Replace publishes a whole snapshot at once: the events (JSON bodies; Replace keeps copies) of
// the snapshot taken at t, unless a newer one is shown. Any snapshot Ingest was assembling that is
// not newer is dropped.
func (s *Store) Replace(t time.Time, bodies [][]byte) error {
	events := make([]Event, len(bodies))
	for i, b := range bodies {
		e, err := ParseEvent(b)
		if err != nil {
			return fmt.Errorf("event %d of snapshot %s: %w", i, t.Format(time.RFC3339), err)
		}
		if !e.SnapshotTime.Equal(t) {
			return fmt.Errorf("event %s has snapshot_time %s in the snapshot of %s", e.EventID, e.SnapshotTime.Format(time.RFC3339), t.Format(time.RFC3339))
		}
		events[i] = e
	}
	snap := Aggregate(t.UTC(), events)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.Before(s.cur.Time) {
		// A past-due tick can fetch an earlier snapshot than the one shown; the map shows the latest.
		s.log.Info("view: an older snapshot than the one shown is not shown", slog.Time("snapshot_time", t), slog.Time("shown", s.cur.Time))
		return nil
	}
	if !s.pendT.IsZero() && !s.pendT.After(t) {
		s.pending, s.pendT = nil, time.Time{}
	}
	s.publishLocked(snap)
	return nil
}

func (s *Store) publishLocked(snap Snapshot) {
	p := &Published{Snapshot: snap, GeoJSON: snap.GeoJSON(), Stats: snap.statsJSON()}
	s.cur = p
	attrs := []any{slog.Time("snapshot_time", snap.Time), slog.Int("aircraft", len(snap.Aircraft)), slog.Int("emergencies", len(snap.Emergencies))}
	if s.late > 0 {
		attrs = append(attrs, slog.Int("late_events_dropped", s.late))
	}
	s.log.Info("view: snapshot", attrs...)
	s.late = 0
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default: // the subscriber has a notice it has not read yet; it reads the latest then
		}
	}
}

// Subscribe returns a channel that receives a notice after each publish (notices that come
// before the last is read are merged into it), and a function that ends the subscription.
func (s *Store) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}
}
