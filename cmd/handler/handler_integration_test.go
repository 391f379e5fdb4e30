package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/openskytest"
	"github.com/opensky-eventhubs/handler/internal/recordings"
	"github.com/opensky-eventhubs/handler/schema"
)

// binary is the handler built once for all tests here, as the Functions host would run it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "handler-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "handler")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building handler: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Invocation is a timer invocation shaped as the host sends it.
const invocation = `{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-27T10:00:00.0013482+00:00","Next":"2026-11-27T10:15:00+00:00","LastUpdated":"2026-11-27T10:00:00.0013482+00:00"},"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"OpenSkyTimer","UtcNow":"2026-11-27T10:15:00.0123Z","RandGuid":"1b7b5c3d-1111-2222-3333-444455556666"}}}`

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// baseEnv is a clean environment: only what the test sets reaches the handler.
func baseEnv(extra map[string]string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// Handler is a started handler process.
type Handler struct {
	Cmd    *exec.Cmd
	URL    string
	Stdout *syncBuffer
	Stderr *syncBuffer
	done   chan error
}

// syncBuffer is the process's stderr, safe to read while the process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WaitFor waits until the output holds s: the process writes stderr through a pipe, so a line
// logged before an HTTP answer may arrive here after it.
func (b *syncBuffer) WaitFor(s string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for !strings.Contains(b.String(), s) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// StartHandler starts the binary as the Functions host does and waits until GET / answers.
func StartHandler(t *testing.T, env map[string]string) *Handler {
	t.Helper()
	port := freePort(t)
	env["FUNCTIONS_CUSTOMHANDLER_PORT"] = port
	h := &Handler{URL: "http://127.0.0.1:" + port, Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, done: make(chan error, 1)}
	h.Cmd = exec.Command(binary)
	h.Cmd.Env = baseEnv(env)
	h.Cmd.Stdout, h.Cmd.Stderr = h.Stdout, h.Stderr
	if err := h.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { h.done <- h.Cmd.Wait() }()
	t.Cleanup(func() {
		_ = h.Cmd.Process.Kill()
		<-h.done
	})
	// Poll GET / as the host does, until any answer comes.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(h.URL + "/")
		if err == nil {
			resp.Body.Close()
			return h
		}
		select {
		case err := <-h.done:
			t.Fatalf("handler exited before it was ready: %v\n%s", err, h.Stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("handler not ready after 20s\n%s", h.Stderr)
		}
	}
}

// Invoke POSTs one timer invocation and decodes the answer.
func (h *Handler) Invoke(t *testing.T, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.URL+"/OpenSkyTimer", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Azure-Functions-InvocationId", "4d2b7c3e-0000-1111-2222-333344445555")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("invoking: %v\n%s", err, h.Stderr)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, out
}

// checkNDJSON asserts the file holds exactly want schema-valid events with distinct ids.
func checkNDJSON(t *testing.T, data []byte, want int) {
	t.Helper()
	v, err := schema.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if err := v.Validate(sc.Bytes()); err != nil {
			t.Fatalf("line %d does not fit the schema: %v\n%s", len(ids)+1, err, sc.Bytes())
		}
		var e struct {
			ID string `json:"event_id"`
		}
		_ = json.Unmarshal(sc.Bytes(), &e)
		if ids[e.ID] {
			t.Fatalf("event %s written twice", e.ID)
		}
		ids[e.ID] = true
	}
	if len(ids) != want {
		t.Fatalf("%d events, want %d", len(ids), want)
	}
}

func TestServeIntegration(t *testing.T) {
	rec := recordings.States[0]
	srv := openskytest.New(t, recordings.Read(t, "states/"+rec.Name))
	out := filepath.Join(t.TempDir(), "opensky.ndjson")
	h := StartHandler(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": out})

	status, resp := h.Invoke(t, invocation)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v\n%s", status, resp, h.Stderr)
	}
	rv, _ := resp["ReturnValue"].(map[string]any)
	if rv["events_published"] != float64(rec.States) || rv["states_received"] != float64(rec.States) || rv["sink"] != "file" {
		t.Errorf("ReturnValue = %v", rv)
	}
	logs, _ := resp["Logs"].([]any)
	if len(logs) == 0 || !strings.HasPrefix(logs[0].(string), "tick ok:") {
		t.Errorf("Logs = %v", logs)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkNDJSON(t, data, rec.States)
	if !h.Stderr.WaitFor("listening addr=127.0.0.1:", 5*time.Second) {
		t.Errorf("handler must listen on 127.0.0.1 only:\n%s", h.Stderr)
	}

	// A second tick appends the next snapshot; a malformed body answers 400 and writes nothing.
	if status, _ := h.Invoke(t, `{"Data":{}}`); status != http.StatusBadRequest {
		t.Errorf("bad invocation: status %d", status)
	}
	// SIGTERM ends the process cleanly.
	if err := h.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, h.Stderr)
		}
		h.done <- err // for the cleanup
	case <-time.After(15 * time.Second):
		t.Fatal("handler did not exit within 15s of SIGTERM")
	}
}

func TestServeFailedTickIntegration(t *testing.T) {
	srv := openskytest.New(t, []byte(`{"time":1634471390,"states":[["ac96b8","AAL`))
	out := filepath.Join(t.TempDir(), "out.ndjson")
	h := StartHandler(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": out})
	status, resp := h.Invoke(t, invocation)
	if status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500: %v", status, resp)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed tick wrote %s", out)
	}
	if !h.Stderr.WaitFor("tick failed", 5*time.Second) || !strings.Contains(h.Stderr.String(), "truncated") {
		t.Errorf("stderr lacks the reason:\n%s", h.Stderr)
	}
}

func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = baseEnv(env)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestRunOnceIntegration(t *testing.T) {
	for _, rec := range recordings.States {
		t.Run(rec.Name, func(t *testing.T) {
			srv := openskytest.New(t, recordings.Read(t, "states/"+rec.Name))
			out := filepath.Join(t.TempDir(), "opensky.ndjson")
			_, stderr, err := run(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": out}, "run", "--once")
			if err != nil {
				t.Fatalf("run --once: %v\n%s", err, stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			checkNDJSON(t, data, rec.States)
			if n := strings.Count(stderr, "tick ok:"); n != 1 {
				t.Errorf("%d summary lines, want 1:\n%s", n, stderr)
			}
		})
	}
}

func TestRunToStdoutIntegration(t *testing.T) {
	srv := openskytest.New(t, recordings.Read(t, "states/small-2018-02-13.json"))
	stdout, stderr, err := run(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": "-"}, "run", "--once")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	checkNDJSON(t, []byte(stdout), 6)
}

func TestRunEveryForIntegration(t *testing.T) {
	srv := openskytest.New(t, recordings.Read(t, "states/small-2018-02-13.json"))
	out := filepath.Join(t.TempDir(), "opensky.ndjson")
	_, stderr, err := run(t, map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": out}, "run", "--every", "200ms", "--for", "1500ms")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	// The next tick is due 200ms after the last one ended, and none is begun past --for: at most
	// 8 ticks (at 0, 200, ..., 1400ms), and at least 2 unless the first took over 1.3s. The count
	// in between depends on how busy the machine is.
	ticks := len(srv.Requests())
	if ticks < 2 || ticks > 8 {
		t.Errorf("%d ticks in 1.5s every 200ms, want 2 to 8", ticks)
	}
	if n := strings.Count(stderr, "tick ok:"); n != ticks {
		t.Errorf("%d tick lines for %d ticks", n, ticks)
	}
	if want := fmt.Sprintf("run finished: %d ticks, 0 failed, 0 skipped, %d events published", ticks, 6*ticks); !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
}

func TestBadSettingsIntegration(t *testing.T) {
	_, stderr, err := run(t, map[string]string{"OPENSKY_SCHEDULE": "*/5 * * * *", "OPENSKY_BBOX": "1,2,3", "OPENSKY_CLIENT_SECRET": "TOPSECRET"}, "run", "--once")
	if err == nil {
		t.Fatal("want a failure")
	}
	for _, want := range []string{"OPENSKY_SCHEDULE", "OPENSKY_BBOX", "OPENSKY_CLIENT_ID"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %s:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "TOPSECRET") {
		t.Errorf("stderr leaks the secret:\n%s", stderr)
	}
	_, stderr, err = run(t, map[string]string{}, "serve")
	if err == nil || !strings.Contains(stderr, "FUNCTIONS_CUSTOMHANDLER_PORT") {
		t.Errorf("serve without a port: %v %s", err, stderr)
	}
}

// Ctrl-C between ticks ends `handler run` at once, after the tick that ran.
func TestRunInterruptIntegration(t *testing.T) {
	srv := openskytest.New(t, recordings.Read(t, "states/small-2018-02-13.json"))
	cmd := exec.Command(binary, "run", "--every", "1h")
	cmd.Env = baseEnv(map[string]string{"OPENSKY_BASE_URL": srv.BaseURL(), "OPENSKY_FILE": filepath.Join(t.TempDir(), "o.ndjson")})
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if !stderr.WaitFor("next tick", 20*time.Second) {
		t.Fatalf("no tick ran:\n%s", stderr)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after Ctrl-C: %v\n%s", err, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler run did not stop within 10s of Ctrl-C")
	}
	if !strings.Contains(stderr.String(), "tick ok:") || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr:\n%s", stderr)
	}
}
