package sink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/flight"
)

// fullDisk is a real file on which writes stop after room bytes with ENOSPC, as on a full disk
// (a short write), and the cut back can be made to fail too.
type fullDisk struct {
	*os.File
	room        int
	failCutting bool
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if len(p) <= d.room {
		d.room -= len(p)
		return d.File.Write(p)
	}
	n, err := d.File.Write(p[:d.room])
	d.room = 0
	if err != nil {
		return n, err
	}
	return n, &os.PathError{Op: "write", Path: d.Name(), Err: syscall.ENOSPC}
}

func (d *fullDisk) Truncate(size int64) error {
	if d.failCutting {
		return &os.PathError{Op: "truncate", Path: d.Name(), Err: syscall.EIO}
	}
	return d.File.Truncate(size)
}

func testBatch(t *testing.T, ids ...string) flight.Batch {
	t.Helper()
	events := make([]flight.Event, len(ids))
	for i, id := range ids {
		events[i] = flight.Event{ICAO24: id, OriginCountry: "X"}
		events[i].EventID = flight.EventID(&events[i])
	}
	b, err := flight.Encode(time.Unix(1, 0), events)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkLines asserts every line of the file parses as JSON and the file holds exactly the events
// with the ids want, in order.
func checkLines(t *testing.T, path string, want ...string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("the file ends in half a line: %q", data[max(0, len(data)-60):])
	}
	var got []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		var e struct {
			ID string `json:"icao24"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Errorf("line %d does not parse (%v): %s", n, err, sc.Bytes())
			continue
		}
		got = append(got, e.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the file holds events %v, want %v", got, want)
	}
}

// A snapshot whose write fails part way (a full disk) leaves the file as it was; the next
// snapshot's write, when the disk has room again, starts on a line of its own and all of it
// can be read back.
func TestFileFailedWriteLeavesNoHalfLine(t *testing.T) {
	for _, tc := range []struct {
		name        string
		failCutting bool // the cut right after the failed write fails too: the next publish makes it
	}{
		{"cut back at once", false},
		{"cut back by the next write", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.ndjson")
			f := NewFile(path, nil)
			ctx := context.Background()
			if _, err := f.Publish(ctx, testBatch(t, "aaaaaa", "bbbbbb")); err != nil {
				t.Fatal(err)
			}

			failing := testBatch(t, "cccccc", "dddddd")
			f.open = func(path string) (appendFile, error) {
				fh, err := openAppend(path)
				if err != nil {
					return nil, err
				}
				// Room for the first event and half of the second.
				return &fullDisk{File: fh.(*os.File), room: len(failing.NDJSON) - 40, failCutting: tc.failCutting}, nil
			}
			_, err := f.Publish(ctx, failing)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("the write on a full disk: err = %v, want ENOSPC", err)
			}
			if !tc.failCutting {
				checkLines(t, path, "aaaaaa", "bbbbbb")
			}

			f.open = openAppend
			rep, err := f.Publish(ctx, testBatch(t, "eeeeee", "ffffff"))
			if err != nil || rep.Events != 2 {
				t.Fatalf("the write after the disk has room again: %+v, %v", rep, err)
			}
			checkLines(t, path, "aaaaaa", "bbbbbb", "eeeeee", "ffffff")
		})
	}
}

// A failed sync is undone like a failed write: the tick says it failed, so the file must not keep
// its events.
func TestFileFailedSyncIsUndone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.ndjson")
	f := NewFile(path, nil)
	f.open = func(path string) (appendFile, error) {
		fh, err := openAppend(path)
		if err != nil {
			return nil, err
		}
		return failSync{fh.(*os.File)}, nil
	}
	if _, err := f.Publish(context.Background(), testBatch(t, "aaaaaa")); !errors.Is(err, syscall.EIO) {
		t.Fatalf("err = %v, want EIO", err)
	}
	checkLines(t, path)
}

type failSync struct{ *os.File }

func (failSync) Sync() error { return syscall.EIO }
