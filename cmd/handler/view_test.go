package main

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/view"
)

// TestStartViewStopLeavesNothing: a view stopped by its caller (handler view --file ending with an
// error, a test calling run) leaves no goroutine behind waiting for a context that may never end.
func TestStartViewStopLeavesNothing(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stop, err := startView(context.Background(), "127.0.0.1:0", view.NewStore(log, 0), log)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	var stacks string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "cmd/handler.startView") || time.Now().After(deadline) {
			break
		}
	}
	if strings.Contains(stacks, "cmd/handler.startView") {
		t.Errorf("a goroutine of startView is still running after stop:\n%s", stacks)
	}
}

// TestViewEventHubChecksSettingsFirst: view --eventhub without a hub fails naming the settings,
// and does not first serve the page and tell the user to open it.
func TestViewEventHubChecksSettingsFirst(t *testing.T) {
	var stdout, stderr strings.Builder
	getenv := func(string) string { return "" }
	err := run(context.Background(), []string{"view", "--eventhub", "--listen", "127.0.0.1:0"}, getenv, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "EVENTHUB_NAMESPACE") {
		t.Fatalf("view --eventhub with no hub set: %v, want an error naming EVENTHUB_NAMESPACE", err)
	}
	if strings.Contains(stderr.String(), "open the live map") {
		t.Errorf("the view was served before its source was known to be unusable:\n%s", stderr.String())
	}
}

// TestViewFileRefusesHubFlags: --from and --consumer-group mean nothing to view --file; taking
// them silently would show the whole file to a user who asked for less.
func TestViewFileRefusesHubFlags(t *testing.T) {
	for _, args := range [][]string{
		{"view", "--file", "x.ndjson", "--from", "latest"},
		{"view", "--file", "x.ndjson", "--consumer-group", "mine"},
	} {
		var stdout, stderr strings.Builder
		// Bounded: a view that took the flags would follow the file until its context ended.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := run(ctx, append(args, "--listen", "127.0.0.1:0"), func(string) string { return "" }, &stdout, &stderr)
		cancel()
		if err == nil || !strings.Contains(err.Error(), args[3]) || !strings.Contains(err.Error(), "--eventhub") || exitCode(err) != 2 {
			t.Errorf("handler %v: %v (exit %d), want a usage error naming %s and --eventhub", args, err, exitCode(err), args[3])
		}
	}
}
