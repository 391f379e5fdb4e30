// Command replay is a local stand-in for the OpenSky REST API: it serves one recorded
// /states/all answer at /api/states/all on 127.0.0.1, for `make demo` (scripts/demo.sh) and for
// bench/run.sh, whose handler, Python script and Node script fetch the same bytes from it. Like
// OpenSky it sends gzip to clients that ask for it (compressed once, at start) and an
// X-Rate-Limit-Remaining header.
//
//	go run ./test/replay -file states.json [-addr 127.0.0.1:0]
//
// It prints "listening on http://HOST:PORT" on stdout when ready, one line per request on stderr,
// and stops on SIGINT/SIGTERM (or when standard input closes, with -exit-with-stdin).
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	file := fs.String("file", "", "the recorded /states/all answer to serve (required)")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	exitWithStdin := fs.Bool("exit-with-stdin", false, "stop when standard input closes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("-file is required")
	}
	body, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(body); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/states/all", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("X-Rate-Limit-Remaining", "4000")
		out := body
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			out = gz.Bytes()
		}
		h.Set("Content-Length", strconv.Itoa(len(out)))
		_, _ = w.Write(out)
		fmt.Fprintf(stderr, "replay: GET %s gzip=%v bytes=%d ua=%q\n", r.URL.RequestURI(), len(out) != len(body), len(out), r.UserAgent())
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if *exitWithStdin {
		go func() {
			_, _ = io.Copy(io.Discard, stdin) // stdin closed: the caller is gone
			cancel()
		}()
	}
	go func() {
		<-ctx.Done()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
