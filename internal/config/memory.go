package config

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// Memory: a snapshot's states are decoded, transformed, encoded and batched in memory, and a
// tick's peak grows with the number of states. The Flex Consumption instance the handler runs on
// has 512, 2048 or 4096 MB (instanceMemoryMB), shared with the Functions host, while the 64 MiB
// body cap admits about 500,000 states. So the handler caps the states of a snapshot at what its
// memory holds, and a larger one fails its tick with a message saying what to raise, rather than
// the process being killed for running out of memory mid-publish.
const (
	// BytesPerState is a tick's peak memory per state: the CPU-path benchmark's peak RSS (decode,
	// transform, encode and the SDK's batching; Go's default GOGC=100 lets the heap reach twice
	// what is live) was 2.5 to 3.0 KB per state at 100,000 states, to which the answer's body as
	// read adds up to about 0.4 KB (BENCHMARKS.md, "Memory per state").
	BytesPerState = 3400
	// BaseMemoryMB is what the handler takes before a snapshot: runtime, SDK, buffers.
	BaseMemoryMB = 32
	// HostReserveMB is left to the Functions host when the limit is the whole container's (the
	// cgroup's), which the host shares.
	HostReserveMB = 256
)

// Where a cgroup states the container's memory limit: cgroup v2, then v1.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// memory sets c.MemoryMB, c.MemorySource and c.MaxStates from, in order: HANDLER_MEMORY_MB (the
// MB the handler may use), GOMEMLIMIT (the Go runtime's own limit, as the runtime parsed it), or
// the cgroup's limit less HostReserveMB. With none of them (a developer's machine) there is no cap but the body's.
func (l *loader) memory(c *Config, readFile func(string) ([]byte, error)) {
	if raw := strings.TrimSpace(l.getenv("HANDLER_MEMORY_MB")); raw != "" {
		mb, err := strconv.Atoi(raw)
		if err != nil || mb <= BaseMemoryMB {
			l.fail("HANDLER_MEMORY_MB", raw, fmt.Sprintf("must be a whole number of MB above %d (what the handler takes before a snapshot); set it to the instance memory less what the Functions host uses, or leave it empty to read GOMEMLIMIT or the container's limit", BaseMemoryMB))
			return
		}
		c.MemoryMB, c.MemorySource = mb, "HANDLER_MEMORY_MB"
	} else if lim := debug.SetMemoryLimit(-1); lim < math.MaxInt64 {
		// GOMEMLIMIT, as the runtime read it (its own units and "off"): the Go heap's limit.
		if lim>>20 <= BaseMemoryMB {
			l.fail("GOMEMLIMIT", strconv.FormatInt(lim, 10), fmt.Sprintf("bytes is below the %d MiB the handler takes before a snapshot; raise it, or set HANDLER_MEMORY_MB", BaseMemoryMB))
			return
		}
		c.MemoryMB, c.MemorySource = int(lim>>20), "GOMEMLIMIT"
	} else if b, file, ok := cgroupLimit(readFile); ok && int(b>>20) > HostReserveMB+BaseMemoryMB {
		c.MemoryMB = int(b>>20) - HostReserveMB
		c.MemorySource = fmt.Sprintf("the container's %d MB (%s) less %d MB for the Functions host", b>>20, file, HostReserveMB)
	}
	if c.MemoryMB > 0 {
		c.MaxStates = (c.MemoryMB - BaseMemoryMB) << 20 / BytesPerState
	}
}

// MaxStatesHint says why a snapshot over MaxStates fails and what to do, for the tick's error.
func (c Config) MaxStatesHint() string {
	if c.MaxStates == 0 {
		return ""
	}
	return fmt.Sprintf("the handler has %d MB of memory (%s), which holds %d states at about %d bytes each; "+
		"set HANDLER_MEMORY_MB higher if the instance has more, give the app a larger instance (instanceMemoryMB 2048 or 4096), "+
		"or narrow the query with OPENSKY_BBOX or OPENSKY_ICAO24", c.MemoryMB, c.MemorySource, c.MaxStates, BytesPerState)
}

// cgroupLimit reads the container's memory limit in bytes, if it has one.
func cgroupLimit(readFile func(string) ([]byte, error)) (uint64, string, bool) {
	for _, file := range cgroupMemoryFiles {
		b, err := readFile(file)
		if err != nil {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n >= 1<<50 { // "max", or v1's "no limit" (near 2^63)
			return 0, "", false
		}
		return n, file, true
	}
	return 0, "", false
}
