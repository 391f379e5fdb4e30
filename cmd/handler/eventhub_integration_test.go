package main_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/ehtest"
	"github.com/opensky-eventhubs/handler/internal/openskytest"
	"github.com/opensky-eventhubs/handler/internal/recordings"
	"github.com/opensky-eventhubs/handler/schema"
)

// The whole path as in Azure: the host POSTs a tick, the built handler fetches a replayed
// recording and publishes through the real SDK; the hub is read back with the SDK's consumer.
func TestServeToEventHubIntegration(t *testing.T) {
	rec := recordings.States[1]
	srv := openskytest.New(t, recordings.Read(t, "states/"+rec.Name))
	cs, _ := ehtest.Target(t, ehtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	marks := ehtest.Mark(ctx, t, cs)

	h := StartHandler(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "EVENTHUB_CONNECTION_STRING": cs})
	status, resp := h.Invoke(t, invocation)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v\n%s", status, resp, h.Stderr)
	}
	rv, _ := resp["ReturnValue"].(map[string]any)
	if rv["sink"] != "eventhub" || rv["events_published"] != float64(rec.States) {
		t.Fatalf("ReturnValue = %v", rv)
	}
	parts, _ := rv["partitions"].(map[string]any)
	if len(parts) == 0 {
		t.Errorf("ReturnValue has no per-partition report: %v", rv)
	}

	v, err := schema.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	got := ehtest.ReadFrom(ctx, t, cs, marks)
	ids := map[string]bool{}
	partitionOf := map[string]string{}
	for pid, events := range got {
		n := 0
		for _, e := range events {
			if err := v.Validate(e.Body); err != nil {
				t.Fatalf("event in partition %s does not fit the schema: %v", pid, err)
			}
			id := *e.MessageID
			if ids[id] {
				t.Errorf("event %s arrived twice", id)
			}
			ids[id] = true
			icao := id[:6]
			if p, ok := partitionOf[icao]; ok && p != pid {
				t.Errorf("aircraft %s in partitions %s and %s", icao, p, pid)
			}
			partitionOf[icao] = pid
			n++
		}
		if pr, ok := parts[pid].(map[string]any); n > 0 && (!ok || pr["events"] != float64(n)) {
			t.Errorf("partition %s: read %d events, summary says %v", pid, n, parts[pid])
		}
	}
	if len(ids) != rec.States {
		t.Fatalf("read back %d distinct events, want %d", len(ids), rec.States)
	}
}
