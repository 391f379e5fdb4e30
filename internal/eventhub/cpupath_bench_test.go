package eventhub

// Benchmarks of the per-tick CPU path: Decode -> Transform -> Encode -> Sink.Publish up to the
// wire (partition assignment, the SDK's EventDataBatch per partition, AddAMQPAnnotatedMessage per
// event), on each recording and on 1k..100k states resampled from the real ones, next to the floor
// (a bare encoding/json decode of the same bytes). bench/run.sh runs them and writes BENCHMARKS.md.
//
// The SDK builds an EventDataBatch only on a link to a hub (the link gives the size limit), so
// the path's sink is connected to the local Event Hubs peer (or EVENTHUB_TEST_CONNECTION_STRING)
// and only its last step, putting each full batch on the wire, is replaced by a no-op. Sending is
// measured, with the peer's work, in BenchmarkPublishPeer.
//
// Each benchmark reports, besides ns/op: ns/state, B/state, allocs/state, and peak-RSS-MB, the
// process's peak resident set while the timed loop ran (the kernel's high-water mark, reset just
// before the loop), which includes the test binary itself and the input bytes. Heaps are warm
// (one untimed op first), except in BenchmarkCPUPathCold.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"

	"github.com/opensky-eventhubs/handler/internal/ehtest"
	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/recordings"
)

// benchPartitions is the partition count the CPU path assigns to (a Standard hub's default).
var benchPartitions = []string{"0", "1", "2", "3"}

// benchInput is one /states/all body to measure.
type benchInput struct {
	name string
	body func(b *testing.B) []byte
}

// synthSizes are the synthetic snapshot sizes, in states.
var synthSizes = []int{1_000, 10_000, 50_000, 100_000}

// benchInputs lists the recordings, then the synthetic snapshots. Bodies are made on demand so
// that only one is held at a time (peak RSS is measured per input).
func benchInputs() []benchInput {
	var in []benchInput
	for _, r := range recordings.States {
		in = append(in, benchInput{name: trimJSON(r.Name), body: func(b *testing.B) []byte {
			return benchRecording(b, r.Name)
		}})
	}
	for _, n := range synthSizes {
		in = append(in, benchInput{name: fmt.Sprintf("synth-%dk", n/1000), body: func(b *testing.B) []byte {
			return synthBody(b, n)
		}})
	}
	return in
}

// benchRecording is the full published recording (the repository carries excerpts of the large
// ones): the figures are for whole snapshots.
func benchRecording(b *testing.B, name string) []byte {
	if name == "small-2018-02-13.json" {
		return recordings.Read(b, "states/"+name)
	}
	return recordings.Full(b, name)
}

func trimJSON(name string) string { return name[:len(name)-len(".json")] }

// synthPool returns the raw state vectors of the large recordings and the global one's time.
func synthPool(tb testing.TB) (pool [][]byte, snapTime int64) {
	tb.Helper()
	for _, name := range []string{"global-2021-10-17.json", "north-america-2025-01-31.json"} {
		var env struct {
			Time   int64             `json:"time"`
			States []json.RawMessage `json:"states"`
		}
		if err := json.Unmarshal(recordings.Full(tb, name), &env); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		if snapTime == 0 {
			snapTime = env.Time
		}
		for _, s := range env.States {
			// Every real vector starts with its icao24 as six characters: ["abc123",
			if len(s) > 9 && bytes.HasPrefix(s, []byte(`["`)) && s[8] == '"' {
				pool = append(pool, s)
			}
		}
	}
	if len(pool) == 0 {
		tb.Fatal("no state vectors to resample")
	}
	return pool, snapTime
}

// synthBody makes a snapshot of n states drawn at random (fixed seed) from the real ones, each
// with its own icao24 so that event ids stay unique. Every other byte is as OpenSky sent it.
func synthBody(tb testing.TB, n int) []byte {
	tb.Helper()
	pool, snapTime := synthPool(tb)
	rng := rand.New(rand.NewPCG(2021, uint64(n)))
	var buf bytes.Buffer
	buf.Grow(n * 140)
	fmt.Fprintf(&buf, `{"time":%d,"states":[`, snapTime)
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		s := pool[rng.IntN(len(pool))]
		fmt.Fprintf(&buf, `["%06x"`, i)
		buf.Write(s[9:])
	}
	buf.WriteString("]}")
	return buf.Bytes()
}

// tickCPU is the CPU part of one tick as tick.Runner and the sink do it: decode, transform,
// encode (with the Encoder the ticks before used, as the Runner keeps it from tick to tick), then
// Publish on a sink whose sends are no-ops (see cpuSink).
func tickCPU(ctx context.Context, body []byte, s *Sink, enc *flight.Encoder) error {
	snap, err := opensky.Decode(body, opensky.LimitsAt(time.Now(), 0))
	if err != nil {
		return err
	}
	batch, err := enc.Encode(time.Unix(snap.Time, 0).UTC(), flight.Transform(snap))
	if err != nil {
		return err
	}
	rep, err := s.Publish(ctx, batch)
	if err != nil {
		return err
	}
	if rep.Events != len(batch.Records) {
		return fmt.Errorf("batched %d of %d events", rep.Events, len(batch.Records))
	}
	return nil
}

// cpuSink is a sink connected to the local Event Hubs peer (started here unless
// EVENTHUB_TEST_CONNECTION_STRING names a hub) with benchPartitions' count of partitions, whose
// sends do nothing: its Publish assigns partitions, creates an EventDataBatch per partition on
// the real link and adds every event to it, and stops short of the wire. The links are opened
// by one Publish here, before any timing.
func cpuSink(b *testing.B) *Sink {
	b.Helper()
	cs, _ := ehtest.Target(b, ehtest.Options{Partitions: len(benchPartitions)})
	ctx := context.Background()
	s, err := New(ctx, Config{ConnectionString: cs})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(ctx) })
	s.sendBatch = func(context.Context, *azeventhubs.ProducerClient, *azeventhubs.EventDataBatch) error { return nil }
	body := recordings.Read(b, "states/small-2018-02-13.json")
	if err := tickCPU(ctx, body, s, new(flight.Encoder)); err != nil {
		b.Fatal(err)
	}
	return s
}

// countStates counts the vectors in a body (accepted and rejected), for the per-state metrics.
func countStates(tb testing.TB, body []byte) int {
	tb.Helper()
	snap, err := opensky.Decode(body, opensky.LimitsAt(time.Now(), 0))
	if err != nil {
		tb.Fatal(err)
	}
	return len(snap.States) + len(snap.Rejected)
}

// measure runs op b.N times, then reports the per-state metrics. One untimed op comes first, so
// that every input size is measured with a warm heap (the steady state of go test -bench). With
// cold, the heap is instead handed back to the OS before each op (untimed), as in a handler that
// idles between ticks long enough for the runtime to return its memory: each op then pays for
// faulting its memory in again.
func measure(b *testing.B, states int, cold bool, op func() error) {
	b.Helper()
	b.ReportAllocs()
	runtime.GC()
	debug.FreeOSMemory()
	if !cold {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	resetPeakRSS()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		if cold {
			b.StopTimer()
			runtime.GC()
			debug.FreeOSMemory()
			b.StartTimer()
		}
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	n := float64(b.N) * float64(states)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/state")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/state")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/state")
	b.ReportMetric(float64(states), "states")
	if kb, ok := procStatusKB("VmHWM"); ok {
		b.ReportMetric(float64(kb)/1024, "peak-RSS-MB")
	}
	if baseRSSKB > 0 {
		b.ReportMetric(float64(baseRSSKB)/1024, "base-RSS-MB")
	}
}

// baseRSSKB is the process's resident set before the first input was read: the test binary and
// the Go runtime, for telling them apart from what the path itself holds.
var baseRSSKB int64

func noteBaseRSS() {
	if baseRSSKB == 0 {
		baseRSSKB, _ = procStatusKB("VmRSS")
	}
}

// BenchmarkCPUPath measures, for each input, the floor (a bare encoding/json decode of the same
// bytes into generic values, nothing checked, transformed or encoded) and then the per-tick CPU
// path (Decode, Transform, Encode, partition assignment), one right after the other so that their
// ratio is taken under the same load.
func BenchmarkCPUPath(b *testing.B) {
	noteBaseRSS()
	s, ctx := cpuSink(b), context.Background()
	for _, in := range benchInputs() {
		b.Run(in.name, func(b *testing.B) {
			body := in.body(b)
			states := countStates(b, body)
			b.Run("floor", func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				measure(b, states, false, func() error {
					var v any
					return json.Unmarshal(body, &v)
				})
			})
			b.Run("path", func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				enc := new(flight.Encoder) // a handler's, from its first tick on
				measure(b, states, false, func() error { return tickCPU(ctx, body, s, enc) })
			})
		})
	}
}

// BenchmarkCPUPathCold is BenchmarkCPUPath's path with the heap returned to the OS before each
// op (see measure), on the world recording and the synthetic sizes.
func BenchmarkCPUPathCold(b *testing.B) {
	s, ctx := cpuSink(b), context.Background()
	for _, in := range benchInputs() {
		if in.name != "global-2021-10-17" && !strings.HasPrefix(in.name, "synth-") {
			continue
		}
		b.Run(in.name, func(b *testing.B) {
			body := in.body(b)
			states := countStates(b, body)
			b.SetBytes(int64(len(body)))
			enc := new(flight.Encoder) // kept between ticks, as the Runner keeps it
			measure(b, states, true, func() error { return tickCPU(ctx, body, s, enc) })
		})
	}
}

// BenchmarkStep splits the CPU path on the world recording into its steps, each measured alone
// on the previous step's output.
func BenchmarkStep(b *testing.B) {
	body := recordings.Full(b, "global-2021-10-17.json")
	states := countStates(b, body)
	snap, err := opensky.Decode(body, opensky.LimitsAt(time.Now(), 0))
	if err != nil {
		b.Fatal(err)
	}
	snapTime := time.Unix(snap.Time, 0).UTC()
	events := flight.Transform(snap)
	batch, err := flight.Encode(snapTime, events)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		measure(b, states, false, func() error { _, err := opensky.Decode(body, opensky.LimitsAt(time.Now(), 0)); return err })
	})
	b.Run("transform", func(b *testing.B) {
		measure(b, states, false, func() error { flight.Transform(snap); return nil })
	})
	b.Run("encode", func(b *testing.B) {
		var enc flight.Encoder
		measure(b, states, false, func() error { _, err := enc.Encode(snapTime, events); return err })
	})
	s, ctx := cpuSink(b), context.Background()
	b.Run("batch", func(b *testing.B) {
		// Publish without the wire: partition assignment and the SDK's batching.
		measure(b, states, false, func() error { _, err := s.Publish(ctx, batch); return err })
	})
}

// BenchmarkPublishPeer publishes the world recording's events with the sink, against the local
// Event Hubs peer (test/ehpeer, on Node) or the hub in EVENTHUB_TEST_CONNECTION_STRING: AMQP
// batching and sending included. Its wall time includes the peer's work on the same machine.
func BenchmarkPublishPeer(b *testing.B) {
	batch := worldBatch(b)
	cs, _ := ehtest.Target(b, ehtest.Options{Partitions: len(benchPartitions)})
	ctx := context.Background()
	// cold is what a fresh handler process does once: connect, read the partitions, open a
	// link per partition, send. warm is a later tick of a process that keeps its sink.
	b.Run("cold/global-2021-10-17", func(b *testing.B) {
		measure(b, len(batch.Records), false, func() error {
			s, err := New(ctx, Config{ConnectionString: cs})
			if err != nil {
				return err
			}
			defer func() { _ = s.Close(ctx) }()
			_, err = s.Publish(ctx, batch)
			return err
		})
	})
	s, err := New(ctx, Config{ConnectionString: cs})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close(ctx) }()
	if _, err := s.Publish(ctx, batch); err != nil { // opens the links before timing
		b.Fatal(err)
	}
	b.Run("warm/global-2021-10-17", func(b *testing.B) {
		measure(b, len(batch.Records), false, func() error {
			_, err := s.Publish(ctx, batch)
			return err
		})
	})
}

// resetPeakRSS resets the kernel's high-water mark of this process's resident set (Linux 4.0+).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// procStatusKB reads a field of /proc/self/status in KiB (Linux only): VmHWM is the peak resident
// set since the last reset, VmRSS the current one.
func procStatusKB(field string) (int64, bool) {
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(\d+) kB`).FindSubmatch(st)
	if m == nil {
		return 0, false
	}
	kb, err := strconv.ParseInt(string(m[1]), 10, 64)
	return kb, err == nil
}

// worldBatch is the full world recording (../shared/opensky) decoded, transformed and encoded, as
// a tick would publish it.
func worldBatch(b *testing.B) flight.Batch {
	b.Helper()
	body := recordings.Full(b, "global-2021-10-17.json")
	snap, err := opensky.Decode(body, opensky.LimitsAt(time.Now(), 0))
	if err != nil {
		b.Fatal(err)
	}
	batch, err := flight.Encode(time.Unix(snap.Time, 0).UTC(), flight.Transform(snap))
	if err != nil {
		b.Fatal(err)
	}
	return batch
}
