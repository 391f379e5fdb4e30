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
	path := filepath.Join(t.TempDir(), "out.ndjson")
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

// Check finds what would make every publish fail before anything is fetched, and creates a missing
// folder only when asked to (the default path), saying so.
func TestFileCheck(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "a-file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		create  bool
		created string // the folder Check reports it created
		wantErr string
	}{
		{name: "writable", path: filepath.Join(dir, "out.ndjson")},
		{name: "stdout", path: "-"},
		{name: "missing folder, user's path", path: filepath.Join(dir, "typo", "out.ndjson"), wantErr: "does not exist; create it"},
		{name: "missing folder, default path", path: filepath.Join(dir, "data", "out.ndjson"), create: true, created: filepath.Join(dir, "data")},
		{name: "a folder, not a file", path: dir, wantErr: "cannot be written"},
		{name: "under a file", path: filepath.Join(notDir, "out.ndjson"), create: true, wantErr: "OPENSKY_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sink.NewFile(tt.path, &bytes.Buffer{})
			created, err := f.Check(tt.create)
			if created != tt.created {
				t.Errorf("created %q, want %q", created, tt.created)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "OPENSKY_FILE") {
					t.Fatalf("err = %v, want one naming OPENSKY_FILE with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.path != "-" {
				if _, err := os.Stat(tt.path); !os.IsNotExist(err) {
					t.Errorf("Check left %s behind (%v); nothing was published yet", tt.path, err)
				}
			}
			// What Check passed, Publish writes.
			if _, err := f.Publish(context.Background(), batch(t, "aaaaaa")); err != nil {
				t.Fatalf("publish after a passed check: %v", err)
			}
		})
	}
}
