package opensky_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/opensky"
	"github.com/opensky-eventhubs/handler/internal/openskytest"
)

var small = []byte(`{"time":1518552809,"states":[["ac96b8","AAL2423 ","United States",1518552809,1518552809,-93.4581,44.9529,1150.62,false,116.59,94.3,0,null,1143,"2236",false,0]]}`)

func newClient(srv *openskytest.Server, authenticated bool) *opensky.Client {
	o := opensky.Options{BaseURL: srv.BaseURL(), TokenURL: srv.TokenURL(), RequestTimeout: 2 * time.Second, BaseBackoff: 5 * time.Millisecond}
	if authenticated {
		o.ClientID, o.ClientSecret = srv.ClientID, srv.Secret
	}
	return opensky.NewClient(o)
}

func TestStatesQueryAndHeaders(t *testing.T) {
	srv := openskytest.New(t, small)
	c := newClient(srv, false)
	got, err := c.States(context.Background(), opensky.Query{
		BBox: &opensky.BBox{LaMin: 45.8, LoMin: 5.9, LaMax: 47.8, LoMax: 10.5}, ICAO24: []string{"3c6444", "a0b1c2"}, Extended: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Body) != string(small) || got.Remaining != 400 || got.Attempts != 1 {
		t.Errorf("got remaining %d attempts %d body %q", got.Remaining, got.Attempts, got.Body)
	}
	r := srv.Requests()[0]
	q := r.URL.Query()
	if q.Get("lamin") != "45.8" || q.Get("lomin") != "5.9" || q.Get("lamax") != "47.8" || q.Get("lomax") != "10.5" ||
		strings.Join(q["icao24"], ",") != "3c6444,a0b1c2" || q.Get("extended") != "1" || q.Has("time") {
		t.Errorf("query = %v", q)
	}
	if !strings.Contains(r.Header.Get("User-Agent"), "opensky-eventhubs") {
		t.Errorf("User-Agent = %q", r.Header.Get("User-Agent"))
	}
	if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		t.Errorf("Accept-Encoding = %q; the world snapshot is MBs, ask for gzip", r.Header.Get("Accept-Encoding"))
	}
	if r.Header.Get("Authorization") != "" {
		t.Errorf("anonymous call sent Authorization")
	}
}

func TestCredits(t *testing.T) {
	tests := []struct {
		box  *opensky.BBox
		want int
	}{
		{nil, 4},
		{&opensky.BBox{LaMin: 45, LoMin: 5, LaMax: 50, LoMax: 10}, 1}, // 25
		{&opensky.BBox{LaMin: 40, LoMin: 0, LaMax: 50, LoMax: 10}, 2}, // 100
		{&opensky.BBox{LaMin: 30, LoMin: 0, LaMax: 50, LoMax: 20}, 3}, // 400
		{&opensky.BBox{LaMin: 21, LoMin: -130, LaMax: 50, LoMax: -60}, 4},
	}
	for _, tt := range tests {
		if got := (opensky.Query{BBox: tt.box}).Credits(); got != tt.want {
			t.Errorf("%+v: %d credits, want %d", tt.box, got, tt.want)
		}
	}
}

func TestTokenCachedAndRenewedAfter401(t *testing.T) {
	srv := openskytest.New(t, small)
	c := newClient(srv, true)
	ctx := context.Background()
	for range 3 {
		if _, err := c.States(ctx, opensky.Query{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.TokenCalls(); n != 1 {
		t.Errorf("%d token calls for 3 fetches, want 1 (cached)", n)
	}
	if h := srv.Requests()[0].Header.Get("Authorization"); h != "Bearer token-1" {
		t.Errorf("Authorization = %q", h)
	}
	srv.RevokeToken()
	got, err := c.States(ctx, opensky.Query{})
	if err != nil {
		t.Fatalf("after a revoked token: %v", err)
	}
	if srv.TokenCalls() != 2 || got.Attempts != 2 {
		t.Errorf("token calls %d attempts %d, want 2 and 2", srv.TokenCalls(), got.Attempts)
	}
}

func TestBadCredentials(t *testing.T) {
	srv := openskytest.New(t, small)
	c := opensky.NewClient(opensky.Options{BaseURL: srv.BaseURL(), TokenURL: srv.TokenURL(), ClientID: "me", ClientSecret: "wrong-SECRET-42", BaseBackoff: time.Millisecond})
	_, err := c.States(context.Background(), opensky.Query{})
	var te *opensky.TokenError
	if !errors.As(err, &te) || te.Status != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a TokenError 401", err)
	}
	if !strings.Contains(err.Error(), "OPENSKY_CLIENT_ID") || strings.Contains(err.Error(), "wrong-SECRET-42") {
		t.Errorf("error should name the settings and never the secret: %v", err)
	}
	if len(srv.Requests()) != 0 || srv.TokenCalls() != 1 {
		t.Errorf("states calls %d token calls %d: a refused credential is not retried", len(srv.Requests()), srv.TokenCalls())
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		steps        []openskytest.Step
		timeout      time.Duration
		wantErr      string
		wantStatus   int
		wantAttempts int
	}{
		{name: "5xx then ok", steps: []openskytest.Step{{Status: 500}, {Status: 503}}, wantAttempts: 3},
		{name: "slow answer then ok", steps: []openskytest.Step{{Delay: 3 * time.Second}}, wantAttempts: 2},
		{name: "truncated body then ok", steps: []openskytest.Step{{Truncate: 40}}, wantAttempts: 2},
		{name: "short 429 waited out", steps: []openskytest.Step{{Status: 429, RetryAfter: 1}}, wantAttempts: 2},
		{name: "long 429 not waited", steps: []openskytest.Step{{Status: 429, RetryAfter: 3600}}, wantErr: "retry after 1h0m0s", wantStatus: 429, wantAttempts: 1},
		{name: "403 explains cloud blocking", steps: []openskytest.Step{{Status: 403}}, wantErr: "cloud providers", wantStatus: 403, wantAttempts: 1},
		{name: "400 names the settings", steps: []openskytest.Step{{Status: 400}}, wantErr: "OPENSKY_BBOX", wantStatus: 400, wantAttempts: 1},
		{name: "5xx until attempts run out", steps: []openskytest.Step{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}}, wantErr: "500", wantStatus: 500, wantAttempts: 4},
		{name: "502 persists: cloud hint", steps: []openskytest.Step{{Status: 502}, {Status: 502}, {Status: 502}, {Status: 502}}, wantErr: "cloud providers", wantStatus: 502, wantAttempts: 4},
		{name: "deadline bounds retries", steps: []openskytest.Step{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}}, timeout: 20 * time.Millisecond, wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openskytest.New(t, small)
			srv.Script(tt.steps...)
			c := newClient(srv, false)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			got, err := c.States(ctx, opensky.Query{})
			if tt.timeout > 0 && time.Since(start) > tt.timeout+time.Second {
				t.Errorf("took %s past a %s deadline", time.Since(start), tt.timeout)
			}
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if string(got.Body) != string(small) {
					t.Errorf("body = %q", got.Body)
				}
			} else {
				var oe *opensky.Error
				if !errors.As(err, &oe) || oe.Status != tt.wantStatus {
					t.Fatalf("err = %v, want status %d", err, tt.wantStatus)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
			}
			if tt.wantAttempts > 0 && got.Attempts != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got.Attempts, tt.wantAttempts)
			}
		})
	}
}

func TestTimeQuery(t *testing.T) {
	srv := openskytest.New(t, small)
	if _, err := newClient(srv, true).States(context.Background(), opensky.Query{Time: 1518552000}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Query(0).Get("time"); got != "1518552000" {
		t.Errorf("time = %q", got)
	}
}

// An error page that echoes the request's headers must not carry the access token into the
// error (which reaches stderr, Logs and the tick's failure): 5xx and 403 alike.
func TestErrorExcerptRedactsToken(t *testing.T) {
	const prefix = "tok-5e1f0c-SECRET-"
	for _, status := range []int{http.StatusInternalServerError, http.StatusForbidden, http.StatusBadRequest, http.StatusTeapot} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := openskytest.New(t, small)
			srv.Update(func(s *openskytest.Server) { s.TokenPrefix = prefix })
			for range 4 {
				srv.Script(openskytest.Step{Status: status, Body: []byte("Error"), EchoHeaders: true})
			}
			_, err := newClient(srv, true).States(context.Background(), opensky.Query{})
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), prefix) {
				t.Errorf("the error holds the access token: %v", err)
			}
			if !strings.Contains(err.Error(), "Authorization: <redacted>") || !strings.Contains(err.Error(), "User-Agent: opensky-eventhubs") {
				t.Errorf("the excerpt lost more than the token, or the test echoed nothing: %v", err)
			}
		})
	}
}
