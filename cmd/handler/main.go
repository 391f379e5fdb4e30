// Command handler is the OpenSkyTimer Azure Functions custom handler: on each timer tick it
// fetches one OpenSky /states/all snapshot and publishes one event per aircraft to Event Hubs
// (or to an NDJSON file).
//
//	handler                      serve for the Functions host (same as "handler serve")
//	handler serve                listen on 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT
//	handler run [--every D] [--for D] [--once] [--view ADDR]
//	                             tick on its own: at once, then every D (default: OPENSKY_SCHEDULE)
//	handler tail [--from F] [--count N] [--for D] [--consumer-group G]
//	                             print the Event Hub's events as NDJSON
//	handler view (--file PATH | --eventhub) [--listen ADDR] [--from F] [--consumer-group G]
//	                             serve the live map of a file the file sink writes, or of the hub
//	handler version              the version, commit and Go version it was built from
//
// "handler COMMAND --help" prints a command's usage. Settings come from the environment (app
// settings); see the README.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "handler:", err)
		os.Exit(exitCode(err))
	}
}

// run is the whole program, with its dependencies passed in so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, getenv, stdout, stderr)
	case "run":
		err = runStandalone(ctx, args, getenv, stdout, stderr)
	case "tail":
		err = tail(ctx, args, getenv, stdout, stderr)
	case "view":
		err = viewCmd(ctx, args, getenv, stdout, stderr)
	case "version", "--version", "-version":
		err = printVersion(args, stdout)
	case "help", "-h", "-help", "--help":
		if len(args) > 0 { // handler help run
			return run(ctx, []string{args[0], "--help"}, getenv, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usageErrorf("", "unknown command %q; the commands are serve, run, tail, view and version (handler --help)", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil // the command printed its usage, as asked
	}
	return err
}

const usage = `usage: handler [COMMAND] [FLAGS]

commands:
  serve      serve the Azure Functions host (the default): listen on 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT
  run        tick on its own schedule, without the Functions host
  tail       print the Event Hub's events as NDJSON
  view       serve the live map of a file the file sink writes, or of the Event Hub
  version    print the version, commit and Go version

"handler COMMAND --help" shows what a command does and its flags.
Settings are environment variables (app settings); see README.md.
`

// usageError is a command line that does not parse; main exits 2 for it, as the flag package does.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string {
	if e.cmd == "" {
		return e.err.Error()
	}
	return fmt.Sprintf("%s: %v (handler %s --help shows the flags)", e.cmd, e.err, e.cmd)
}

func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(cmd, format string, a ...any) error {
	return &usageError{cmd: cmd, err: fmt.Errorf(format, a...)}
}

// exitCode is 2 for a command line that does not parse, 1 for any other failure.
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// flagSet is one command's flags and usage. Every command parses its arguments with one, so that
// -h and --help print its usage to stdout and exit 0, and a bad flag is reported once, by main,
// with exit code 2.
type flagSet struct {
	*flag.FlagSet
	synopsis string // the usage line and what the command does; the flags are listed after it
}

// newFlagSet returns an empty flag set for the command name.
func newFlagSet(name, synopsis string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package would print each error and the usage to stderr, then return the error,
	// which main prints again: it prints nothing, and parse says what to.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, synopsis: synopsis}
}

// parse parses args. On -h or --help it prints the usage to stdout and returns flag.ErrHelp,
// which run turns into success; any other problem is a *usageError.
func (f *flagSet) parse(args []string, stdout io.Writer) error {
	err := f.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		f.printUsage(stdout)
		return flag.ErrHelp
	case err != nil:
		return &usageError{cmd: f.Name(), err: err}
	case f.NArg() > 0:
		return usageErrorf(f.Name(), "takes flags only, not %q", f.Args())
	}
	return nil
}

func (f *flagSet) printUsage(w io.Writer) {
	fmt.Fprint(w, f.synopsis, "\nflags:\n")
	f.VisitAll(func(fl *flag.Flag) {
		arg, help := flag.UnquoteUsage(fl)
		fmt.Fprintf(w, "  %s\n        %s", strings.TrimSpace("--"+fl.Name+" "+arg), help)
		if fl.DefValue != "" && fl.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", fl.DefValue)
		}
		fmt.Fprintln(w)
	})
	fmt.Fprintln(w, "  -h, --help\n        print this help")
}

// durationFlag is a positive duration; its errors say what to type.
type durationFlag time.Duration

func (d *durationFlag) String() string {
	if d == nil || *d == 0 {
		return ""
	}
	return time.Duration(*d).String()
}

// Set parses s. A bare number is refused with the unit it most likely lacks (Go durations have
// no default unit, and guessing one could tick OpenSky 60 times too often).
func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		if n, nerr := strconv.ParseFloat(s, 64); nerr == nil && n > 0 {
			return fmt.Errorf("a duration needs a unit: did you mean %ss (or %sm)?", s, s)
		} else if nerr == nil {
			return errors.New("must be more than zero, such as 30s, 5m or 1h")
		}
		return errors.New("not a duration; use a number with a unit such as 30s, 5m or 1h")
	}
	if v <= 0 {
		return errors.New("must be more than zero, such as 30s, 5m or 1h")
	}
	*d = durationFlag(v)
	return nil
}

// version is the release, set with -ldflags "-X main.version=v1.2.3"; empty takes the module
// version the go command stamped from version control.
var version string

func printVersion(args []string, stdout io.Writer) error {
	fs := newFlagSet("version", "usage: handler version\n\nPrints the version, the commit and the Go release the handler was built from.\n")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, versionLine(debug.ReadBuildInfo()))
	return nil
}

// versionLine is "handler VERSION, commit REVISION[ (modified)], GO OS/ARCH", from the build
// information the go command puts in every binary (debug.ReadBuildInfo). The commit is
// "unknown" when the binary was built without version control stamps (-buildvcs=false, or
// outside a checkout).
func versionLine(bi *debug.BuildInfo, ok bool) string {
	v, commit, modified, goVersion := version, "unknown", "", runtime.Version()
	if ok {
		if v == "" {
			v = bi.Main.Version
		}
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return strings.Join([]string{"handler " + v, "commit " + commit + modified, goVersion + " " + runtime.GOOS + "/" + runtime.GOARCH}, ", ")
}
