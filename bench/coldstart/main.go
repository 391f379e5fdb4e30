// Command coldstart measures the handler's cold start as the Azure Functions host sees it: the
// time from exec until GET / on FUNCTIONS_CUSTOMHANDLER_PORT gets an HTTP answer, over many runs.
//
//	go run ./bench/coldstart [-n 50] [-out coldstart.json] -case LABEL,BINARY[,KEY=VALUE...] ...
//
// Several cases are measured round-robin (case 1, case 2, ..., case 1, ...) so that they share
// the machine's load. Each run gets a free port and the process's environment plus the case's
// KEY=VALUE pairs. The handler is stopped with SIGTERM after each answer.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opensky-eventhubs/handler/bench/internal/coldresult"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("coldstart", flag.ContinueOnError)
	var cases []testCase
	fs.Func("case", "`LABEL,BINARY[,KEY=VALUE...]`: a binary to start and extra environment (repeatable)", func(v string) error {
		parts := strings.Split(v, ",")
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return errors.New("want LABEL,BINARY[,KEY=VALUE...]")
		}
		c := testCase{label: parts[0], bin: parts[1]}
		for _, kv := range parts[2:] {
			if !strings.Contains(kv, "=") {
				return fmt.Errorf("%q is not KEY=VALUE", kv)
			}
			c.env = append(c.env, kv)
		}
		cases = append(cases, c)
		return nil
	})
	n := fs.Int("n", 50, "runs per case")
	out := fs.String("out", "", "write the results as JSON to this file")
	timeout := fs.Duration("timeout", 30*time.Second, "give up on one run after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(cases) == 0 || *n < 1 {
		return errors.New("give at least one -case, and -n of at least 1")
	}
	results := make([]coldresult.Result, len(cases))
	for i, c := range cases {
		results[i] = coldresult.Result{Label: c.label, Binary: c.bin, Runs: *n}
	}
	for run := range *n {
		for i, c := range cases {
			d, err := once(c, *timeout)
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", c.label, run+1, err)
			}
			results[i].Millis = append(results[i].Millis, float64(d.Microseconds())/1000)
		}
	}
	for i := range results {
		res := &results[i]
		sorted := slices.Sorted(slices.Values(res.Millis))
		res.MedianMS = quantile(sorted, 0.5)
		res.P90MS = quantile(sorted, 0.9)
		res.MinMS, res.MaxMS = sorted[0], sorted[len(sorted)-1]
		fmt.Fprintf(stdout, "cold start %s: %d runs, median %.1f ms, p90 %.1f ms, min %.1f ms, max %.1f ms\n",
			res.Label, res.Runs, res.MedianMS, res.P90MS, res.MinMS, res.MaxMS)
	}
	if *out != "" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(*out, append(b, '\n'), 0o644)
	}
	return nil
}

type testCase struct {
	label, bin string
	env        []string
}

// quantile of sorted values, interpolating between neighbours.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(pos)
	if lo+1 >= len(sorted) {
		return sorted[lo]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// once starts the case's binary on a free port and returns the time from exec to the first answer to GET /.
func once(c testCase, timeout time.Duration) (time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(c.bin)
	cmd.Env = append(append(os.Environ(), c.env...), "FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: timeout}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			return nil
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("the handler did not stop within 10 s of SIGTERM")
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			d := time.Since(start)
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			return d, stop()
		}
		select {
		case err := <-exited:
			return 0, fmt.Errorf("the handler exited before answering GET / (%v)", err)
		case <-ctx.Done():
			_ = stop()
			return 0, fmt.Errorf("no answer to GET / within %v", timeout)
		case <-time.After(100 * time.Microsecond):
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
