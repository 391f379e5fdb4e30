package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/opensky-eventhubs/handler/internal/config"
)

func newEventHubSink(ctx context.Context, cfg config.Config, log *slog.Logger) (publisher, error) {
	return nil, errors.New("OPENSKY_SINK=eventhub: the Event Hubs sink is not wired yet")
}
