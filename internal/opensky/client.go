// Package opensky is the source: a client for OpenSky Network's /states/all endpoint (OAuth2
// client credentials, gzip, rate-limit headers, one bounded retry layer) and a decoder of its
// positional state vectors.
package opensky

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sethvargo/go-retry"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// MaxBody caps an answer's size. The whole world is 1.5 to 3 MB; anything far past that is not a
// snapshot we want to hold in memory.
const MaxBody = 64 << 20

// UserAgent names the project to OpenSky.
const UserAgent = "opensky-eventhubs/1 (+Azure Functions custom handler; Go)"

// BBox is a bounding box in WGS-84 degrees.
type BBox struct{ LaMin, LoMin, LaMax, LoMax float64 }

// Query selects what /states/all returns.
type Query struct {
	BBox     *BBox
	ICAO24   []string
	Extended bool
	// Time asks for the snapshot at this unix time (authenticated callers only, at most an hour
	// back); zero means now.
	Time int64
}

// Credits is the cost of one call with this query, by OpenSky's price list for box areas.
func (q Query) Credits() int {
	if q.BBox == nil {
		return 4
	}
	area := (q.BBox.LaMax - q.BBox.LaMin) * (q.BBox.LoMax - q.BBox.LoMin)
	switch {
	case area <= 25:
		return 1
	case area <= 100:
		return 2
	case area <= 400:
		return 3
	}
	return 4
}

// Fetched is one raw answer.
type Fetched struct {
	Body []byte
	// Remaining is X-Rate-Limit-Remaining: the credits left today, or -1 when the header was absent.
	Remaining int
	Attempts  int
}

// Options configures a Client.
type Options struct {
	BaseURL        string
	TokenURL       string
	ClientID       string
	ClientSecret   string // never logged or put in an error
	RequestTimeout time.Duration
	// MaxAttempts bounds the tries of one call, transient failures included (default 4).
	MaxAttempts int
	// BaseBackoff is the first wait between tries (default 500ms); it doubles, with jitter.
	BaseBackoff time.Duration
	// MaxRetryAfter is the longest 429 retry-after waited out within one call (default 30s);
	// a longer one, or one past ctx's deadline, is returned as an *Error at once.
	MaxRetryAfter time.Duration
	// HTTPClient is the transport to use (default: a fresh one with gzip).
	HTTPClient *http.Client
	// Logger gets one debug line per request (URL, status, bytes, duration, attempt; never a
	// token or the secret); nil logs nothing.
	Logger *slog.Logger
}

// Client fetches /states/all. It is safe for concurrent use.
type Client struct {
	opts   Options
	http   *http.Client
	tokens *tokens // nil when anonymous
}

// NewClient returns a client; with ClientID set it authenticates with OAuth2 client credentials.
func NewClient(opts Options) *Client {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 4
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = 500 * time.Millisecond
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = 30 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	c := &Client{opts: opts, http: opts.HTTPClient}
	if opts.ClientID != "" {
		c.tokens = &tokens{cfg: clientcredentials.Config{
			ClientID:     opts.ClientID,
			ClientSecret: opts.ClientSecret,
			TokenURL:     opts.TokenURL,
			AuthStyle:    oauth2.AuthStyleInParams,
		}, http: &http.Client{Transport: opts.HTTPClient.Transport, Timeout: opts.RequestTimeout}, log: opts.Logger}
	}
	return c
}

// Authenticated reports whether the client sends a bearer token.
func (c *Client) Authenticated() bool { return c.tokens != nil }

// States fetches one snapshot. Transient failures (timeouts, resets, 5xx, a 429 whose wait fits
// in ctx's deadline) are retried with exponential backoff and jitter, never past ctx's deadline;
// a 401 fetches a new token and tries once more. Errors are *Error values where OpenSky answered.
func (c *Client) States(ctx context.Context, q Query) (Fetched, error) {
	u := c.opts.BaseURL + "/states/all"
	if v := q.values(); len(v) > 0 {
		u += "?" + v.Encode()
	}
	var (
		lastErr    error
		retryAfter time.Duration
		refreshed  bool
		out        Fetched
	)
	backoff := retry.WithMaxRetries(uint64(c.opts.MaxAttempts-1), retry.WithJitterPercent(20, retry.NewExponential(c.opts.BaseBackoff)))
	b := retry.BackoffFunc(func() (time.Duration, bool) {
		next, stop := backoff.Next()
		if stop {
			return 0, true
		}
		if retryAfter > next {
			next = retryAfter
		}
		// Never sleep into the invocation's deadline: stop and report the last failure instead.
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < next+time.Second {
			return 0, true
		}
		return next, false
	})
	err := retry.Do(ctx, b, func(ctx context.Context) error {
		out.Attempts++
		retryAfter = 0
		body, remaining, err := c.get(ctx, u, out.Attempts)
		if err == nil {
			out.Body, out.Remaining = body, remaining
			return nil
		}
		lastErr = err
		var oe *Error
		if errors.As(err, &oe) {
			switch {
			case oe.Status == http.StatusUnauthorized && c.tokens != nil && !refreshed:
				refreshed = true
				c.tokens.reset()
				retryAfter = time.Millisecond // try again at once, with a new token
				return retry.RetryableError(err)
			case oe.Status == http.StatusTooManyRequests:
				if oe.RetryAfter <= 0 {
					return err // no hint: waiting blind would burn the tick
				}
				retryAfter = oe.RetryAfter
				if retryAfter > c.opts.MaxRetryAfter {
					return err // the caller remembers how long to stay away
				}
				if dl, ok := ctx.Deadline(); ok && time.Until(dl) < retryAfter+time.Second {
					return err
				}
				return retry.RetryableError(err)
			case oe.Status >= 500:
				return retry.RetryableError(err)
			}
			return err
		}
		if isTransient(ctx, err) {
			return retry.RetryableError(err)
		}
		return err
	})
	if err != nil {
		if lastErr != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (last attempt: %w)", err, lastErr)
		}
		return out, fmt.Errorf("fetching OpenSky states after %d attempt(s): %w", out.Attempts, err)
	}
	return out, nil
}

func (q Query) values() url.Values {
	v := url.Values{}
	if q.BBox != nil {
		f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
		v.Set("lamin", f(q.BBox.LaMin))
		v.Set("lomin", f(q.BBox.LoMin))
		v.Set("lamax", f(q.BBox.LaMax))
		v.Set("lomax", f(q.BBox.LoMax))
	}
	for _, id := range q.ICAO24 {
		v.Add("icao24", id)
	}
	if q.Extended {
		v.Set("extended", "1")
	}
	if q.Time > 0 {
		v.Set("time", strconv.FormatInt(q.Time, 10))
	}
	return v
}

func (c *Client) get(ctx context.Context, u string, attempt int) ([]byte, int, error) {
	if c.opts.RequestTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.RequestTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, -1, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "application/json")
	var tok string
	if c.tokens != nil {
		if tok, err = c.tokens.token(ctx); err != nil {
			return nil, -1, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		err = fmt.Errorf("GET %s: %w%s", redact(u), unwrapURLError(err), networkHint(c.http, req.URL, "OPENSKY_BASE_URL", err))
		c.logRequest(ctx, u, attempt, 0, 0, start, err)
		return nil, -1, err
	}
	defer resp.Body.Close()
	remaining := -1
	if r, err := strconv.Atoi(resp.Header.Get("X-Rate-Limit-Remaining")); err == nil {
		remaining = r
	}
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		// Some error pages echo the request's headers: the excerpt goes to logs, the token must not.
		e := &Error{Status: resp.StatusCode, Remaining: remaining, Body: redactExcerpt(strings.TrimSpace(string(snippet)), tok, c.opts.ClientSecret)}
		if s, err := strconv.ParseFloat(resp.Header.Get("X-Rate-Limit-Retry-After-Seconds"), 64); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s * float64(time.Second))
		}
		c.logRequest(ctx, u, attempt, resp.StatusCode, len(snippet), start, nil)
		if resp.StatusCode == http.StatusNotFound {
			return nil, remaining, fmt.Errorf("GET %s: %w; %s", redact(u), e, notFoundHint(c.opts.BaseURL))
		}
		return nil, remaining, e
	}
	// The transport undoes gzip itself (it asked for it); cap what it hands us.
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	c.logRequest(ctx, u, attempt, resp.StatusCode, len(body), start, err)
	if err != nil {
		return nil, remaining, fmt.Errorf("reading OpenSky answer after %d bytes: %w", len(body), err)
	}
	if len(body) > MaxBody {
		return nil, remaining, &Error{Status: resp.StatusCode, Remaining: remaining, TooLarge: true}
	}
	return body, remaining, nil
}

// logRequest writes the debug line of one request. u holds no secret (the token travels in a
// header); any user info in it is masked all the same.
func (c *Client) logRequest(ctx context.Context, u string, attempt, status, bytes int, start time.Time, err error) {
	log := c.opts.Logger
	if log == nil || !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	if pu, perr := url.Parse(u); perr == nil {
		u = pu.Redacted()
	}
	attrs := []slog.Attr{slog.String("url", u), slog.Int("attempt", attempt), slog.Int("status", status),
		slog.Int("bytes", bytes), slog.Duration("duration", time.Since(start))}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	log.LogAttrs(ctx, slog.LevelDebug, "opensky request", attrs...)
}

// notFoundHint says what a 404 most likely means: a base URL without OpenSky's /api root.
func notFoundHint(base string) string {
	if !strings.HasSuffix(base, "/api") {
		return fmt.Sprintf("OPENSKY_BASE_URL=%s does not end in /api, where OpenSky's REST API is (the default is %s)", base, "https://opensky-network.org/api")
	}
	return "check OPENSKY_BASE_URL=" + base
}

// networkHint is a sentence, starting with "; ", on what to check when a request to target got
// no HTTP answer at all; setting is the one that holds target's URL. Empty when there is nothing
// useful to say.
func networkHint(hc *http.Client, target *url.URL, setting string, err error) string {
	var proxy *url.URL
	if t, ok := hc.Transport.(*http.Transport); ok && t.Proxy != nil {
		proxy, _ = t.Proxy(&http.Request{URL: target})
	}
	viaProxy := ""
	if proxy != nil {
		viaProxy = fmt.Sprintf(" (requests go through the proxy %s, from HTTPS_PROXY/HTTP_PROXY; NO_PROXY exempts hosts)", proxy.Redacted())
	}
	var (
		oe  *net.OpError
		dns *net.DNSError
		ne  net.Error
		cv  *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &oe) && oe.Op == "proxyconnect":
		return fmt.Sprintf("; hint: the proxy could not be reached%s: check HTTPS_PROXY, or unset it to connect directly", viaProxy)
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Sprintf("; hint: the host name %s does not resolve: check %s, and this machine's network and DNS%s", dns.Name, setting, viaProxy)
	case errors.As(err, &dns):
		return fmt.Sprintf("; hint: looking up %s failed: check this machine's network and DNS%s", dns.Name, viaProxy)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("; hint: nothing listens at %s: check the host and port in %s%s", target.Host, setting, viaProxy)
	case errors.As(err, &cv):
		return fmt.Sprintf("; hint: the server's TLS certificate is not trusted: a proxy that inspects TLS needs its CA certificate in this machine's trust store%s", viaProxy)
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("; hint: no answer in time (OPENSKY_REQUEST_TIMEOUT): a firewall may block outbound HTTPS (set HTTPS_PROXY if you must use a proxy), "+
			"OpenSky may be slow, or it may block this address (it blocks some cloud providers', Azure's included); check %s%s", setting, viaProxy)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("; hint: the connection was cut: OpenSky blocks some cloud providers' addresses (Azure's included), and a proxy or firewall may cut connections too%s", viaProxy)
	}
	return viaProxy
}

// Error is an answer from OpenSky other than 200 OK, or one too large to take.
type Error struct {
	Status     int
	Remaining  int           // X-Rate-Limit-Remaining, -1 when absent
	RetryAfter time.Duration // X-Rate-Limit-Retry-After-Seconds on a 429
	Body       string        // the start of the answer, for the log
	TooLarge   bool
}

func (e *Error) Error() string {
	switch {
	case e.TooLarge:
		return fmt.Sprintf("OpenSky answer is larger than %d MiB; narrow the query with OPENSKY_BBOX or OPENSKY_ICAO24", MaxBody>>20)
	case e.Status == http.StatusTooManyRequests:
		if e.RetryAfter > 0 {
			return fmt.Sprintf("OpenSky answered 429: out of API credits, retry after %s; slow OPENSKY_SCHEDULE, narrow OPENSKY_BBOX, or use an account (see README, Credits)", e.RetryAfter.Round(time.Second))
		}
		return "OpenSky answered 429: out of API credits; slow OPENSKY_SCHEDULE or narrow OPENSKY_BBOX"
	case e.Status == http.StatusUnauthorized:
		return "OpenSky answered 401 Unauthorized even with a new token; check OPENSKY_CLIENT_ID and OPENSKY_CLIENT_SECRET (or OPENSKY_CREDENTIALS_FILE)"
	case e.Status == http.StatusForbidden || e.Status == http.StatusBadGateway:
		return fmt.Sprintf("OpenSky answered %d %s. OpenSky may block requests from cloud providers' addresses (Azure included): "+
			"if this works from your own machine but not in Azure, run the handler elsewhere with OPENSKY_SINK=eventhub, "+
			"or ask OpenSky about access from cloud IPs. Body: %s", e.Status, http.StatusText(e.Status), truncate(e.Body, 200))
	case e.Status == http.StatusBadRequest:
		return fmt.Sprintf("OpenSky answered 400 Bad Request (%s); check OPENSKY_BBOX and OPENSKY_ICAO24, and that a time= request is at most an hour back", truncate(e.Body, 200))
	}
	return fmt.Sprintf("OpenSky answered %d %s: %s", e.Status, http.StatusText(e.Status), truncate(e.Body, 200))
}

// credentialText matches what carries a credential in text a server may echo back: an
// Authorization header's value (to the end of its line), a bearer token, an Event Hubs shared
// access signature or key, and OAuth2 token or secret parameters. Group 1 is kept, the value
// becomes "<redacted>" (which none of them matches again).
var credentialText = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(\b(?:proxy-)?authorization["']?\s*[:=]\s*\[?\s*["']?)[^\s"'\[\]<][^"'\r\n\]<]*`),
	regexp.MustCompile(`(?i)(\bbearer\s+)[^\s"',;&\]<>]+`),
	regexp.MustCompile(`(?i)(\bSharedAccessSignature\s+)[^\s"',;\]<>]+`),
	regexp.MustCompile(`(?i)(\bSharedAccessKey\s*=\s*)[^\s"',;\]<>]+`),
	regexp.MustCompile(`(?i)(\b(?:access_token|refresh_token|client_secret|sig)["']?\s*[:=]\s*["']?)[^\s"',;&\]<>]+`),
}

// minKnownSecret is the shortest tail of a known secret that redactExcerpt removes where an
// excerpt ends in the middle of it.
const minKnownSecret = 6

// redactExcerpt removes credentials from an excerpt of an answer: the known secrets (the current
// access token and the client secret, also URL-escaped, and what is left of one the excerpt cuts
// off), and anything credentialText matches.
func redactExcerpt(s string, known ...string) string {
	for _, k := range known {
		if len(k) < minKnownSecret {
			continue
		}
		for _, form := range []string{k, url.QueryEscape(k)} {
			s = strings.ReplaceAll(s, form, "<redacted>")
			// The excerpt was cut at a fixed length: it may end in the first part of a secret.
			for n := len(form) - 1; n >= minKnownSecret; n-- {
				if strings.HasSuffix(s, form[:n]) {
					s = s[:len(s)-n] + "<redacted>"
					break
				}
			}
		}
	}
	for _, re := range credentialText {
		s = re.ReplaceAllString(s, "${1}<redacted>")
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// isTransient says whether a transport failure is worth another try in this invocation.
func isTransient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false // the invocation's own deadline or cancellation
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true // the per-request timeout, or a body cut off in transit
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true // refused, reset
	}
	var te *TokenError
	if errors.As(err, &te) {
		return te.Transient
	}
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redact drops the query for logs; it holds nothing secret, but keeps lines short.
func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// tokens caches the OAuth2 access token and renews it before expiry (oauth2.ReuseTokenSource),
// or at once after OpenSky refused it.
type tokens struct {
	cfg  clientcredentials.Config
	http *http.Client
	log  *slog.Logger // nil logs nothing
	mu   sync.Mutex
	// lastExpiry is the expiry of the last token handed out: a new one means a new fetch.
	lastExpiry time.Time
	src        oauth2.TokenSource
}

// TokenError is a failure to get an access token. It never holds the client secret.
type TokenError struct {
	Status    int
	Transient bool
	Err       error
}

func (e *TokenError) Error() string {
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusBadRequest:
		return fmt.Sprintf("OpenSky token endpoint refused the client credentials (HTTP %d); check OPENSKY_CLIENT_ID and OPENSKY_CLIENT_SECRET (or OPENSKY_CREDENTIALS_FILE)", e.Status)
	case e.Status != 0:
		return fmt.Sprintf("OpenSky token endpoint answered HTTP %d; check OPENSKY_TOKEN_URL", e.Status)
	}
	return fmt.Sprintf("getting an OpenSky access token: %v", e.Err)
}

func (e *TokenError) Unwrap() error { return e.Err }

func (t *tokens) token(ctx context.Context) (string, error) {
	t.mu.Lock()
	if t.src == nil {
		// The token source keeps the context it was made with for its HTTP calls: give it a
		// lasting one with our client, and bound each fetch by ctx below.
		base := context.WithValue(context.Background(), oauth2.HTTPClient, t.http)
		t.src = oauth2.ReuseTokenSource(nil, t.cfg.TokenSource(base))
	}
	src := t.src
	t.mu.Unlock()

	start := time.Now()
	type result struct {
		tok *oauth2.Token
		err error
	}
	ch := make(chan result, 1)
	go func() {
		tok, err := src.Token()
		ch <- result{tok, err}
	}()
	select {
	case <-ctx.Done():
		return "", &TokenError{Transient: true, Err: ctx.Err()}
	case r := <-ch:
		if r.err != nil {
			var re *oauth2.RetrieveError
			if errors.As(r.err, &re) && re.Response != nil {
				st := re.Response.StatusCode
				t.logFetch(ctx, start, fmt.Errorf("HTTP %d", st))
				return "", &TokenError{Status: st, Transient: st >= 500 || st == http.StatusTooManyRequests, Err: errors.New(http.StatusText(st))}
			}
			err := unwrapURLError(stripSecret(r.err, t.cfg.ClientSecret))
			if tu, perr := url.Parse(t.cfg.TokenURL); perr == nil {
				err = fmt.Errorf("%w%s", err, networkHint(t.http, tu, "OPENSKY_TOKEN_URL", err))
			}
			t.logFetch(ctx, start, err)
			return "", &TokenError{Transient: true, Err: err}
		}
		t.mu.Lock()
		fresh := !r.tok.Expiry.Equal(t.lastExpiry)
		t.lastExpiry = r.tok.Expiry
		t.mu.Unlock()
		if fresh { // the token source fetched it now, rather than reusing the cached one
			t.logFetch(ctx, start, nil)
		}
		return r.tok.AccessToken, nil
	}
}

// logFetch writes the debug line of one token request. It names the token endpoint, never the secret or the token.
func (t *tokens) logFetch(ctx context.Context, start time.Time, err error) {
	if t.log == nil || !t.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("url", t.cfg.TokenURL), slog.Duration("duration", time.Since(start))}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	t.log.LogAttrs(ctx, slog.LevelDebug, "opensky token", attrs...)
}

func (t *tokens) reset() {
	t.mu.Lock()
	t.src = nil
	t.mu.Unlock()
}

// stripSecret makes sure an error from the token exchange cannot carry the secret to a log.
func stripSecret(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "****"))
}
