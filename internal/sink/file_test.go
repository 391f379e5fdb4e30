package sink_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/sink"
)

func batch(t *testing.T, ids ...string) flight.Batch {
	t.Helper()
	events := make([]flight.Event, len(ids))
	for i, id := range ids {
		events[i] = flight.Event{EventID: id + "-1", ICAO24: id, OriginCountry: "X"}
	}
	b, err := flight.Encode(time.Unix(1, 0), events)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFileAppendsSnapshots(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "out.ndjson")
	f := sink.NewFile(path, nil)
	ctx := context.Background()
	rep, err := f.Publish(ctx, batch(t, "aaaaaa", "bbbbbb"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 2 || rep.Batches != 1 || rep.Bytes == 0 {
		t.Errorf("report = %+v", rep)
	}
	if _, err := f.Publish(ctx, batch(t, "cccccc")); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], "cccccc-1") {
		t.Errorf("file = %q", data)
	}
	if rep, err := f.Publish(ctx, flight.Batch{}); err != nil || rep.Events != 0 {
		t.Errorf("empty snapshot: %+v %v", rep, err)
	}
}

func TestFileStdout(t *testing.T) {
	var out bytes.Buffer
	if _, err := sink.NewFile("-", &out).Publish(context.Background(), batch(t, "aaaaaa")); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "}\n") || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("stdout = %q", out.String())
	}
}

func TestFileErrorsNameTheSetting(t *testing.T) {
	dir := t.TempDir()
	_, err := sink.NewFile(dir, nil).Publish(context.Background(), batch(t, "aaaaaa"))
	if err == nil || !strings.Contains(err.Error(), "OPENSKY_FILE") {
		t.Errorf("err = %v, want it to name OPENSKY_FILE", err)
	}
}
