package main_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/ehtest"
	"github.com/opensky-eventhubs/handler/internal/recordings"
	"github.com/opensky-eventhubs/handler/schema"
)

// make demo, end to end: scripts/demo.sh builds the handler, starts the OpenSky stand-in (and the
// local Event Hubs peer, or not with DEMO_SINK=file), runs the ticks, reads the events back and
// prints a summary; it exits 0, every event read back fits the schema, and nothing it started
// is left listening.
func TestDemoIntegration(t *testing.T) {
	served := recordings.States[0] // what the demo serves by default
	if !strings.HasPrefix(served.Name, "global-") {
		t.Fatalf("the demo serves the world recording; recordings.States[0] is %s", served.Name)
	}
	for _, tc := range []struct{ name, sink string }{{"eventhub", ""}, {"file", "file"}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.sink == "" {
				ehtest.Install(t)
			}
			out := filepath.Join(t.TempDir(), "demo.ndjson")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "../../scripts/demo.sh")
			cmd.Env = append(os.Environ(), "DEMO_OUT="+out, "DEMO_SINK="+tc.sink)
			// Its own process group, so that a demo that hangs is stopped whole.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			if err := cmd.Run(); err != nil {
				t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
			}
			t.Logf("demo took %v:\n%s", time.Since(start).Round(time.Millisecond), &stdout)
			text := stdout.String()

			ticks := strings.Count(text, "tick ok:")
			if ticks < 2 {
				t.Fatalf("%d ticks, want a few", ticks)
			}
			want := ticks * served.States
			wantSink := map[string]string{"": "eventhub", "file": "file"}[tc.sink]
			for _, s := range []string{
				"events from " + strconv.Itoa(ticks) + " ticks",
				strconv.Itoa(want) + " events",
				"(sink: " + wantSink + ")",
				strconv.Itoa(served.States) + " aircraft from",
				"most aircraft:",
				"a few events:",
			} {
				if !strings.Contains(text, s) {
					t.Errorf("the summary does not say %q", s)
				}
			}

			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			v, err := schema.NewValidator()
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if err := v.Validate(sc.Bytes()); err != nil {
					t.Fatalf("line %d of %s does not fit the schema: %v", n+1, out, err)
				}
				n++
			}
			if n != want {
				t.Errorf("%s has %d events, want %d", out, n, want)
			}

			// What the demo started is stopped: its ports no longer answer.
			for _, m := range regexp.MustCompile(`127\.0\.0\.1:(\d+)`).FindAllStringSubmatch(text, -1) {
				if c, err := net.DialTimeout("tcp", m[0], time.Second); err == nil {
					c.Close()
					t.Errorf("%s still answers after the demo ended", m[0])
				}
			}
		})
	}
}
