package main_test

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/ehtest"
	"github.com/opensky-eventhubs/handler/internal/openskytest"
)

// tinySnapshot is a /states/all answer with one aircraft.
var tinySnapshot = []byte(`{"time":1518552809,"states":[["ac96b8","AAL2423 ","United States",1518552809,1518552809,-93.4581,44.9529,1150.62,false,116.59,94.3,0,null,1143,"2236",false,0]]}`)

func exitStatus(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("running the handler: %v", err)
	return -1
}

// The exit codes a shell sees: 0 for --version and --help, 2 for a command line that does not
// parse (its error printed once), 1 for a run that cannot work.
func TestCLIExitCodesIntegration(t *testing.T) {
	srv := openskytest.New(t, tinySnapshot)
	unwritable := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(unwritable, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args       []string
		env        map[string]string
		code       int
		stdout     string // wanted in stdout
		stderr     string // wanted exactly once in stderr
		noRequests bool
	}{
		{args: []string{"--version"}, stdout: "handler "},
		{args: []string{"version"}, stdout: "commit "},
		{args: []string{"run", "--help"}, stdout: "usage: handler run"},
		{args: []string{"serve", "-h"}, stdout: "usage: handler serve"},
		{args: []string{"--help"}, stdout: "commands:"},
		{args: []string{"run", "--every", "5"}, code: 2, stderr: "did you mean 5s"},
		{args: []string{"run", "--every", "0s"}, code: 2, stderr: "more than zero"},
		{args: []string{"run", "--once", "--every", "1m"}, code: 2, stderr: "do not go together"},
		{args: []string{"frobnicate"}, code: 2, stderr: "unknown command"},
		{args: []string{"run", "--once"}, env: map[string]string{"OPENSKY_FILE": filepath.Join(unwritable, "out.ndjson")},
			code: 1, stderr: "OPENSKY_FILE", noRequests: true},
	}
	for _, tt := range tests {
		env := map[string]string{"OPENSKY_BASE_URL": srv.BaseURL()}
		for k, v := range tt.env {
			env[k] = v
		}
		before := len(srv.Requests())
		stdout, stderr, err := run(t, env, tt.args...)
		name := "handler " + strings.Join(tt.args, " ")
		if got := exitStatus(t, err); got != tt.code {
			t.Errorf("%s: exit %d, want %d\n%s", name, got, tt.code, stderr)
		}
		if !strings.Contains(stdout, tt.stdout) {
			t.Errorf("%s: stdout lacks %q:\n%s", name, tt.stdout, stdout)
		}
		if tt.stderr != "" && strings.Count(stderr, tt.stderr) != 1 {
			t.Errorf("%s: stderr has %q %d times, want once:\n%s", name, tt.stderr, strings.Count(stderr, tt.stderr), stderr)
		}
		if tt.code == 0 && stderr != "" {
			t.Errorf("%s: stderr is not empty:\n%s", name, stderr)
		}
		if n := len(srv.Requests()) - before; tt.noRequests && n != 0 {
			t.Errorf("%s: %d requests to OpenSky, want none", name, n)
		}
	}
}

// A hub that refuses the producer fails `run --once` before any request to OpenSky, with the
// settings to check.
func TestRunChecksEventHubFirstIntegration(t *testing.T) {
	srv := openskytest.New(t, tinySnapshot)
	cs, _ := ehtest.Target(t, ehtest.Options{Hubs: []string{"opensky"}})
	// The same namespace, a hub it does not have.
	cs = strings.Replace(cs, "EntityPath=opensky", "EntityPath=no-such-hub", 1)
	_, stderr, err := run(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "EVENTHUB_CONNECTION_STRING": cs}, "run", "--once")
	if exitStatus(t, err) != 1 {
		t.Fatalf("exit %v, want 1:\n%s", err, stderr)
	}
	for _, want := range []string{"nothing was fetched from OpenSky", "no-such-hub", "check EVENTHUB_CONNECTION_STRING"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests to OpenSky, want none", n)
	}
}

// Under the Functions host the handler starts whatever its sink: a sink that cannot work is
// logged as soon as the host's first poll is answered, and each tick fails with the reason.
func TestServeLogsFailedSinkCheckIntegration(t *testing.T) {
	srv := openskytest.New(t, tinySnapshot)
	aFile := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h := StartHandler(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": filepath.Join(aFile, "out.ndjson")})
	if !h.Stderr.WaitFor("sink check failed", 5*time.Second) || !strings.Contains(h.Stderr.String(), "OPENSKY_FILE") {
		t.Fatalf("the failed check is not logged:\n%s", h.Stderr)
	}
	if status, _ := h.Invoke(t, invocation); status != http.StatusInternalServerError {
		t.Errorf("tick with an unusable sink: status %d, want 500", status)
	}
}
