package view

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"
)

// FollowPoll is how often FollowFile looks for new lines once it has read to the end.
const FollowPoll = 250 * time.Millisecond

// MaxLineBytes is the longest line FollowFile hands on; an event is well under 2 KiB. A longer
// line is skipped as it is read, so that a file that is not NDJSON cannot fill the memory.
const MaxLineBytes = 1 << 20

// FollowFile reads the NDJSON file at path from its start and then each line appended to it, as
// `tail -F` does, until ctx ends; each complete line goes to fn, which must not keep it (its
// bytes are reused for the next read). A last line without its newline is held until the rest is
// written. A file that does not exist yet is waited for; one that shrinks or is replaced by
// another of its name (rotated) is read again from its start. A line fn rejects, or one over
// MaxLineBytes, is logged with its number and skipped, so that one bad line does not stop the
// view.
func FollowFile(ctx context.Context, path string, log *slog.Logger, fn func(line []byte) error) error {
	var (
		f       *os.File
		off     int64 // bytes read from f
		lineNo  int
		partial []byte // the start of a line whose newline has not come yet
		tooLong bool   // the line being read is over MaxLineBytes: dropped up to its newline
		buf     = make([]byte, 256<<10)
		waiting bool
	)
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	tick := time.NewTicker(FollowPoll)
	defer tick.Stop()
	for {
		if f == nil {
			var err error
			f, err = os.Open(path)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				if !waiting {
					log.Info("view: waiting for the file to be written", slog.String("file", path))
					waiting = true
				}
				f = nil
			case err != nil:
				return fmt.Errorf("opening %s: %w", path, err)
			default:
				waiting = false
				off, lineNo, partial, tooLong = 0, 0, partial[:0], false
			}
		}
		if f != nil {
			open, errOpen := f.Stat()
			named, errNamed := os.Stat(path)
			if errOpen == nil && errNamed == nil && (open.Size() < off || !os.SameFile(open, named)) {
				log.Warn("view: the file was truncated or replaced; reading it again from its start", slog.String("file", path))
				f.Close()
				f = nil
				continue
			}
			for {
				n, err := f.Read(buf)
				off += int64(n)
				data := buf[:n]
				for len(data) > 0 {
					i := bytes.IndexByte(data, '\n')
					if i < 0 {
						if !tooLong {
							partial = append(partial, data...)
						}
						if len(partial) > MaxLineBytes {
							tooLong, partial = true, nil
						}
						break
					}
					line := data[:i]
					if len(partial) > 0 {
						line = append(partial, line...)
						partial = partial[:0]
					}
					data = data[i+1:]
					lineNo++
					if tooLong || len(line) > MaxLineBytes {
						tooLong = false
						log.Warn("view: skipping a line longer than the longest event could be", slog.String("file", path),
							slog.Int("line", lineNo), slog.Int("max_bytes", MaxLineBytes))
						continue
					}
					if len(bytes.TrimSpace(line)) == 0 {
						continue
					}
					if err := fn(line); err != nil {
						log.Warn("view: skipping a line", slog.String("file", path), slog.Int("line", lineNo), slog.String("error", err.Error()))
					}
				}
				if errors.Is(err, io.EOF) || n == 0 {
					break
				}
				if err != nil {
					return fmt.Errorf("reading %s: %w", path, err)
				}
				if ctx.Err() != nil { // a large file: Ctrl-C need not wait for all of it
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
