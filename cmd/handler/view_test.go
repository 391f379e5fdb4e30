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
