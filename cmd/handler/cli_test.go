package main

import (
	"bytes"
	"context"

	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/openskytest"
)

// twoStates is a /states/all answer with two aircraft, in OpenSky's positional format.
var twoStates = []byte(`{"time":1518552809,"states":[` +
	`["ac96b8","AAL2423 ","United States",1518552809,1518552809,-93.4581,44.9529,1150.62,false,116.59,94.3,0,null,1143,"2236",false,0],` +
	`["3c6444","DLH9LF  ","Germany",1518552808,1518552809,8.5622,50.0379,null,true,0,160.2,null,null,null,"1000",false,0]]}`)

// runCLI calls run as main does, with only env as the environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var o, e bytes.Buffer
	err = run(ctx, args, func(k string) string { return env[k] }, &o, &e)
	return o.String(), e.String(), err
}

// -h and --help print the command's usage to stdout and succeed, whatever the command.
func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "commands:"},
		{[]string{"-h"}, "commands:"},
		{[]string{"help"}, "commands:"},
		{[]string{"help", "run"}, "usage: handler run"},
		{[]string{"run", "--help"}, "--every DURATION"},
		{[]string{"run", "-h"}, "--once"},
		{[]string{"run", "--every", "1m", "-h"}, "--for DURATION"},
		{[]string{"serve", "--help"}, "usage: handler serve"},
		{[]string{"serve", "-h"}, "FUNCTIONS_CUSTOMHANDLER_PORT"},
		{[]string{"version", "--help"}, "usage: handler version"},
		{[]string{"tail", "-h"}, "--consumer-group"},
		{[]string{"help", "tail"}, "usage: handler tail"},
	}
	for _, tt := range tests {
		stdout, stderr, err := runCLI(t, nil, tt.args...)
		if err != nil || !strings.Contains(stdout, tt.want) || stderr != "" {
			t.Errorf("handler %s: err %v, stdout lacks %q or stderr is not empty:\nstdout: %s\nstderr: %s", strings.Join(tt.args, " "), err, tt.want, stdout, stderr)
		}
	}
}

// A command line that does not parse is one error, printed once (by main, not by the flag
// package too), that says what to type, with exit code 2.
func TestFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--every", "5"}, "did you mean 5s"},
		{[]string{"run", "--every", "0s"}, "more than zero"},
		{[]string{"run", "--every", "-1m"}, "more than zero"},
		{[]string{"run", "--every", "soon"}, "not a duration"},
		{[]string{"run", "--for", "0"}, "more than zero"},
		{[]string{"run", "--for", "90"}, "did you mean 90s"},
		{[]string{"run", "--once", "--every", "1m"}, "--once and --every do not go together"},
		{[]string{"run", "--once", "--for", "1m"}, "--once and --for do not go together"},
		{[]string{"run", "now"}, "takes flags only"},
		{[]string{"run", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"serve", "--port", "1"}, "flag provided but not defined"},
		{[]string{"version", "extra"}, "takes flags only"},
		{[]string{"tail", "--for", "5"}, "did you mean 5s"},
		{[]string{"tail", "--count", "-1"}, "--count must not be negative"},
		{[]string{"bogus"}, `unknown command "bogus"`},
	}
	for _, tt := range tests {
		stdout, stderr, err := runCLI(t, nil, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("handler %s: err %v, want %q", strings.Join(tt.args, " "), err, tt.want)
			continue
		}
		if exitCode(err) != 2 {
			t.Errorf("handler %s: exit code %d, want 2", strings.Join(tt.args, " "), exitCode(err))
		}
		if stdout != "" || stderr != "" {
			t.Errorf("handler %s printed besides its error:\nstdout: %s\nstderr: %s", strings.Join(tt.args, " "), stdout, stderr)
		}
	}
	// A failure that is not the command line's exits 1.
	if _, _, err := runCLI(t, map[string]string{"OPENSKY_BBOX": "1,2"}, "run", "--once"); err == nil || exitCode(err) != 1 {
		t.Errorf("bad settings: err %v, exit code %d; want 1", err, exitCode(err))
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}, {"-version"}} {
		stdout, _, err := runCLI(t, nil, args...)
		if err != nil || !strings.HasPrefix(stdout, "handler ") || strings.Count(stdout, "\n") != 1 ||
			!strings.Contains(stdout, runtime.GOOS+"/"+runtime.GOARCH) || !strings.Contains(stdout, "commit ") {
			t.Errorf("handler %s: %v %q", args[0], err, stdout)
		}
	}
	stamped := &debug.BuildInfo{GoVersion: "go1.26.10", Main: debug.Module{Version: "v0.0.0-20261127151144-a652aea91df3+dirty"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "a652aea91df3ad18067725e9971105585678e2d2"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		release string
		bi      *debug.BuildInfo
		ok      bool
		want    string
	}{
		{"", stamped, true, "handler v0.0.0-20261127151144-a652aea91df3+dirty, commit a652aea91df3ad18067725e9971105585678e2d2 (modified), go1.26.10 "},
		{"v1.2.3", stamped, true, "handler v1.2.3, commit a652aea91df3ad18067725e9971105585678e2d2 (modified), go1.26.10 "},
		{"", &debug.BuildInfo{GoVersion: "go1.26.10", Main: debug.Module{Version: "(devel)"}}, true, "handler (devel), commit unknown, go1.26.10 "},
		{"", nil, false, "handler (devel), commit unknown, " + runtime.Version() + " "},
	}
	defer func(v string) { version = v }(version)
	for _, tt := range tests {
		version = tt.release // as -ldflags "-X main.version=..." sets it
		if got := versionLine(tt.bi, tt.ok); !strings.HasPrefix(got, tt.want) {
			t.Errorf("versionLine = %q, want it to start %q", got, tt.want)
		}
	}
}

// The credit check prices the interval that will be used: --every 5s on the whole world costs
// about 69,000 credits a day against an anonymous caller's 400.
func TestRunEveryWarnsAboutCredits(t *testing.T) {
	srv := openskytest.New(t, twoStates)
	out := filepath.Join(t.TempDir(), "out.ndjson")
	_, stderr, err := runCLI(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": out}, "run", "--every", "5s", "--for", "1ms")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"level=WARN", "--every 5s ticks 17280 times a day", "69120 credits", "over the 400", "--every 14m24s", "every=5s", "tick_timeout=4s"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// The schedule alone (every 15 minutes) fits, and says so.
	_, stderr, err = runCLI(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": out}, "run", "--once")
	if err != nil || !strings.Contains(stderr, "credit budget fits") || strings.Contains(stderr, "level=WARN") {
		t.Errorf("run --once on the default schedule: %v\n%s", err, stderr)
	}
}

// An explicit OPENSKY_TICK_TIMEOUT is checked against --every, before anything is fetched.
func TestRunTickTimeoutAgainstEvery(t *testing.T) {
	srv := openskytest.New(t, twoStates)
	env := map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": filepath.Join(t.TempDir(), "o.ndjson"), "OPENSKY_TICK_TIMEOUT": "90s"}
	_, _, err := runCLI(t, env, "run", "--every", "1m")
	if err == nil || !strings.Contains(err.Error(), "OPENSKY_TICK_TIMEOUT") || !strings.Contains(err.Error(), "--every") {
		t.Errorf("tick timeout 90s with --every 1m: %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests to OpenSky, want none", n)
	}
}

// A run whose sink cannot take the events fails before its first request to OpenSky.
func TestRunChecksFileSinkFirst(t *testing.T) {
	dir := t.TempDir()
	aFile := filepath.Join(dir, "a-file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
		args             []string
	}{
		{"under a file", filepath.Join(aFile, "out.ndjson"), "cannot be written", []string{"run", "--once"}},
		{"a folder", dir, "cannot be written", []string{"run", "--once"}},
		{"missing folder", filepath.Join(dir, "typo", "out.ndjson"), "does not exist; create it", []string{"run", "--once"}},
		{"several ticks", filepath.Join(aFile, "out.ndjson"), "cannot be written", []string{"run", "--every", "1h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openskytest.New(t, twoStates)
			_, stderr, err := runCLI(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": tt.path}, tt.args...)
			if err == nil || !strings.Contains(err.Error(), "OPENSKY_FILE") || !strings.Contains(err.Error(), tt.want) ||
				!strings.Contains(err.Error(), "nothing was fetched") || exitCode(err) != 1 {
				t.Errorf("err = %v; want one naming OPENSKY_FILE with %q\n%s", err, tt.want, stderr)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("%d requests to OpenSky, want none", n)
			}
		})
	}
}

// The default OPENSKY_FILE's folder, data/, is created for the user, and the log says so.
func TestRunCreatesDefaultFolder(t *testing.T) {
	t.Chdir(t.TempDir())
	srv := openskytest.New(t, twoStates)
	_, stderr, err := runCLI(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL()}, "run", "--once")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, `msg="created the folder for OPENSKY_FILE" folder=data`) {
		t.Errorf("the log does not say the folder was created:\n%s", stderr)
	}
	data, err := os.ReadFile(filepath.Join("data", "opensky.ndjson"))
	if err != nil || strings.Count(string(data), "\n") != 2 {
		t.Errorf("data/opensky.ndjson: %v %q", err, data)
	}
	// The folder exists now: a second run does not claim to create it.
	if _, stderr, err := runCLI(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL()}, "run", "--once"); err != nil || strings.Contains(stderr, "created the folder") {
		t.Errorf("second run: %v\n%s", err, stderr)
	}
}

// A run of several ticks ends with one line that adds them up, and fails if one did.
func TestRunSummaryLine(t *testing.T) {
	srv := openskytest.New(t, twoStates)
	srv.Script(openskytest.Step{Status: http.StatusBadRequest}) // not retried: the first tick fails
	out := filepath.Join(t.TempDir(), "out.ndjson")
	// --for leaves room for a second tick even when the first is slow (a loaded CI machine): the
	// summary is checked, not the pace.
	_, stderr, err := runCLI(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": out}, "run", "--every", "100ms", "--for", "1s")
	ticks := len(srv.Requests())
	if ticks < 2 {
		t.Fatalf("%d ticks, want at least 2\n%s", ticks, stderr)
	}
	if err == nil || !strings.Contains(err.Error(), "1 of "+strconv.Itoa(ticks)+" ticks failed") || exitCode(err) != 1 {
		t.Errorf("err = %v, want 1 of %d ticks failed", err, ticks)
	}
	want := "run finished: " + strconv.Itoa(ticks) + " ticks, 1 failed, 0 skipped, " + strconv.Itoa(2*(ticks-1)) + " events published"
	if strings.Count(stderr, "run finished:") != 1 || !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks one %q:\n%s", want, stderr)
	}
	// --once is its own summary.
	_, stderr, _ = runCLI(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": out}, "run", "--once")
	if strings.Contains(stderr, "run finished") {
		t.Errorf("run --once printed a run summary:\n%s", stderr)
	}
}

// LOG_LEVEL=debug shows each OpenSky request, with no token or secret; info does not.
func TestRunDebugLogsRequests(t *testing.T) {
	srv := openskytest.New(t, twoStates)
	srv.Update(func(s *openskytest.Server) { s.TokenPrefix = "tok-55e1d0-" })
	env := map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_TOKEN_URL": srv.TokenURL(), "OPENSKY_CLIENT_ID": srv.ClientID,
		"OPENSKY_CLIENT_SECRET": srv.Secret, "OPENSKY_FILE": filepath.Join(t.TempDir(), "o.ndjson"), "OPENSKY_BBOX": "45.8,5.9,47.8,10.5"}
	line := regexp.MustCompile(`level=DEBUG msg="opensky request" url="` + regexp.QuoteMeta(srv.BaseURL()) + `/states/all\?lamax=47.8[^"]*" attempt=1 status=200 bytes=\d+ duration=\S+`)
	for _, level := range []string{"debug", "info"} {
		env["LOG_LEVEL"] = level
		_, stderr, err := runCLI(t, env, "run", "--once")
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		if got := line.MatchString(stderr); got != (level == "debug") {
			t.Errorf("LOG_LEVEL=%s: request line logged %v:\n%s", level, got, stderr)
		}
		for _, secret := range []string{"tok-55e1d0-", srv.Secret, "Bearer", "Authorization"} {
			if strings.Contains(stderr, secret) {
				t.Errorf("LOG_LEVEL=%s: the log shows %q:\n%s", level, secret, stderr)
			}
		}
	}
}
