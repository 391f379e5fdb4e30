package ehtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
)

// TestPeerIntegration checks the peer against every call the sink and its tests make through the
// real SDK: hub and partition properties, batches to a partition, and reading back from earliest
// and from a mark.
func TestPeerIntegration(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := Start(t, Options{Hubs: []string{"h1", "h2"}, Partitions: 3})
	cs := p.ConnectionString("h1")

	pc, err := azeventhubs.NewProducerClientFromConnectionString(cs, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(ctx)
	hp, err := pc.GetEventHubProperties(ctx, nil)
	if err != nil {
		t.Fatalf("GetEventHubProperties: %v", err)
	}
	if hp.Name != "h1" || strings.Join(hp.PartitionIDs, ",") != "0,1,2" {
		t.Fatalf("hub properties = %+v", hp)
	}
	pp, err := pc.GetPartitionProperties(ctx, "1", nil)
	if err != nil {
		t.Fatalf("GetPartitionProperties: %v", err)
	}
	if !pp.IsEmpty || pp.LastEnqueuedSequenceNumber != -1 || pp.PartitionID != "1" {
		t.Fatalf("empty partition properties = %+v", pp)
	}

	send := func(partition string, ids ...string) {
		t.Helper()
		b, err := pc.NewEventDataBatch(ctx, &azeventhubs.EventDataBatchOptions{PartitionID: &partition})
		if err != nil {
			t.Fatalf("NewEventDataBatch: %v", err)
		}
		for _, id := range ids {
			ct := "application/json"
			err := b.AddEventData(&azeventhubs.EventData{
				Body: []byte(fmt.Sprintf(`{"id":%q}`, id)), MessageID: &id, ContentType: &ct,
				Properties: map[string]any{"schema_version": "1"},
			}, nil)
			if err != nil {
				t.Fatalf("AddEventData: %v", err)
			}
		}
		if err := pc.SendEventDataBatch(ctx, b, nil); err != nil {
			t.Fatalf("SendEventDataBatch: %v", err)
		}
	}
	send("1", "a", "b", "c")
	send("2", "d")

	got := ReadAll(ctx, t, cs)
	if len(got["0"]) != 0 || len(got["1"]) != 3 || len(got["2"]) != 1 {
		t.Fatalf("read %d/%d/%d events, want 0/3/1", len(got["0"]), len(got["1"]), len(got["2"]))
	}
	for i, e := range got["1"] {
		if e.SequenceNumber != int64(i) || e.EnqueuedTime == nil || e.Offset == "" {
			t.Errorf("event %d annotations: seq %d, enqueued %v, offset %q", i, e.SequenceNumber, e.EnqueuedTime, e.Offset)
		}
		if want := string(rune('a' + i)); e.MessageID == nil || *e.MessageID != want {
			t.Errorf("event %d message id = %v, want %s", i, e.MessageID, want)
		}
		if e.ContentType == nil || *e.ContentType != "application/json" || e.Properties["schema_version"] != "1" {
			t.Errorf("event %d content type %v, properties %v", i, e.ContentType, e.Properties)
		}
	}

	marks := Mark(ctx, t, cs)
	if marks["1"] != 2 || marks["0"] != -1 {
		t.Fatalf("marks = %v", marks)
	}
	send("1", "e")
	after := ReadFrom(ctx, t, cs, marks)
	if len(after["1"]) != 1 || *after["1"][0].MessageID != "e" || len(after["2"]) != 0 {
		t.Fatalf("read from marks: %v", after)
	}

	s := p.Stats(t)
	if s.Sends != 3 || s.Accepted != 5 || s.Hubs["h1"]["1"] != 4 || s.Hubs["h2"]["0"] != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

// TestPeerFaultsIntegration checks the fault knobs the reliability tests rely on.
func TestPeerFaultsIntegration(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := Start(t, Options{BusySends: 1})
	pc, err := azeventhubs.NewProducerClientFromConnectionString(p.ConnectionString(DefaultHub), "",
		&azeventhubs.ProducerClientOptions{RetryOptions: azeventhubs.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(ctx)
	send := func() error {
		pid := "0"
		b, err := pc.NewEventDataBatch(ctx, &azeventhubs.EventDataBatchOptions{PartitionID: &pid})
		if err != nil {
			t.Fatalf("NewEventDataBatch: %v", err)
		}
		if err := b.AddEventData(&azeventhubs.EventData{Body: []byte("x")}, nil); err != nil {
			t.Fatal(err)
		}
		return pc.SendEventDataBatch(ctx, b, nil)
	}
	if err := send(); err == nil || !strings.Contains(err.Error(), "server-busy") {
		t.Fatalf("first send: got %v, want a server-busy rejection", err)
	}
	if err := send(); err != nil {
		t.Fatalf("second send: %v", err)
	}
	p.Control(t, "drop 1")
	err = send()
	var ehErr *azeventhubs.Error
	if !errors.As(err, &ehErr) || ehErr.Code != azeventhubs.ErrorCodeConnectionLost {
		t.Fatalf("send on a dropped connection: got %v, want a connection-lost error", err)
	}
	if err := send(); err != nil {
		t.Fatalf("send after reconnecting: %v", err)
	}
	if s := p.Stats(t); s.Drops != 1 || s.RejectedBusy != 1 || s.Accepted != 2 {
		t.Fatalf("stats = %+v", s)
	}
}
