package main_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/ehtest"
	"github.com/opensky-eventhubs/handler/internal/openskytest"
	"github.com/opensky-eventhubs/handler/internal/recordings"
)

// tickToHub runs one tick of the built handler (run --once) from a replay of the recording at rel
// to the hub cs names, and returns the bodies of the events it published, as the SDK reads them
// back (after marks).
func tickToHub(t *testing.T, cs, rel string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	marks := ehtest.Mark(ctx, t, cs)
	srv := openskytest.New(t, recordings.Read(t, rel))
	if _, stderr, err := run(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "EVENTHUB_CONNECTION_STRING": cs}, "run", "--once"); err != nil {
		t.Fatalf("run --once: %v\n%s", err, stderr)
	}
	var bodies []string
	for _, events := range ehtest.ReadFrom(ctx, t, cs, marks) {
		for _, e := range events {
			bodies = append(bodies, string(e.Body))
		}
	}
	if len(bodies) == 0 {
		t.Fatal("the tick published nothing")
	}
	return bodies
}

// lines splits NDJSON output into its lines.
func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func sameBodies(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d lines, want the %d events published", len(got), len(want))
	}
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Fatal("the lines are not the bodies of the events published")
	}
}

// After a tick of the real handler on the local peer, tail --from start --count N prints exactly
// the N events published; --for ends a tail that has printed all there is.
func TestTailFromStartIntegration(t *testing.T) {
	p := ehtest.Start(t, ehtest.Options{})
	cs := p.ConnectionString(ehtest.DefaultHub)
	want := tickToHub(t, cs, "states/north-america-2025-01-31.json")
	env := map[string]string{"EVENTHUB_CONNECTION_STRING": cs}

	stdout, stderr, err := run(t, env, "tail", "--from", "start", "--count", strconv.Itoa(len(want)))
	if err != nil {
		t.Fatalf("tail: %v\n%s", err, stderr)
	}
	sameBodies(t, lines(stdout), want)

	// --for must leave time to start, connect and read every event even on a busy machine: the
	// read is what is checked here, not its speed (BenchmarkConsumePeer measures that).
	const forDur = 5 * time.Second
	start := time.Now()
	stdout, stderr, err = run(t, env, "tail", "--from", "start", "--for", forDur.String())
	if err != nil {
		t.Fatalf("tail --for: %v\n%s", err, stderr)
	}
	if d := time.Since(start); d < forDur {
		t.Errorf("tail --for %v returned after %v", forDur, d)
	}
	sameBodies(t, lines(stdout), want)
	if !strings.Contains(stderr, "events="+strconv.Itoa(len(want))) {
		t.Errorf("stderr does not count the events:\n%s", stderr)
	}
}

// tail --from latest prints what is sent after it starts, not what was there; Ctrl-C ends it
// cleanly.
func TestTailFromLatestIntegration(t *testing.T) {
	p := ehtest.Start(t, ehtest.Options{})
	cs := p.ConnectionString(ehtest.DefaultHub)
	before := tickToHub(t, cs, "states/north-america-2025-01-31.json")

	cmd := exec.Command(binary, "tail", "--for", "60s") // --from latest is the default
	cmd.Env = baseEnv(map[string]string{"EVENTHUB_CONNECTION_STRING": cs})
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if !stderr.WaitFor("msg=reading", 20*time.Second) {
		t.Fatalf("tail did not start reading:\n%s", stderr)
	}
	if !strings.Contains(stderr.String(), "from=latest") {
		t.Errorf("tail does not say it reads from latest:\n%s", stderr)
	}

	after := tickToHub(t, cs, "states/small-2018-02-13.json")
	deadline := time.Now().Add(20 * time.Second)
	for len(lines(stdout.String())) < len(after) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("tail after Ctrl-C: %v\n%s", err, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tail did not stop within 10s of Ctrl-C")
	}
	got := lines(stdout.String())
	sameBodies(t, got, after)
	for _, line := range got {
		if slices.Contains(before, line) {
			t.Fatal("tail --from latest printed an event sent before it started")
		}
	}
}

// A bad --from, or no hub configured, fails at once with a message saying what to set.
func TestTailBadInputIntegration(t *testing.T) {
	cs := "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=x;SharedAccessKey=y;EntityPath=opensky;UseDevelopmentEmulator=true"
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"bad --from", map[string]string{"EVENTHUB_CONNECTION_STRING": cs}, []string{"--from", "yesterday"}, []string{"--from", "yesterday", "start, latest or an RFC 3339 time"}},
		{"no hub", map[string]string{}, []string{"--from", "start"}, []string{"EVENTHUB_NAMESPACE", "EVENTHUB_CONNECTION_STRING"}},
		{"negative count", map[string]string{"EVENTHUB_CONNECTION_STRING": cs}, []string{"--count", "-1"}, []string{"--count"}},
		{"unknown flag", map[string]string{"EVENTHUB_CONNECTION_STRING": cs}, []string{"--form", "start"}, []string{"-form", "handler tail --help"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := run(t, tc.env, append([]string{"tail"}, tc.args...)...)
			if err == nil {
				t.Fatalf("tail %v succeeded", tc.args)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
			if n := strings.Count(stderr, "handler:"); n != 1 {
				t.Errorf("the error is printed %d times, want once:\n%s", n, stderr)
			}
		})
	}
}

// tail --help prints its usage, with every flag, to stdout and exits 0.
func TestTailHelpIntegration(t *testing.T) {
	stdout, stderr, err := run(t, map[string]string{}, "tail", "--help")
	if err != nil || stderr != "" {
		t.Fatalf("tail --help: %v, stderr %q", err, stderr)
	}
	for _, f := range []string{"-from", "-count", "-for", "-consumer-group", "EVENTHUB_NAMESPACE"} {
		if !strings.Contains(stdout, f) {
			t.Errorf("usage does not mention %s:\n%s", f, stdout)
		}
	}
}
