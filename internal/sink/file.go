package sink

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/opensky-eventhubs/handler/internal/flight"
)

// File appends each snapshot's events to one NDJSON file (or writes them to an io.Writer such as
// standard output). A snapshot is written with one write call and synced, so a reader never sees
// half of it unless the disk fails, which Publish then reports.
type File struct {
	mu   sync.Mutex
	path string
	w    io.Writer // set for standard output
}

// NewFile returns a sink appending to path; "-" means standard output (stdout). The path's folder
// must exist: Check makes sure of it (and of the rest) before the first tick.
func NewFile(path string, stdout io.Writer) *File {
	if path == "-" {
		return &File{path: "-", w: stdout}
	}
	return &File{path: path}
}

// Publish writes every record of b, or returns an error saying what was not written.
func (f *File) Publish(ctx context.Context, b flight.Batch) (Report, error) {
	if err := ctx.Err(); err != nil {
		return Report{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rep := Report{Events: len(b.Records), Batches: 1, Bytes: b.Bytes()}
	if len(b.Records) == 0 {
		return Report{}, nil
	}
	if f.w != nil {
		if _, err := f.w.Write(b.NDJSON); err != nil {
			return Report{}, fmt.Errorf("writing %d events to standard output: %w", len(b.Records), err)
		}
		return rep, nil
	}
	fh, err := os.OpenFile(f.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return Report{}, fmt.Errorf("opening OPENSKY_FILE %s: %w", f.path, err)
	}
	if _, err := fh.Write(b.NDJSON); err != nil {
		fh.Close()
		return Report{}, fmt.Errorf("writing %d events to %s: %w", len(b.Records), f.path, err)
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return Report{}, fmt.Errorf("syncing %s: %w", f.path, err)
	}
	if err := fh.Close(); err != nil {
		return Report{}, fmt.Errorf("closing %s: %w", f.path, err)
	}
	return rep, nil
}

// Close has nothing to release: each publish opens and closes the file.
func (f *File) Close(context.Context) error { return nil }
