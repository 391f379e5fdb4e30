package main_test

// No client secret, access token or shared access key may reach a log line, an error, the Logs
// or the ReturnValue of an answer. These tests run the built binary with known secret values,
// on the paths that work and on those that fail, and search everything it wrote for them.

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/ehtest"
	"github.com/opensky-eventhubs/handler/internal/openskytest"
	"github.com/opensky-eventhubs/handler/internal/recordings"
)

// Known secret values, each unlike anything else the handler prints. The key has the characters
// of a real (base64) one, so its URL-escaped form differs and is searched for too.
const (
	clientSecret = "cs-9d41f0a7e3b2-NEVER-LOG"
	sasKey       = "Sx9+SAS/KEY+never+in+logs/0123456789abcdefAB="
	tokenPrefix  = "at-7c2e91b4-NEVER-LOG-" // the stand-in's access tokens: this and a counter
)

// secretServer is an OpenSky stand-in that knows clientSecret and issues recognisable tokens.
func secretServer(t *testing.T) *openskytest.Server {
	t.Helper()
	srv := openskytest.New(t, recordings.Read(t, smallRecording))
	srv.Update(func(s *openskytest.Server) { s.Secret, s.TokenPrefix = clientSecret, tokenPrefix })
	return srv
}

func secretEnv(srv *openskytest.Server, kv ...string) map[string]string {
	env := map[string]string{
		"OPENSKY_BASE_URL":      srv.BaseURL(),
		"OPENSKY_TOKEN_URL":     srv.TokenURL(),
		"OPENSKY_CLIENT_ID":     srv.ClientID,
		"OPENSKY_CLIENT_SECRET": clientSecret,
		"LOG_LEVEL":             "debug", // the most the handler ever says
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// hubString is a connection string for the hub at host:port with sasKey as its key.
func hubString(port string) string {
	return "Endpoint=sb://127.0.0.1:" + port + ";SharedAccessKeyName=send;SharedAccessKey=" + sasKey + ";EntityPath=opensky;UseDevelopmentEmulator=true"
}

// checkNoSecrets fails t if any secret, plain or URL-escaped, is in out.
func checkNoSecrets(t interface {
	Helper()
	Errorf(string, ...any)
}, what, out string) {
	t.Helper()
	for _, s := range []string{clientSecret, sasKey, url.QueryEscape(sasKey), url.PathEscape(sasKey), tokenPrefix} {
		if i := strings.Index(out, s); i >= 0 {
			lo, hi := max(0, i-120), min(len(out), i+len(s)+40)
			t.Errorf("%s holds a secret (%q): ...%s...", what, s, out[lo:hi])
		}
	}
}

// invokeRaw POSTs a timer invocation and returns the status and the answer as sent.
func invokeRaw(t *testing.T, h *Handler) (int, string) {
	t.Helper()
	resp, err := http.Post(h.URL+"/OpenSkyTimer", "application/json", strings.NewReader(invocation))
	if err != nil {
		t.Fatalf("invoking: %v\n%s", err, h.Stderr)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The handler as the host runs it, through ticks that work and ticks that fail, with every secret
// in use: the OpenSky client secret and tokens, and the hub's shared access key.
func TestSecretsServeIntegration(t *testing.T) {
	t.Parallel()
	p := ehtest.Start(t, ehtest.Options{})
	srv := secretServer(t)
	h := StartHandler(t, secretEnv(srv,
		"OPENSKY_SINK", "eventhub", "EVENTHUB_CONNECTION_STRING", hubString(fmt.Sprint(p.Port)), "OPENSKY_TICK_TIMEOUT", "3s"))

	var answers strings.Builder
	steps := []struct {
		name   string
		before func()
		status int
	}{
		{"ok", nil, http.StatusOK},
		{"token revoked, renewed", srv.RevokeToken, http.StatusOK},
		{"403 from OpenSky", func() { srv.Script(openskytest.Step{Status: http.StatusForbidden, Body: []byte("Forbidden")}) }, http.StatusInternalServerError},
		{"token endpoint refuses the credentials", func() {
			srv.Update(func(s *openskytest.Server) { s.TokenStatus = http.StatusUnauthorized })
			srv.RevokeToken()
		}, http.StatusInternalServerError},
		{"hub unreachable", func() { srv.Update(func(s *openskytest.Server) { s.TokenStatus = 0 }); p.Stop() }, http.StatusInternalServerError},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		status, body := invokeRaw(t, h)
		if status != s.status {
			t.Errorf("%s: status %d, want %d: %s", s.name, status, s.status, body)
		}
		fmt.Fprintf(&answers, "%s: %d %s\n", s.name, status, body)
	}
	if srv.TokenCalls() < 3 {
		t.Errorf("only %d token calls: the test did not exercise the token paths", srv.TokenCalls())
	}

	if err := h.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.done:
		h.done <- err
	case <-time.After(15 * time.Second):
		t.Fatal("no exit within 15s of SIGTERM")
	}
	checkNoSecrets(t, "an answer (Logs or ReturnValue)", answers.String())
	checkNoSecrets(t, "stderr", h.Stderr.String())
	checkNoSecrets(t, "stdout", h.Stdout.String())
	if t.Failed() {
		t.Logf("answers:\n%s\nstderr:\n%s", answers.String(), h.Stderr)
	}
}

// `handler run --once`, which fails at start-up on bad settings or an unreachable hub: the errors
// that reach the terminal name the setting, never its secret value.
func TestSecretsRunIntegration(t *testing.T) {
	closed := freePort(t) // nothing listens here
	tests := []struct {
		name  string
		setup func(t *testing.T, srv *openskytest.Server) []string // extra settings
		fails bool
		want  string // in stderr
	}{
		{
			name: "ok, to the hub",
			setup: func(t *testing.T, srv *openskytest.Server) []string {
				p := ehtest.Start(t, ehtest.Options{})
				return []string{"EVENTHUB_CONNECTION_STRING", hubString(fmt.Sprint(p.Port))}
			},
			want: "tick ok:",
		},
		{
			name: "token endpoint refuses the credentials",
			setup: func(t *testing.T, srv *openskytest.Server) []string {
				srv.Update(func(s *openskytest.Server) { s.TokenStatus = http.StatusUnauthorized })
				return nil
			},
			fails: true, want: "refused the client credentials",
		},
		{
			name: "wrong client secret",
			setup: func(t *testing.T, srv *openskytest.Server) []string {
				srv.Update(func(s *openskytest.Server) { s.Secret = "the-right-one" })
				return nil
			},
			fails: true, want: "refused the client credentials",
		},
		{
			name: "unreachable hub",
			setup: func(t *testing.T, srv *openskytest.Server) []string {
				return []string{"EVENTHUB_CONNECTION_STRING", hubString(closed)}
			},
			fails: true, want: "OPENSKY_SINK=eventhub",
		},
		{
			name: "connection string without a key name",
			setup: func(t *testing.T, srv *openskytest.Server) []string {
				return []string{"EVENTHUB_CONNECTION_STRING", "Endpoint=sb://127.0.0.1:" + closed + ";SharedAccessKey=" + sasKey + ";EntityPath=opensky;UseDevelopmentEmulator=true"}
			},
			fails: true, want: "connection string",
		},
		{
			name: "connection string with a stray part",
			setup: func(t *testing.T, srv *openskytest.Server) []string {
				return []string{"EVENTHUB_CONNECTION_STRING", "Endpoint=sb://127.0.0.1:" + closed + ";SharedAccessKeyName=send;SharedAccessKey=" + sasKey + ";stray;EntityPath=opensky"}
			},
			fails: true, want: "connection string",
		},
		{
			name: "not a connection string",
			setup: func(t *testing.T, srv *openskytest.Server) []string {
				return []string{"EVENTHUB_CONNECTION_STRING", "HostName=ns.servicebus.windows.net;SharedAccessKey=" + sasKey}
			},
			fails: true, want: "EVENTHUB_CONNECTION_STRING",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := secretServer(t)
			env := secretEnv(srv, tt.setup(t, srv)...)
			if env["EVENTHUB_CONNECTION_STRING"] == "" {
				env["OPENSKY_FILE"] = filepath.Join(t.TempDir(), "opensky.ndjson")
			}
			stdout, stderr, err := run(t, env, "run", "--once")
			if tt.fails != (err != nil) {
				t.Errorf("run --once: error %v, want failure %v\n%s", err, tt.fails, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			checkNoSecrets(t, "stderr", stderr)
			checkNoSecrets(t, "stdout", stdout)
			if t.Failed() {
				t.Logf("stderr:\n%s", stderr)
			}
		})
	}
}

// The search itself finds a leak, also in escaped form.
func TestCheckNoSecretsFindsLeaks(t *testing.T) {
	for _, leak := range []string{clientSecret, sasKey, url.QueryEscape(sasKey), tokenPrefix + "1"} {
		r := &errRecorder{}
		checkNoSecrets(r, "stderr", "level=ERROR msg=x err="+leak+" more")
		if r.n == 0 {
			t.Errorf("a leak of %q went unnoticed", leak)
		}
	}
	r := &errRecorder{}
	checkNoSecrets(r, "stderr", "level=INFO msg=\"starting\" client_secret=**** connection_string=****")
	if r.n != 0 {
		t.Errorf("masked values reported as leaks")
	}
}

// errRecorder counts Errorf calls.
type errRecorder struct{ n int }

func (r *errRecorder) Helper()               {}
func (r *errRecorder) Errorf(string, ...any) { r.n++ }

// An OpenSky (or proxy) error page that echoes the request's headers, Authorization included:
// the excerpt of it in stderr, Logs and the answer has the token redacted.
func TestSecretsEchoedByErrorPageIntegration(t *testing.T) {
	t.Parallel()
	srv := secretServer(t)
	h := StartHandler(t, secretEnv(srv, "OPENSKY_FILE", filepath.Join(t.TempDir(), "opensky.ndjson")))
	var answers strings.Builder
	for _, tc := range []struct{ status, attempts int }{
		{http.StatusInternalServerError, 4}, {http.StatusBadGateway, 4}, {http.StatusForbidden, 1}, {http.StatusBadRequest, 1},
	} {
		for range tc.attempts {
			srv.Script(openskytest.Step{Status: tc.status, Body: []byte("<html>Error</html>"), EchoHeaders: true})
		}
		got, body := invokeRaw(t, h)
		// encoding/json writes < and > as \u003c and \u003e.
		if got != http.StatusInternalServerError || !strings.Contains(body, `Authorization: \u003credacted\u003e`) {
			t.Errorf("OpenSky %d echoing the headers: answer %d %s", tc.status, got, body)
		}
		fmt.Fprintf(&answers, "%d: %d %s\n", tc.status, got, body)
	}
	if !h.Stderr.WaitFor("tick failed", 5*time.Second) {
		t.Fatalf("no failed tick on stderr:\n%s", h.Stderr)
	}
	checkNoSecrets(t, "an answer (Logs or ReturnValue)", answers.String())
	checkNoSecrets(t, "stderr", h.Stderr.String())
	checkNoSecrets(t, "stdout", h.Stdout.String())
	if t.Failed() {
		t.Logf("answers:\n%s\nstderr:\n%s", answers.String(), h.Stderr)
	}
}
