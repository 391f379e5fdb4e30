package main_test

// From SIGTERM to exit takes at most SHUTDOWN_GRACE plus one second, whatever the tick and the
// sink are doing: these runs stall OpenSky or the hub's connection in the middle of a tick
// (ehtest.Proxy swallows what either side sends, as a dead link does) and time the exit.

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/ehtest"
	"github.com/opensky-eventhubs/handler/internal/openskytest"
	"github.com/opensky-eventhubs/handler/internal/recordings"
)

// shutdownGrace is the SHUTDOWN_GRACE of these runs, and tickTimeout their OPENSKY_TICK_TIMEOUT:
// far longer, so that only the grace can end the tick in time.
const (
	shutdownGrace = 2 * time.Second
	tickTimeout   = "40s"
)

// waitExit sends SIGTERM to cmd and checks that it exits (done gets Wait's result) within the
// grace plus one second.
func waitExit(t *testing.T, cmd *exec.Cmd, done chan error, stderr *syncBuffer) error {
	t.Helper()
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	limit := shutdownGrace + time.Second
	select {
	case err := <-done:
		done <- err // for the cleanup
		took := time.Since(sent)
		t.Logf("exited %v after SIGTERM (SHUTDOWN_GRACE %v): %v", took.Round(time.Millisecond), shutdownGrace, err)
		if took > limit {
			t.Errorf("exit took %v after SIGTERM, more than SHUTDOWN_GRACE + 1s = %v\n%s", took.Round(time.Millisecond), limit, stderr)
		}
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM with SHUTDOWN_GRACE=%v\n%s", shutdownGrace, stderr)
	}
	return nil
}

// waitSwallowed waits until something was sent on the proxy's stalled connections: a call is
// then stuck on the silent link.
func waitSwallowed(t *testing.T, x *ehtest.Proxy, stderr *syncBuffer) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); x.Swallowed() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("nothing was sent on the stalled connection:\n%s", stderr)
		}
	}
}

// handler serve, with a tick stuck on a silent hub connection: the tick is stopped at three
// quarters of the grace and the sink's close is abandoned at the grace.
func TestSIGTERMStalledHubExitsWithinGraceIntegration(t *testing.T) {
	for _, tc := range []struct {
		name      string
		warmFirst bool // a clean tick first, so that the stall hits a send on open links
	}{
		{"stalled send", true},
		{"stalled while connecting", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := ehtest.Start(t, ehtest.Options{})
			x := ehtest.StartProxy(t, p)
			srv := openskytest.New(t, recordings.Read(t, smallRecording))
			h := StartHandler(t, map[string]string{
				"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_SINK": "eventhub", "EVENTHUB_CONNECTION_STRING": x.ConnectionString(ehtest.DefaultHub),
				"OPENSKY_TICK_TIMEOUT": tickTimeout, "SHUTDOWN_GRACE": shutdownGrace.String(),
			})
			if tc.warmFirst {
				if status, resp := h.Invoke(t, invocation); status != http.StatusOK {
					t.Fatalf("clean tick: status %d: %s\n%s", status, logsOf(resp), h.Stderr)
				}
			} else {
				// The sink connects once GET / was answered: stall as soon as it has a
				// connection, so the tick gets stuck connecting or opening its first link.
				for deadline := time.Now().Add(10 * time.Second); x.Connections() == 0; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("the handler never connected to the hub:\n%s", h.Stderr)
					}
				}
			}
			x.Stall()
			answered := make(chan int, 1)
			go func() {
				resp, err := http.Post(h.URL+"/OpenSkyTimer", "application/json", strings.NewReader(invocation))
				if err != nil {
					answered <- 0
					return
				}
				resp.Body.Close()
				answered <- resp.StatusCode
			}()
			waitSwallowed(t, x, h.Stderr)
			waitExit(t, h.Cmd, h.done, h.Stderr)
			if status := <-answered; status == http.StatusOK {
				t.Errorf("the tick stuck on a silent hub answered 200")
			}
		})
	}
}

// startRun starts `handler run` with env and args.
func startRun(t *testing.T, env map[string]string, args ...string) (*exec.Cmd, chan error, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"run"}, args...)...)
	cmd.Env = baseEnv(env)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd, done, stderr
}

// handler run keeps to the grace too: a tick stuck on OpenSky or on the hub is stopped with the
// reason, and the process exits within the grace plus a second, not at the tick's timeout.
func TestRunSIGTERMDuringTickIntegration(t *testing.T) {
	t.Run("OpenSky never answers", func(t *testing.T) {
		t.Parallel()
		srv := openskytest.New(t, recordings.Read(t, smallRecording))
		srv.Script(openskytest.Step{Delay: time.Minute})
		out := filepath.Join(t.TempDir(), "opensky.ndjson")
		cmd, done, stderr := startRun(t, map[string]string{
			"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": out,
			"OPENSKY_TICK_TIMEOUT": tickTimeout, "OPENSKY_REQUEST_TIMEOUT": tickTimeout, "SHUTDOWN_GRACE": shutdownGrace.String(),
		}, "--once")
		for deadline := time.Now().Add(20 * time.Second); len(srv.Requests()) == 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the tick never called OpenSky:\n%s", stderr)
			}
		}
		if err := waitExit(t, cmd, done, stderr); err == nil {
			t.Errorf("run exited 0 though its tick was stopped")
		}
		if !stderr.WaitFor("shutting down", time.Second) {
			t.Errorf("stderr does not say the tick was stopped for the shutdown:\n%s", stderr)
		}
		if fileSize(t, out) != 0 {
			t.Errorf("the stopped tick wrote to the file")
		}
	})
	t.Run("hub connection silent", func(t *testing.T) {
		t.Parallel()
		p := ehtest.Start(t, ehtest.Options{})
		x := ehtest.StartProxy(t, p)
		srv := openskytest.New(t, recordings.Read(t, smallRecording))
		// run checks the hub before the first tick; the link goes silent once the tick is
		// fetching, so that its publish is what gets stuck.
		srv.Script(openskytest.Step{Delay: 300 * time.Millisecond})
		cmd, done, stderr := startRun(t, map[string]string{
			"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_SINK": "eventhub", "EVENTHUB_CONNECTION_STRING": x.ConnectionString(ehtest.DefaultHub),
			"OPENSKY_TICK_TIMEOUT": tickTimeout, "SHUTDOWN_GRACE": shutdownGrace.String(),
		}, "--once")
		for deadline := time.Now().Add(20 * time.Second); len(srv.Requests()) == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the tick never called OpenSky:\n%s", stderr)
			}
		}
		x.Stall()
		waitSwallowed(t, x, stderr)
		if err := waitExit(t, cmd, done, stderr); err == nil {
			t.Errorf("run exited 0 though its tick was stopped")
		}
		if !stderr.WaitFor("shutting down", time.Second) {
			t.Errorf("stderr does not say the tick was stopped for the shutdown:\n%s", stderr)
		}
	})
}
