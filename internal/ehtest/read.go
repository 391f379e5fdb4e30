package ehtest

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
)

// receiveWindow bounds one ReceiveEvents call, so a reader notices a cancelled test context; the
// loop itself ends when a partition has caught up, not after a fixed wait.
const receiveWindow = 5 * time.Second

// Marks are the last enqueued sequence number of each partition at one moment (-1 when empty).
// Reading from marks returns only what was sent after them, which keeps tests right on a shared
// hub (the emulator or a real namespace) that still holds earlier runs' events.
type Marks map[string]int64

// Mark records the last enqueued sequence number of every partition of the hub.
func Mark(ctx context.Context, t testing.TB, connString string) Marks {
	t.Helper()
	cc := newConsumer(t, connString)
	defer cc.Close(context.WithoutCancel(ctx))
	ids := partitionIDs(ctx, t, cc)
	marks := make(Marks, len(ids))
	for _, id := range ids {
		props, err := cc.GetPartitionProperties(ctx, id, nil)
		if err != nil {
			t.Fatalf("getting properties of partition %s: %v", id, err)
		}
		marks[id] = lastSequence(props)
	}
	return marks
}

// ReadAll reads every event of every partition of the hub from the earliest one, and returns them
// by partition id, in order.
func ReadAll(ctx context.Context, t testing.TB, connString string) map[string][]*azeventhubs.ReceivedEventData {
	t.Helper()
	return ReadFrom(ctx, t, connString, nil)
}

// ReadFrom reads every event enqueued after marks (all of them for a partition without a mark)
// with the SDK's consumer, partition by partition, until each partition has caught up with the
// last enqueued sequence number its properties gave when reading began. Events sent meanwhile may
// or may not be included.
func ReadFrom(ctx context.Context, t testing.TB, connString string, marks Marks) map[string][]*azeventhubs.ReceivedEventData {
	t.Helper()
	cc := newConsumer(t, connString)
	defer cc.Close(context.WithoutCancel(ctx))
	out := map[string][]*azeventhubs.ReceivedEventData{}
	for _, id := range partitionIDs(ctx, t, cc) {
		props, err := cc.GetPartitionProperties(ctx, id, nil)
		if err != nil {
			t.Fatalf("getting properties of partition %s: %v", id, err)
		}
		from, ok := marks[id]
		if !ok {
			from = -1
		}
		last := lastSequence(props)
		if last <= from {
			out[id] = nil
			continue
		}
		out[id] = readPartition(ctx, t, cc, id, from, last)
	}
	return out
}

func readPartition(ctx context.Context, t testing.TB, cc *azeventhubs.ConsumerClient, id string, from, last int64) []*azeventhubs.ReceivedEventData {
	t.Helper()
	start := azeventhubs.StartPosition{Earliest: to(true)}
	if from >= 0 {
		start = azeventhubs.StartPosition{SequenceNumber: to(from)}
	}
	pc, err := cc.NewPartitionClient(id, &azeventhubs.PartitionClientOptions{StartPosition: start})
	if err != nil {
		t.Fatalf("opening partition %s: %v", id, err)
	}
	defer pc.Close(context.WithoutCancel(ctx))
	var events []*azeventhubs.ReceivedEventData
	seen := from
	for seen < last {
		rctx, cancel := context.WithTimeout(ctx, receiveWindow)
		got, err := pc.ReceiveEvents(rctx, int(last-seen), nil)
		cancel()
		if err != nil && !(errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil) {
			t.Fatalf("reading partition %s after sequence number %d (want up to %d): %v", id, seen, last, err)
		}
		for _, e := range got {
			if e.SequenceNumber > last {
				return events
			}
			events = append(events, e)
			seen = e.SequenceNumber
		}
	}
	return events
}

func newConsumer(t testing.TB, connString string) *azeventhubs.ConsumerClient {
	t.Helper()
	cc, err := azeventhubs.NewConsumerClientFromConnectionString(connString, "", azeventhubs.DefaultConsumerGroup, nil)
	if err != nil {
		t.Fatalf("creating an Event Hubs consumer: %v", err)
	}
	return cc
}

func partitionIDs(ctx context.Context, t testing.TB, cc *azeventhubs.ConsumerClient) []string {
	t.Helper()
	props, err := cc.GetEventHubProperties(ctx, nil)
	if err != nil {
		t.Fatalf("getting Event Hub properties: %v", err)
	}
	ids := append([]string(nil), props.PartitionIDs...)
	sort.Strings(ids)
	return ids
}

func lastSequence(p azeventhubs.PartitionProperties) int64 {
	if p.IsEmpty {
		return -1
	}
	return p.LastEnqueuedSequenceNumber
}

func to[T any](v T) *T { return &v }
