package config_test

import (
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/opensky-eventhubs/handler/internal/config"
)

// The handler's memory comes from HANDLER_MEMORY_MB, else GOMEMLIMIT (the runtime's limit, set
// here as the runtime would from the variable), else the container's
// cgroup limit less the host's share; the state cap follows from it, and bad values name the
// setting.
func TestMemoryLimit(t *testing.T) {
	cgroup := func(v2, v1 string) func(string) ([]byte, error) {
		return func(name string) ([]byte, error) {
			switch {
			case name == "/sys/fs/cgroup/memory.max" && v2 != "":
				return []byte(v2), nil
			case name == "/sys/fs/cgroup/memory/memory.limit_in_bytes" && v1 != "":
				return []byte(v1), nil
			}
			return noFile(name)
		}
	}
	states := func(mb int) int { return (mb - config.BaseMemoryMB) << 20 / config.BytesPerState }
	for _, tt := range []struct {
		name       string
		env        map[string]string
		goMemLimit int64 // the runtime's memory limit (GOMEMLIMIT) during the case; 0: none
		read       func(string) ([]byte, error)
		mb         int
		source     string
		wantErr    string
	}{
		{name: "nothing known", read: noFile},
		{name: "cgroup v2 without a limit", read: cgroup("max\n", "")},
		{name: "cgroup v1 without a limit", read: cgroup("", "9223372036854771712\n")},
		{name: "cgroup v2 512 MB", read: cgroup("536870912\n", ""), mb: 512 - config.HostReserveMB, source: "container's 512 MB"},
		{name: "cgroup v1 2048 MB", read: cgroup("", "2147483648"), mb: 2048 - config.HostReserveMB, source: "memory.limit_in_bytes"},
		{name: "cgroup too small for the host", read: cgroup("268435456", "")},
		{name: "GOMEMLIMIT", goMemLimit: 400 << 20, read: cgroup("536870912", ""), mb: 400, source: "GOMEMLIMIT"},
		{name: "HANDLER_MEMORY_MB first", env: map[string]string{"HANDLER_MEMORY_MB": "300"}, goMemLimit: 400 << 20, read: cgroup("536870912", ""), mb: 300, source: "HANDLER_MEMORY_MB"},
		{name: "HANDLER_MEMORY_MB not a number", env: map[string]string{"HANDLER_MEMORY_MB": "lots"}, read: noFile, wantErr: `HANDLER_MEMORY_MB="lots" must be a whole number of MB above`},
		{name: "HANDLER_MEMORY_MB too small", env: map[string]string{"HANDLER_MEMORY_MB": "16"}, read: noFile, wantErr: "HANDLER_MEMORY_MB"},
		{name: "GOMEMLIMIT too small", goMemLimit: 16 << 20, read: noFile, wantErr: `GOMEMLIMIT="16777216" bytes is below`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.goMemLimit > 0 {
				old := debug.SetMemoryLimit(tt.goMemLimit)
				t.Cleanup(func() { debug.SetMemoryLimit(old) })
			}
			c, err := config.Load(env(tt.env), tt.read)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.MemoryMB != tt.mb || !strings.Contains(c.MemorySource, tt.source) {
				t.Fatalf("memory %d MB from %q, want %d from %q", c.MemoryMB, c.MemorySource, tt.mb, tt.source)
			}
			want := 0
			if tt.mb > 0 {
				want = states(tt.mb)
			}
			if c.MaxStates != want {
				t.Fatalf("max states %d, want %d", c.MaxStates, want)
			}
			if hint := c.MaxStatesHint(); (want > 0) != strings.Contains(hint, "HANDLER_MEMORY_MB") {
				t.Fatalf("hint %q", hint)
			}
		})
	}
}

// The largest snapshot each Flex Consumption instance size holds, as the README states it
// (rounded down to thousands), with the limit read from the container.
func TestMaxStatesPerInstanceSize(t *testing.T) {
	for _, tt := range []struct{ instanceMB, atLeast int }{{512, 69_000}, {2048, 542_000}, {4096, 1_174_000}} {
		read := func(name string) ([]byte, error) {
			if name == "/sys/fs/cgroup/memory.max" {
				return []byte(strconv.Itoa(tt.instanceMB << 20)), nil
			}
			return noFile(name)
		}
		c, err := config.Load(env(nil), read)
		if err != nil {
			t.Fatal(err)
		}
		if c.MaxStates < tt.atLeast || c.MaxStates >= tt.atLeast+1000 {
			t.Errorf("%d MB instance: %d states, the README says %d", tt.instanceMB, c.MaxStates, tt.atLeast)
		}
	}
}
