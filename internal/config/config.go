// Package config turns the app settings (environment variables) into one typed, validated Config.
//
// Every default lives in this file. Load reports every problem at once, each naming the setting,
// what it holds and what it accepts, so a user fixes a broken local.settings.json in one pass.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults. The schedule fits an anonymous caller: the whole world (4 credits a call) every 15
// minutes is 96 calls and 384 credits a day, under the 400 OpenSky gives per IP.
const (
	DefaultSchedule       = "0 */15 * * * *"
	DefaultBaseURL        = "https://opensky-network.org/api"
	DefaultTokenURL       = "https://auth.opensky-network.org/auth/realms/opensky-network/protocol/openid-connect/token"
	DefaultRequestTimeout = 20 * time.Second
	DefaultTickTimeout    = 90 * time.Second
	DefaultFile           = "data/opensky.ndjson"
	DefaultEventHubName   = "opensky"
	DefaultConcurrency    = 4
	DefaultShutdownGrace  = 20 * time.Second
)

// Sink kinds.
const (
	SinkFile     = "file"
	SinkEventHub = "eventhub"
)

// Account is the kind of OpenSky caller, which sets the daily credit allowance.
type Account string

// Accounts and their daily credits in the states bucket.
const (
	Anonymous Account = "anonymous"
	Standard  Account = "standard"
	Feeder    Account = "feeder"
)

// DailyCredits is the allowance OpenSky gives this kind of caller per day.
func (a Account) DailyCredits() int {
	switch a {
	case Standard:
		return 4000
	case Feeder:
		return 8000
	default:
		return 400
	}
}

// BBox is a bounding box in WGS-84 degrees.
type BBox struct {
	LaMin, LoMin, LaMax, LoMax float64
}

// AreaSquareDegrees is the box's latitude range times its longitude range, the measure OpenSky
// prices a call by.
func (b BBox) AreaSquareDegrees() float64 { return (b.LaMax - b.LaMin) * (b.LoMax - b.LoMin) }

// Config is everything the handler reads from its app settings.
type Config struct {
	Schedule Schedule // OPENSKY_SCHEDULE
	// Every is the fixed interval of "handler run --every" (see LoadEvery); zero follows Schedule.
	Every time.Duration

	// OpenSky query and access.
	BBox           *BBox    // OPENSKY_BBOX
	ICAO24         []string // OPENSKY_ICAO24
	Extended       bool     // OPENSKY_EXTENDED
	ClientID       string   // OPENSKY_CLIENT_ID or clientId in OPENSKY_CREDENTIALS_FILE
	ClientSecret   Secret   // OPENSKY_CLIENT_SECRET or clientSecret in OPENSKY_CREDENTIALS_FILE
	Account        Account  // OPENSKY_ACCOUNT
	BaseURL        string   // OPENSKY_BASE_URL
	TokenURL       string   // OPENSKY_TOKEN_URL
	RequestTimeout time.Duration
	TickTimeout    time.Duration

	// Where events go.
	Sink                  string // OPENSKY_SINK
	File                  string // OPENSKY_FILE
	EventHubConnString    Secret // EVENTHUB_CONNECTION_STRING
	EventHubNamespace     string // EVENTHUB_NAMESPACE
	EventHubName          string // EVENTHUB_NAME
	ManagedIdentityClient string // AZURE_CLIENT_ID
	Concurrency           int    // EVENTHUB_MAX_CONCURRENCY

	ShutdownGrace time.Duration // SHUTDOWN_GRACE
	LogLevel      slog.Level    // LOG_LEVEL

	// Memory (memory.go): the MB the handler may use and where that figure came from, and the
	// most states a snapshot may have in it; all 0 when no limit is known.
	MemoryMB     int
	MemorySource string
	MaxStates    int

	// Port is FUNCTIONS_CUSTOMHANDLER_PORT (or FUNCTIONS_HTTPWORKER_PORT), set by the Functions host.
	Port string
}

// Authenticated reports whether OpenSky client credentials are configured.
func (c Config) Authenticated() bool { return c.ClientID != "" }

// Secret is a string that never prints.
type Secret string

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "****"
}

// LogValue masks the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Value returns the secret itself, for the one place that must use it.
func (s Secret) Value() string { return string(s) }

// Load reads and validates every setting. getenv is os.Getenv in production. readFile reads
// OPENSKY_CREDENTIALS_FILE and the cgroup's memory limit (os.ReadFile in production).
func Load(getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	return LoadEvery(getenv, readFile, 0)
}

// LoadEvery is Load for a process that ticks every interval instead of on OPENSKY_SCHEDULE
// (handler run --every): the tick timeout is checked against that interval, and Config.Every
// makes the credit budget price it. Zero means OPENSKY_SCHEDULE, as Load.
func LoadEvery(getenv func(string) string, readFile func(string) ([]byte, error), every time.Duration) (Config, error) {
	if readFile == nil {
		readFile = os.ReadFile
	}
	l := loader{getenv: getenv}
	c := Config{
		BaseURL:               strings.TrimRight(l.str("OPENSKY_BASE_URL", DefaultBaseURL), "/"),
		TokenURL:              l.str("OPENSKY_TOKEN_URL", DefaultTokenURL),
		Extended:              l.boolean("OPENSKY_EXTENDED", false),
		RequestTimeout:        l.duration("OPENSKY_REQUEST_TIMEOUT", DefaultRequestTimeout),
		File:                  l.str("OPENSKY_FILE", DefaultFile),
		EventHubConnString:    Secret(strings.TrimSpace(getenv("EVENTHUB_CONNECTION_STRING"))),
		EventHubNamespace:     strings.TrimSpace(getenv("EVENTHUB_NAMESPACE")),
		EventHubName:          strings.TrimSpace(getenv("EVENTHUB_NAME")),
		ManagedIdentityClient: strings.TrimSpace(getenv("AZURE_CLIENT_ID")),
		Concurrency:           l.integer("EVENTHUB_MAX_CONCURRENCY", DefaultConcurrency, 1, 64),
		ShutdownGrace:         l.duration("SHUTDOWN_GRACE", DefaultShutdownGrace),
		Port:                  firstNonEmpty(getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), getenv("FUNCTIONS_HTTPWORKER_PORT")),
		Every:                 every,
	}
	if every < 0 {
		l.errs = append(l.errs, fmt.Errorf("--every %s must be a positive duration such as 1m", every))
	}

	sched := l.str("OPENSKY_SCHEDULE", DefaultSchedule)
	if s, err := ParseSchedule(sched); err != nil {
		l.fail("OPENSKY_SCHEDULE", sched, err.Error()+"; use a 6-field NCRONTAB expression {second} {minute} {hour} {day} {month} {day-of-week}, e.g. \"0 */15 * * * *\" for every 15 minutes")
	} else {
		c.Schedule = s
	}

	c.BBox = l.bbox("OPENSKY_BBOX")
	c.ICAO24 = l.icao24("OPENSKY_ICAO24")
	l.url("OPENSKY_BASE_URL", c.BaseURL)
	l.url("OPENSKY_TOKEN_URL", c.TokenURL)

	l.credentials(&c, readFile)
	c.Account = l.account(c.Authenticated())

	if raw := strings.TrimSpace(getenv("OPENSKY_TICK_TIMEOUT")); raw != "" {
		c.TickTimeout = l.duration("OPENSKY_TICK_TIMEOUT", DefaultTickTimeout)
		if iv := c.Interval(); iv > 0 && c.TickTimeout >= iv {
			fix := "slow OPENSKY_SCHEDULE"
			if c.Every > 0 {
				fix = "raise --every"
			}
			l.fail("OPENSKY_TICK_TIMEOUT", raw, fmt.Sprintf("must be shorter than %s (%s), or one tick would still run when the next starts; lower OPENSKY_TICK_TIMEOUT or %s",
				c.intervalSource(), iv, fix))
		}
	} else {
		c.TickTimeout = DefaultTickTimeout
		if iv := c.Interval(); iv > 0 && c.TickTimeout > iv*8/10 {
			c.TickTimeout = iv * 8 / 10
		}
	}
	if c.RequestTimeout > c.TickTimeout && c.TickTimeout > 0 {
		c.RequestTimeout = c.TickTimeout
	}

	c.EventHubName = l.eventHubName(c.EventHubName, c.EventHubConnString.Value())
	c.Sink = l.sink(c)
	if c.Sink == SinkFile && c.File == "" {
		l.fail("OPENSKY_FILE", "", "is empty; give a path (default "+DefaultFile+") or - for standard output")
	}
	c.LogLevel = l.level("LOG_LEVEL")
	l.memory(&c, readFile)

	if err := errors.Join(l.errs...); err != nil {
		return Config{}, fmt.Errorf("invalid app settings:\n%w", err)
	}
	return c, nil
}

// Interval is the shortest time between two ticks: Every when set, else the schedule's shortest
// gap (0 when the schedule fires once or never).
func (c Config) Interval() time.Duration {
	if c.Every > 0 {
		return c.Every
	}
	return c.Schedule.MinInterval()
}

// CallsPerDay is how many ticks a day the process makes, each one OpenSky call.
func (c Config) CallsPerDay() float64 {
	if c.Every > 0 {
		return float64(24*time.Hour) / float64(c.Every)
	}
	return c.Schedule.CallsPerDay()
}

// intervalSource names what sets the interval, for messages.
func (c Config) intervalSource() string {
	if c.Every > 0 {
		return "the interval between ticks set by --every"
	}
	return "the schedule's interval"
}

// LogAttrs describes the configuration for the start-up log line, with secrets masked.
func (c Config) LogAttrs() []slog.Attr {
	bbox := "none (whole world)"
	if c.BBox != nil {
		bbox = fmt.Sprintf("%g,%g,%g,%g", c.BBox.LaMin, c.BBox.LoMin, c.BBox.LaMax, c.BBox.LoMax)
	}
	pace := slog.String("schedule", c.Schedule.String())
	if c.Every > 0 {
		pace = slog.Duration("every", c.Every)
	}
	attrs := []slog.Attr{
		pace,
		slog.String("bbox", bbox),
		slog.Int("icao24", len(c.ICAO24)),
		slog.Bool("extended", c.Extended),
		slog.String("account", string(c.Account)),
		slog.String("client_id", c.ClientID),
		slog.Any("client_secret", c.ClientSecret),
		slog.String("base_url", c.BaseURL),
		slog.Duration("request_timeout", c.RequestTimeout),
		slog.Duration("tick_timeout", c.TickTimeout),
		slog.String("sink", c.Sink),
		slog.Int("memory_mb", c.MemoryMB),
		slog.Int("max_states", c.MaxStates),
	}
	switch c.Sink {
	case SinkFile:
		attrs = append(attrs, slog.String("file", c.File))
	case SinkEventHub:
		attrs = append(attrs,
			slog.String("eventhub", c.EventHubName),
			slog.String("namespace", c.EventHubNamespace),
			slog.Any("connection_string", c.EventHubConnString),
			slog.Int("concurrency", c.Concurrency))
	}
	return attrs
}

type loader struct {
	getenv func(string) string
	errs   []error
}

func (l *loader) fail(name, value, why string) {
	if value == "" {
		l.errs = append(l.errs, fmt.Errorf("%s %s", name, why))
		return
	}
	l.errs = append(l.errs, fmt.Errorf("%s=%q %s", name, value, why))
}

func (l *loader) str(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

func (l *loader) boolean(name string, def bool) bool {
	raw := strings.TrimSpace(l.getenv(name))
	if raw == "" {
		return def
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		l.fail(name, raw, "is not a boolean; use true or false")
		return def
	}
	return v
}

func (l *loader) integer(name string, def, lo, hi int) int {
	raw := strings.TrimSpace(l.getenv(name))
	if raw == "" {
		return def
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < lo || v > hi {
		l.fail(name, raw, fmt.Sprintf("must be a whole number from %d to %d", lo, hi))
		return def
	}
	return v
}

func (l *loader) duration(name string, def time.Duration) time.Duration {
	raw := strings.TrimSpace(l.getenv(name))
	if raw == "" {
		return def
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		// A bare number is taken as seconds, as Azure portal users tend to write them.
		if n, nerr := strconv.Atoi(raw); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
	}
	if err != nil || d <= 0 {
		l.fail(name, raw, "is not a positive duration; use a Go duration such as 30s or 2m")
		return def
	}
	return d
}

func (l *loader) url(name, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail(name, raw, "is not an http(s) URL")
	}
}

func (l *loader) bbox(name string) *BBox {
	raw := strings.TrimSpace(l.getenv(name))
	if raw == "" {
		return nil
	}
	parts := strings.Split(raw, ",")
	if len(parts) != 4 {
		l.fail(name, raw, "must be four numbers lamin,lomin,lamax,lomax (e.g. 45.8,5.9,47.8,10.5), or empty for the whole world")
		return nil
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			l.fail(name, raw, fmt.Sprintf("has %q where a number belongs; use lamin,lomin,lamax,lomax", p))
			return nil
		}
		v[i] = f
	}
	b := BBox{LaMin: v[0], LoMin: v[1], LaMax: v[2], LoMax: v[3]}
	switch {
	case b.LaMin < -90 || b.LaMax > 90 || b.LoMin < -180 || b.LoMax > 180:
		l.fail(name, raw, "is out of range: latitudes are -90..90 and longitudes -180..180")
	case b.LaMin >= b.LaMax || b.LoMin >= b.LoMax:
		l.fail(name, raw, "has a minimum not below its maximum; the order is lamin,lomin,lamax,lomax")
	default:
		return &b
	}
	return nil
}

func (l *loader) icao24(name string) []string {
	raw := strings.TrimSpace(l.getenv(name))
	if raw == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if len(p) != 6 || strings.Trim(p, "0123456789abcdef") != "" {
			l.fail(name, raw, fmt.Sprintf("has %q, which is not a 24-bit hex address (six hex digits such as 3c6444)", p))
			continue
		}
		out = append(out, p)
	}
	return out
}

func (l *loader) credentials(c *Config, readFile func(string) ([]byte, error)) {
	id := strings.TrimSpace(l.getenv("OPENSKY_CLIENT_ID"))
	secret := strings.TrimSpace(l.getenv("OPENSKY_CLIENT_SECRET"))
	file := strings.TrimSpace(l.getenv("OPENSKY_CREDENTIALS_FILE"))
	if file != "" {
		if id != "" || secret != "" {
			l.fail("OPENSKY_CREDENTIALS_FILE", file, "is set together with OPENSKY_CLIENT_ID/OPENSKY_CLIENT_SECRET; set one or the other")
			return
		}
		b, err := readFile(file)
		if err != nil {
			reason := err.Error()
			var pe *fs.PathError
			if errors.As(err, &pe) {
				reason = pe.Err.Error()
			}
			l.fail("OPENSKY_CREDENTIALS_FILE", file, "cannot be read ("+reason+"); give the path of the credentials.json OpenSky let you download")
			return
		}
		var f struct {
			ClientID     string `json:"clientId"`
			ClientSecret string `json:"clientSecret"`
		}
		if err := json.Unmarshal(b, &f); err != nil || f.ClientID == "" || f.ClientSecret == "" {
			l.fail("OPENSKY_CREDENTIALS_FILE", file, "is not an OpenSky credentials file: it needs the keys clientId and clientSecret")
			return
		}
		id, secret = f.ClientID, f.ClientSecret
	}
	switch {
	case id != "" && secret == "":
		l.fail("OPENSKY_CLIENT_SECRET", "", "is empty while OPENSKY_CLIENT_ID is set; set both, or neither to call OpenSky anonymously")
	case id == "" && secret != "":
		l.fail("OPENSKY_CLIENT_ID", "", "is empty while OPENSKY_CLIENT_SECRET is set; set both, or neither to call OpenSky anonymously")
	default:
		c.ClientID, c.ClientSecret = id, Secret(secret)
	}
}

func (l *loader) account(authenticated bool) Account {
	raw := strings.ToLower(strings.TrimSpace(l.getenv("OPENSKY_ACCOUNT")))
	switch Account(raw) {
	case "":
		if authenticated {
			return Standard
		}
		return Anonymous
	case Anonymous, Standard, Feeder:
		a := Account(raw)
		if a != Anonymous && !authenticated {
			l.fail("OPENSKY_ACCOUNT", raw, "needs OpenSky client credentials (OPENSKY_CLIENT_ID and OPENSKY_CLIENT_SECRET, or OPENSKY_CREDENTIALS_FILE)")
		}
		return a
	default:
		l.fail("OPENSKY_ACCOUNT", raw, "must be anonymous, standard or feeder (it sets the daily credit allowance: 400, 4000 or 8000)")
		return Anonymous
	}
}

func (l *loader) eventHubName(name, connString string) string {
	entity := entityPath(connString)
	switch {
	case name != "" && entity != "" && name != entity:
		l.fail("EVENTHUB_NAME", name, fmt.Sprintf("differs from the EntityPath %q in EVENTHUB_CONNECTION_STRING; drop one of them", entity))
	case name != "":
		return name
	case entity != "":
		return entity
	}
	return DefaultEventHubName
}

func (l *loader) sink(c Config) string {
	hubConfigured := c.EventHubConnString != "" || c.EventHubNamespace != ""
	if c.EventHubConnString != "" && c.EventHubNamespace != "" {
		l.fail("EVENTHUB_NAMESPACE", c.EventHubNamespace, "is set together with EVENTHUB_CONNECTION_STRING; use the namespace (managed identity) in Azure or the connection string locally, not both")
	}
	if cs := c.EventHubConnString.Value(); cs != "" && !strings.Contains(strings.ToLower(cs), "endpoint=sb://") {
		// The value is a secret: name the setting and the expected shape, never echo it.
		l.fail("EVENTHUB_CONNECTION_STRING", "", "is not an Event Hubs connection string; it looks like Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=...;SharedAccessKey=...;EntityPath=<hub>")
	}
	if ns := c.EventHubNamespace; ns != "" && (strings.Contains(ns, "://") || !strings.Contains(ns, ".")) {
		l.fail("EVENTHUB_NAMESPACE", ns, "must be the fully qualified namespace, e.g. mynamespace.servicebus.windows.net")
	}
	raw := strings.ToLower(strings.TrimSpace(l.getenv("OPENSKY_SINK")))
	switch raw {
	case "":
		if hubConfigured {
			return SinkEventHub
		}
		return SinkFile
	case SinkFile:
		return SinkFile
	case SinkEventHub:
		if !hubConfigured {
			l.fail("OPENSKY_SINK", raw, "needs an Event Hub: set EVENTHUB_NAMESPACE (with managed identity or az login) or EVENTHUB_CONNECTION_STRING")
		}
		return SinkEventHub
	default:
		l.fail("OPENSKY_SINK", raw, "must be file or eventhub")
		return SinkFile
	}
}

func (l *loader) level(name string) slog.Level {
	raw := strings.TrimSpace(l.getenv(name))
	if raw == "" {
		return slog.LevelInfo
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(raw)); err != nil {
		l.fail(name, raw, "must be debug, info, warn or error")
		return slog.LevelInfo
	}
	return lv
}

func entityPath(connString string) string {
	for _, part := range strings.Split(connString, ";") {
		k, v, ok := strings.Cut(part, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "EntityPath") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
