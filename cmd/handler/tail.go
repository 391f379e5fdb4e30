package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"

	"github.com/opensky-eventhubs/handler/internal/config"
	"github.com/opensky-eventhubs/handler/internal/eventhub"
)

const tailUsage = `usage: handler tail [flags]
Print the events in the configured Event Hub (EVENTHUB_NAMESPACE with your az login, or
EVENTHUB_CONNECTION_STRING; EVENTHUB_NAME), one event body per line (NDJSON) on stdout, from
every partition. Ctrl-C stops it.
`

// errCountReached ends reading once --count events are printed.
var errCountReached = errors.New("count reached")

// tail prints the hub's events as NDJSON: what a user runs to see what was published.
func tail(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tail", tailUsage)
	fromFlag := fs.String("from", "latest", "where to start: start, latest, or an RFC 3339 time such as 2026-11-27T15:04:05Z")
	count := fs.Int("count", 0, "stop after `N` events (default: no limit)")
	var forDur durationFlag
	fs.Var(&forDur, "for", "stop after `DURATION`, such as 30s (default: until Ctrl-C)")
	group := fs.String("consumer-group", azeventhubs.DefaultConsumerGroup, "the consumer group to read as")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if *count < 0 {
		return usageErrorf("tail", "--count must not be negative")
	}
	from, err := eventhub.ParseFrom(*fromFlag)
	if err != nil {
		return &usageError{cmd: "tail", err: err}
	}
	cfg, err := config.Load(getenv, nil)
	if err != nil {
		return err
	}
	if cfg.EventHubConnString.Value() == "" && cfg.EventHubNamespace == "" {
		return errors.New("handler tail reads an Event Hub: set EVENTHUB_NAMESPACE (e.g. myns.servicebus.windows.net, " +
			"signed in with az login) or EVENTHUB_CONNECTION_STRING, and EVENTHUB_NAME")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	if forDur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(forDur))
		defer cancel()
	}
	client, err := eventhub.NewConsumerClient(eventhub.Config{
		ConnectionString: cfg.EventHubConnString.Value(),
		Namespace:        cfg.EventHubNamespace,
		HubName:          cfg.EventHubName,
		ClientID:         cfg.ManagedIdentityClient,
	}, *group)
	if err != nil {
		return fmt.Errorf("handler tail: %w", err)
	}
	defer client.Close(context.WithoutCancel(ctx))

	// Pinning "latest" before saying so means that what is sent after the line below is read.
	if from, err = from.Pin(ctx, client); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("handler tail: %w", err)
	}
	log.Info("reading", slog.String("eventhub", cfg.EventHubName), slog.String("from", from.String()),
		slog.String("consumer_group", *group), slog.Int("count", *count), slog.Duration("for", time.Duration(forDur)))

	n := 0
	err = eventhub.Consume(ctx, client, from, func(body []byte) error {
		// One write per event: the line is whole even if the reader stops mid-stream.
		line := make([]byte, 0, len(body)+1)
		if _, err := stdout.Write(append(append(line, body...), '\n')); err != nil {
			return fmt.Errorf("writing to stdout: %w", err)
		}
		n++
		if *count > 0 && n >= *count {
			return errCountReached
		}
		return nil
	})
	log.Info("stopped", slog.Int("events", n))
	if err != nil && !errors.Is(err, errCountReached) {
		return fmt.Errorf("handler tail: %w", err)
	}
	return nil
}
