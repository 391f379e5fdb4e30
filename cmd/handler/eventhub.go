package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/opensky-eventhubs/handler/internal/config"
	"github.com/opensky-eventhubs/handler/internal/eventhub"
)

// eventHubStartTimeout bounds connecting and reading the partitions at start, well inside the
// 60 s the Functions host waits for GET / to answer.
const eventHubStartTimeout = 30 * time.Second

func newEventHubSink(ctx context.Context, cfg config.Config, log *slog.Logger) (publisher, error) {
	ctx, cancel := context.WithTimeout(ctx, eventHubStartTimeout)
	defer cancel()
	s, err := eventhub.New(ctx, eventhub.Config{
		ConnectionString: cfg.EventHubConnString.Value(),
		Namespace:        cfg.EventHubNamespace,
		HubName:          cfg.EventHubName,
		ClientID:         cfg.ManagedIdentityClient,
		Concurrency:      cfg.Concurrency,
		Logger:           log,
	})
	if err != nil {
		return nil, fmt.Errorf("OPENSKY_SINK=eventhub: %w", err)
	}
	return s, nil
}
