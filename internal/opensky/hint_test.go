package opensky_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/openskytest"
)

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// A request that gets no HTTP answer says what to check: the setting, the network, the proxy.
func TestNetworkErrorHints(t *testing.T) {
	srv := openskytest.New(t, small)
	hijack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // as a firewall that cuts the connection would
		}
	}))
	defer hijack.Close()
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	transport := func(mod func(*http.Transport)) *http.Client {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		mod(tr)
		return &http.Client{Transport: tr}
	}
	tests := []struct {
		name string
		base string
		hc   *http.Client
		step *openskytest.Step
		want []string
	}{
		{name: "refused", base: "http://" + closedAddr(t) + "/api", want: []string{"nothing listens at 127.0.0.1:", "OPENSKY_BASE_URL"}},
		{name: "no such host", base: "http://opensky.example/api",
			// The lookup's answer is played by the dialer: tests reach loopback only.
			hc: transport(func(tr *http.Transport) {
				tr.DialContext = func(context.Context, string, string) (net.Conn, error) {
					return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "opensky.example", IsNotFound: true}}
				}
			}),
			want: []string{"no such host", "opensky.example does not resolve", "OPENSKY_BASE_URL"}},
		{name: "proxy down", base: srv.BaseURL(),
			hc: transport(func(tr *http.Transport) {
				tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: closedAddr(t), User: url.UserPassword("me", "proxy-password")})
			}),
			want: []string{"proxy could not be reached", "HTTPS_PROXY", "me:xxxxx@"}},
		{name: "timeout", base: srv.BaseURL(), step: &openskytest.Step{Delay: 2 * time.Second},
			want: []string{"no answer in time", "OPENSKY_REQUEST_TIMEOUT", "cloud providers'"}},
		{name: "cut", base: hijack.URL + "/api", want: []string{"connection was cut", "cloud providers'"}},
		{name: "untrusted TLS", base: tlsSrv.URL + "/api", want: []string{"TLS certificate is not trusted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.step != nil {
				srv.Script(*tt.step)
			}
			timeout := 10 * time.Second // long enough for a TLS handshake on a busy machine
			if tt.step != nil && tt.step.Delay > 0 {
				timeout = 200 * time.Millisecond
			}
			c := opensky.NewClient(opensky.Options{BaseURL: tt.base, RequestTimeout: timeout, MaxAttempts: 1, HTTPClient: tt.hc})
			_, err := c.States(context.Background(), opensky.Query{})
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "proxy-password") {
				t.Errorf("error shows the proxy's password:\n%v", err)
			}
		})
	}
}

// A 404 names the URL, and says so when the base URL lacks OpenSky's /api root.
func TestNotFoundNamesTheURL(t *testing.T) {
	srv := openskytest.New(t, small)
	for _, tt := range []struct{ base, want string }{
		{srv.URL, "does not end in /api"},
		{srv.URL + "/v2/api", "check OPENSKY_BASE_URL=" + srv.URL + "/v2/api"},
	} {
		c := opensky.NewClient(opensky.Options{BaseURL: tt.base, MaxAttempts: 1})
		_, err := c.States(context.Background(), opensky.Query{})
		var oe *opensky.Error
		if !errors.As(err, &oe) || oe.Status != http.StatusNotFound {
			t.Errorf("base %s: the error does not hold the *opensky.Error: %v", tt.base, err)
		}
		if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), tt.base+"/states/all") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("base %s: %v", tt.base, err)
		}
	}
}

// LOG_LEVEL=debug shows each request, and never the token or the secret.
func TestDebugLogsEachRequest(t *testing.T) {
	srv := openskytest.New(t, small)
	srv.Update(func(s *openskytest.Server) { s.TokenPrefix = "tok-7f3a9c-" })
	srv.Script(openskytest.Step{Status: http.StatusServiceUnavailable})
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var buf bytes.Buffer
		c := opensky.NewClient(opensky.Options{BaseURL: srv.BaseURL(), TokenURL: srv.TokenURL(), ClientID: srv.ClientID, ClientSecret: srv.Secret,
			BaseBackoff: time.Millisecond, Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))})
		if _, err := c.States(context.Background(), opensky.Query{ICAO24: []string{"3c6444"}}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if level == slog.LevelInfo {
			if out != "" {
				t.Errorf("at info, the requests are logged:\n%s", out)
			}
			continue
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var reqs []string
		for _, l := range lines {
			if strings.Contains(l, `msg="opensky request"`) {
				reqs = append(reqs, l)
			}
		}
		if len(reqs) != 2 {
			t.Fatalf("%d request lines for 2 attempts:\n%s", len(reqs), out)
		}
		for i, want := range []string{"attempt=1 status=503", "attempt=2 status=200"} {
			l := reqs[i]
			if !strings.Contains(l, want) || !strings.Contains(l, `url="`+srv.BaseURL()+`/states/all?icao24=3c6444"`) ||
				!strings.Contains(l, "bytes=") || !strings.Contains(l, "duration=") {
				t.Errorf("line %d lacks %q, the URL, bytes or duration: %s", i+1, want, l)
			}
		}
		if !strings.Contains(out, `msg="opensky token" url=`+srv.TokenURL()) {
			t.Errorf("the token request is not logged:\n%s", out)
		}
		for _, secret := range []string{"tok-7f3a9c-", srv.Secret, "Bearer", "Authorization"} {
			if strings.Contains(out, secret) {
				t.Errorf("debug log shows %q:\n%s", secret, out)
			}
		}
	}
}
