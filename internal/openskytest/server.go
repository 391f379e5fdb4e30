// Package openskytest is a stand-in for the OpenSky REST API in tests: an httptest server that
// replays recorded /states/all answers (gzip when asked), issues OAuth2 tokens, and plays scripted
// faults. It is test tooling, not product code.
package openskytest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Step is one scripted answer. The zero Step replays the recording.
type Step struct {
	Status     int               // default 200
	Body       []byte            // default: the recording
	Header     map[string]string // extra headers
	Delay      time.Duration     // wait before answering (ends early if the client goes away)
	Truncate   int               // send only this many bytes of the body, then cut the connection
	RetryAfter int               // X-Rate-Limit-Retry-After-Seconds on a 429
	// EchoHeaders makes the body the request's headers, as some servers' and proxies' error pages
	// show them (Authorization included), after Body if that is set.
	EchoHeaders bool
}

// Server is the stand-in. Its fields are safe to read after the test's calls have returned.
type Server struct {
	*httptest.Server
	Body      []byte // the recording replayed by default
	Remaining int    // X-Rate-Limit-Remaining sent with each answer; counts down per call

	mu          sync.Mutex
	steps       []Step
	requests    []*http.Request
	tokenCalls  int
	validToken  string
	ClientID    string
	Secret      string
	TokenStatus int // answer of the token endpoint, default 200
	// TokenPrefix starts every access token issued, followed by a counter (default "token-"):
	// tests that search output for a leaked token give it a value nothing else contains.
	TokenPrefix string
}

// New starts a server replaying body for GET /api/states/all, with a token endpoint at /token.
func New(tb testing.TB, body []byte) *Server {
	tb.Helper()
	s := &Server{Body: body, Remaining: 400, ClientID: "test-client", Secret: "test-secret-value", TokenPrefix: "token-"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/states/all", s.states)
	mux.HandleFunc("POST /token", s.token)
	s.Server = httptest.NewServer(mux)
	tb.Cleanup(s.Close)
	return s
}

// BaseURL is the value for OPENSKY_BASE_URL.
func (s *Server) BaseURL() string { return s.URL + "/api" }

// TokenURL is the value for OPENSKY_TOKEN_URL.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// Script queues answers for the next calls; after them the recording is replayed.
func (s *Server) Script(steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, steps...)
}

// Requests returns the /states/all requests received so far.
func (s *Server) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

// TokenCalls counts token requests.
func (s *Server) TokenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// Update changes the server's exported fields (Remaining, ClientID, Secret, TokenStatus,
// TokenPrefix) while it runs, e.g. to make the token endpoint refuse the credentials midway.
func (s *Server) Update(f func(s *Server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// RevokeToken makes the current token invalid, as an expiry on OpenSky's side would.
func (s *Server) RevokeToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.validToken = "revoked"
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	s.tokenCalls++
	n := s.tokenCalls
	status := s.TokenStatus
	prefix := s.TokenPrefix
	clientID, secret := s.ClientID, s.Secret
	s.mu.Unlock()
	if status != 0 && status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`))
		return
	}
	if r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_id") != clientID || r.Form.Get("client_secret") != secret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`))
		return
	}
	tok := fmt.Sprintf("%s%d", prefix, n)
	s.mu.Lock()
	s.validToken = tok
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 1800})
}

func (s *Server) states(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Clone(r.Context()))
	var st Step
	if len(s.steps) > 0 {
		st, s.steps = s.steps[0], s.steps[1:]
	}
	remaining := s.Remaining
	if s.Remaining > 0 {
		s.Remaining--
	}
	valid := s.validToken
	s.mu.Unlock()

	if auth := r.Header.Get("Authorization"); auth != "" && auth != "Bearer "+valid {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if st.Delay > 0 {
		select {
		case <-time.After(st.Delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range st.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("X-Rate-Limit-Remaining", fmt.Sprint(remaining))
	if st.RetryAfter > 0 {
		w.Header().Set("X-Rate-Limit-Retry-After-Seconds", fmt.Sprint(st.RetryAfter))
	}
	status := st.Status
	if status == 0 {
		status = http.StatusOK
	}
	body := st.Body
	if body == nil {
		if status != http.StatusOK {
			body = []byte(http.StatusText(status))
		} else {
			body = s.Body
		}
	}
	if st.EchoHeaders {
		var b bytes.Buffer
		b.Write(body)
		b.WriteString("\nRequest headers:\n")
		_ = r.Header.Write(&b)
		body = b.Bytes()
	}
	if st.Truncate > 0 {
		// Promise the whole body, send part, and cut the connection: a transfer cut off in transit.
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body[:min(st.Truncate, len(body))])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusOK && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Query returns the query of the i-th /states/all request.
func (s *Server) Query(i int) url.Values {
	reqs := s.Requests()
	if i >= len(reqs) {
		return nil
	}
	return reqs[i].URL.Query()
}
