package eventhub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"golang.org/x/sync/errgroup"
)

// From is where reading starts in every partition. The zero From is "latest": only events
// enqueued after reading begins.
type From struct {
	// Earliest reads each partition from its first retained event.
	Earliest bool
	// Time, when not zero, reads the events enqueued at or after it.
	Time time.Time

	// pinned holds, once Pin has run, the last sequence number of each partition at that moment
	// (-1 for an empty partition): "latest" then means after it.
	pinned map[string]int64
}

// ParseFrom reads a --from value: "start" (every retained event), "latest" (only new events) or
// an RFC 3339 time such as 2026-11-27T15:04:05Z (events enqueued at or after it).
func ParseFrom(s string) (From, error) {
	switch s {
	case "start":
		return From{Earliest: true}, nil
	case "latest":
		return From{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return From{}, fmt.Errorf("--from %q: want start, latest or an RFC 3339 time such as 2026-11-27T15:04:05Z", s)
	}
	return From{Time: t}, nil
}

// String gives the --from value f was parsed from.
func (f From) String() string {
	switch {
	case f.Earliest:
		return "start"
	case !f.Time.IsZero():
		return f.Time.Format(time.RFC3339)
	}
	return "latest"
}

// Pin fixes "latest" to the partitions' last events now, so that events enqueued after Pin
// returns are read by a later Consume, however long its links take to open (they open lazily).
// Other positions are returned as they are. Consume pins an unpinned "latest" itself; a caller
// that must know when reading starts (a test, a "ready" message) calls Pin first.
func (f From) Pin(ctx context.Context, client *azeventhubs.ConsumerClient) (From, error) {
	if f.Earliest || !f.Time.IsZero() || f.pinned != nil {
		return f, nil
	}
	ids, err := partitionIDsOf(ctx, client)
	if err != nil {
		return From{}, err
	}
	f.pinned = make(map[string]int64, len(ids))
	for _, id := range ids {
		p, err := client.GetPartitionProperties(ctx, id, nil)
		if err != nil {
			return From{}, fmt.Errorf("reading the properties of partition %s: %w", id, err)
		}
		f.pinned[id] = -1
		if !p.IsEmpty {
			f.pinned[id] = p.LastEnqueuedSequenceNumber
		}
	}
	return f, nil
}

// position is where partition id starts.
func (f From) position(id string) azeventhubs.StartPosition {
	switch {
	case f.Earliest:
		return azeventhubs.StartPosition{Earliest: to(true)}
	case !f.Time.IsZero():
		return azeventhubs.StartPosition{EnqueuedTime: to(f.Time), Inclusive: true}
	}
	seq, ok := f.pinned[id]
	switch {
	case !ok: // a partition added since Pin: all of it is new
		return azeventhubs.StartPosition{Earliest: to(true)}
	case seq < 0:
		return azeventhubs.StartPosition{Earliest: to(true)}
	}
	return azeventhubs.StartPosition{SequenceNumber: to(seq)}
}

// receiveWindow bounds one ReceiveEvents call while events are coming, as it otherwise waits for
// its full count: a snapshot's last events in a partition are handed over within this time.
const receiveWindow = 50 * time.Millisecond

// receiveCount is the most events one ReceiveEvents call returns, and the prefetch: a whole
// snapshot's share of a partition (about 1,400 of the world's 5,500 over 4 partitions) arrives in
// a couple of calls instead of the default 300's five or more.
const receiveCount = 1000

// consumeCloseTimeout bounds closing a partition's link once reading has stopped: a close waits
// for the service's answer, which a connection gone silent never brings, and Ctrl-C must end
// handler tail and handler view all the same.
const consumeCloseTimeout = 3 * time.Second

// Consume reads every partition of client's hub at once, from from, and calls fn with each
// event's body, one call at a time (fn needs no locking), in order within a partition. It returns
// nil when ctx is done (a few seconds later at most, however the connection fares), fn's error
// when fn fails (reading stops), or the error that stopped a partition. The body must not be kept
// after fn returns.
func Consume(ctx context.Context, client *azeventhubs.ConsumerClient, from From, fn func(body []byte) error) error {
	from, err := from.Pin(ctx, client)
	if err != nil {
		return ignoreDone(ctx, err)
	}
	ids, err := partitionIDsOf(ctx, client)
	if err != nil {
		return ignoreDone(ctx, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	var mu sync.Mutex
	for _, id := range ids {
		g.Go(func() error {
			pc, err := client.NewPartitionClient(id, &azeventhubs.PartitionClientOptions{StartPosition: from.position(id), Prefetch: receiveCount})
			if err != nil {
				return fmt.Errorf("opening partition %s: %w", id, err)
			}
			defer func() {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), consumeCloseTimeout)
				defer cancel()
				_ = pc.Close(cctx)
			}()
			idle := true
			for gctx.Err() == nil {
				var events []*azeventhubs.ReceivedEventData
				var err error
				if idle {
					// Wait for the next event with no deadline of our own: the link opens (or
					// reopens) inside this call, and a short deadline would cut its claim
					// negotiation off again and again.
					events, err = pc.ReceiveEvents(gctx, 1, nil)
				} else {
					// Events are coming: take what is there, up to receiveCount, within a window.
					rctx, cancel := context.WithTimeout(gctx, receiveWindow)
					events, err = pc.ReceiveEvents(rctx, receiveCount, nil)
					cancel()
				}
				if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
					return fmt.Errorf("reading partition %s: %w", id, err)
				}
				idle = len(events) == 0
				if err := deliver(gctx, &mu, events, fn); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// deliver hands events to fn under mu, stopping at fn's first error or when ctx is done.
func deliver(ctx context.Context, mu *sync.Mutex, events []*azeventhubs.ReceivedEventData, fn func([]byte) error) error {
	if len(events) == 0 {
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range events {
		if ctx.Err() != nil {
			return nil
		}
		if err := fn(e.Body); err != nil {
			return err
		}
	}
	return nil
}

func partitionIDsOf(ctx context.Context, client *azeventhubs.ConsumerClient) ([]string, error) {
	props, err := client.GetEventHubProperties(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the hub's partitions: %w", err)
	}
	return sortPartitionIDs(props.PartitionIDs), nil
}

// ignoreDone turns an error caused by ctx ending into nil.
func ignoreDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// NewConsumerClient connects to the hub cfg names exactly as the sink does (a connection string,
// or Namespace and HubName with a Microsoft Entra credential, AZURE_CLIENT_ID's identity first),
// to read as consumerGroup (azeventhubs.DefaultConsumerGroup when empty). Only cfg's hub and
// credential fields are used. The caller closes the client.
func NewConsumerClient(cfg Config, consumerGroup string) (*azeventhubs.ConsumerClient, error) {
	if consumerGroup == "" {
		consumerGroup = azeventhubs.DefaultConsumerGroup
	}
	ep, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	opts := &azeventhubs.ConsumerClientOptions{ApplicationID: applicationID}
	var cc *azeventhubs.ConsumerClient
	if ep.connString != "" {
		cc, err = azeventhubs.NewConsumerClientFromConnectionString(ep.connString, ep.hub, consumerGroup, opts)
	} else {
		cc, err = azeventhubs.NewConsumerClient(ep.namespace, ep.hub, consumerGroup, ep.cred, opts)
	}
	if err != nil {
		return nil, redact(ep.secrets, fmt.Errorf("connecting to Event Hub %s: %w", ep.target, err))
	}
	return cc, nil
}

func to[T any](v T) *T { return &v }
