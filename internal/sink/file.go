package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/opensky-eventhubs/handler/internal/flight"
)

// File appends each snapshot's events to one NDJSON file (or writes them to an io.Writer such as
// standard output). A snapshot is written with one write call and synced. A write or sync that
// fails (a full disk, a short write) is undone: the file is cut back to its size before the
// snapshot, so that it never holds half a line for the next snapshot to append to, and every line
// of it parses. If even the cut fails, the next publish makes it first.
type File struct {
	mu   sync.Mutex
	path string
	w    io.Writer // set for standard output
	// open opens the file for appending; tests replace it to make writes fail.
	open func(path string) (appendFile, error)
	// cutTo is the size to cut the file back to before the next write, or -1: a failed write
	// left bytes that the cut right after it could not remove.
	cutTo int64
}

// appendFile is what Publish needs of an open file; *os.File has it.
type appendFile interface {
	io.Writer
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
	Sync() error
	Close() error
}

func openAppend(path string) (appendFile, error) {
	return os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
}

// NewFile returns a sink appending to path; "-" means standard output (stdout). The path's folder
// must exist: Check makes sure of it (and of the rest) before the first tick.
func NewFile(path string, stdout io.Writer) *File {
	if path == "-" {
		return &File{path: "-", w: stdout, cutTo: -1}
	}
	return &File{path: path, open: openAppend, cutTo: -1}
}

// Publish writes every record of b, or returns an error saying what was not written; then the
// file is as it was before.
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
	fh, err := f.open(f.path)
	if err != nil {
		return Report{}, fmt.Errorf("opening OPENSKY_FILE %s: %w", f.path, err)
	}
	if f.cutTo >= 0 {
		if err := fh.Truncate(f.cutTo); err != nil {
			fh.Close()
			return Report{}, fmt.Errorf("removing the part of an earlier failed write from %s (cutting it to %d bytes): %w", f.path, f.cutTo, err)
		}
		f.cutTo = -1
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return Report{}, fmt.Errorf("reading the size of %s: %w", f.path, err)
	}
	size := st.Size()
	fail := func(err error) (Report, error) {
		if cerr := fh.Truncate(size); cerr != nil {
			f.cutTo = size
			err = errors.Join(err, fmt.Errorf("cutting %s back to its %d bytes before this snapshot failed too (the next write tries again): %w", f.path, size, cerr))
		}
		fh.Close()
		return Report{}, err
	}
	if n, err := fh.Write(b.NDJSON); err != nil {
		return fail(fmt.Errorf("writing %d events to %s (%d of %d bytes written, now removed): %w", len(b.Records), f.path, n, len(b.NDJSON), err))
	}
	if err := fh.Sync(); err != nil {
		return fail(fmt.Errorf("syncing %s: %w", f.path, err))
	}
	if err := fh.Close(); err != nil {
		return Report{}, fmt.Errorf("closing %s: %w", f.path, err)
	}
	return rep, nil
}

// Close has nothing to release: each publish opens and closes the file.
func (f *File) Close(context.Context) error { return nil }
