// Command handler is the OpenSkyTimer Azure Functions custom handler: on each timer tick it
// fetches one OpenSky /states/all snapshot and publishes one event per aircraft to Event Hubs
// (or to an NDJSON file).
//
//	handler                      serve for the Functions host (same as "handler serve")
//	handler serve                listen on 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT
//	handler run [--every D] [--for D] [--once]
//	                             tick on its own: at once, then every D (default: OPENSKY_SCHEDULE)
//
// Settings come from the environment (app settings); see the README.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/opensky-eventhubs/handler/internal/prefault" // maps the binary in one call: see its doc
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "handler:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its dependencies passed in so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "run":
		return runStandalone(ctx, args, getenv, stdout, stderr)
	case "view":
		return viewCmd(ctx, args, getenv, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage:
  handler                 serve the Azure Functions host (same as: handler serve)
  handler serve           listen on 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT
  handler run [flags]     tick on its own schedule, without the Functions host
      --once              one tick, then exit
      --every DURATION    tick at once, then every DURATION (default: follow OPENSKY_SCHEDULE)
      --for DURATION      stop after DURATION (default: run until Ctrl-C)
      --view ADDR         also serve the live map of its snapshots on ADDR (e.g. 127.0.0.1:8080)
  handler view --file PATH | --eventhub [--listen ADDR]   the live map of a file or a hub (default 127.0.0.1:8080)
Settings are environment variables (app settings); see README.md.
`
