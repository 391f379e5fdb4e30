package config_test

import (
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func noFile(string) ([]byte, error) {
	return nil, &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}
}

func TestDefaults(t *testing.T) {
	c, err := config.Load(env(nil), noFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.Schedule.String() != config.DefaultSchedule || c.Sink != config.SinkFile || c.File != config.DefaultFile ||
		c.Account != config.Anonymous || c.BaseURL != config.DefaultBaseURL || c.EventHubName != "opensky" || c.BBox != nil {
		t.Errorf("defaults = %+v", c)
	}
	// The default schedule must fit an anonymous caller: the whole world costs 4 credits a call.
	if got := c.Schedule.CallsPerDay() * 4; got > float64(config.Anonymous.DailyCredits()) {
		t.Errorf("default schedule costs %v credits a day, over the anonymous %d", got, config.Anonymous.DailyCredits())
	}
	if c.TickTimeout != config.DefaultTickTimeout || c.TickTimeout >= c.Schedule.MinInterval() {
		t.Errorf("tick timeout %s against interval %s", c.TickTimeout, c.Schedule.MinInterval())
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	_, err := config.Load(env(map[string]string{
		"OPENSKY_SCHEDULE":         "*/5 * * * *",
		"OPENSKY_BBOX":             "50,10,40",
		"OPENSKY_ICAO24":           "3c6444,zzzzzz",
		"OPENSKY_EXTENDED":         "maybe",
		"OPENSKY_CLIENT_ID":        "me",
		"OPENSKY_SINK":             "kafka",
		"OPENSKY_REQUEST_TIMEOUT":  "soon",
		"EVENTHUB_MAX_CONCURRENCY": "0",
		"LOG_LEVEL":                "loud",
		"OPENSKY_BASE_URL":         "ftp://x",
	}), noFile)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"OPENSKY_SCHEDULE", "OPENSKY_BBOX", "OPENSKY_ICAO24", "OPENSKY_EXTENDED", "OPENSKY_CLIENT_SECRET",
		"OPENSKY_SINK", "OPENSKY_REQUEST_TIMEOUT", "EVENTHUB_MAX_CONCURRENCY", "LOG_LEVEL", "OPENSKY_BASE_URL", "zzzzzz", "6-field", `did you mean "0 */5 * * * *"`} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not mention %s:\n%v", name, err)
		}
	}
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		file    string
		wantErr string
		check   func(t *testing.T, c config.Config)
	}{
		{name: "bbox", env: map[string]string{"OPENSKY_BBOX": " 45.8, 5.9 ,47.8,10.5"}, check: func(t *testing.T, c config.Config) {
			if *c.BBox != (config.BBox{LaMin: 45.8, LoMin: 5.9, LaMax: 47.8, LoMax: 10.5}) {
				t.Errorf("bbox = %+v", c.BBox)
			}
		}},
		{name: "bbox order", env: map[string]string{"OPENSKY_BBOX": "50,10,40,20"}, wantErr: "minimum not below"},
		{name: "bbox range", env: map[string]string{"OPENSKY_BBOX": "-95,10,40,20"}, wantErr: "out of range"},
		{name: "icao24 lower-cased", env: map[string]string{"OPENSKY_ICAO24": "3C6444, a0b1c2"}, check: func(t *testing.T, c config.Config) {
			if strings.Join(c.ICAO24, ",") != "3c6444,a0b1c2" {
				t.Errorf("icao24 = %v", c.ICAO24)
			}
		}},
		{name: "credentials from env", env: map[string]string{"OPENSKY_CLIENT_ID": "me-api-client", "OPENSKY_CLIENT_SECRET": "s3cr3t"}, check: func(t *testing.T, c config.Config) {
			if !c.Authenticated() || c.ClientSecret.Value() != "s3cr3t" || c.Account != config.Standard {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "credentials file", env: map[string]string{"OPENSKY_CREDENTIALS_FILE": "credentials.json", "OPENSKY_ACCOUNT": "feeder"},
			file: `{"clientId":"me-api-client","clientSecret":"s3cr3t"}`, check: func(t *testing.T, c config.Config) {
				if c.ClientID != "me-api-client" || c.ClientSecret.Value() != "s3cr3t" || c.Account != config.Feeder {
					t.Errorf("got %+v", c)
				}
			}},
		{name: "credentials file missing", env: map[string]string{"OPENSKY_CREDENTIALS_FILE": "nope.json"}, wantErr: "cannot be read (file does not exist)"},
		{name: "credentials file wrong keys", env: map[string]string{"OPENSKY_CREDENTIALS_FILE": "c.json"}, file: `{"client_id":"x"}`, wantErr: "clientId and clientSecret"},
		{name: "account without credentials", env: map[string]string{"OPENSKY_ACCOUNT": "standard"}, wantErr: "needs OpenSky client credentials"},
		{name: "eventhub from connection string", env: map[string]string{"EVENTHUB_CONNECTION_STRING": "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=x;SharedAccessKey=y;EntityPath=planes;UseDevelopmentEmulator=true"},
			check: func(t *testing.T, c config.Config) {
				if c.Sink != config.SinkEventHub || c.EventHubName != "planes" {
					t.Errorf("sink %s hub %s", c.Sink, c.EventHubName)
				}
			}},
		{name: "eventhub from namespace", env: map[string]string{"EVENTHUB_NAMESPACE": "ns.servicebus.windows.net"}, check: func(t *testing.T, c config.Config) {
			if c.Sink != config.SinkEventHub || c.EventHubName != "opensky" {
				t.Errorf("sink %s hub %s", c.Sink, c.EventHubName)
			}
		}},
		{name: "file sink forced", env: map[string]string{"EVENTHUB_NAMESPACE": "ns.servicebus.windows.net", "OPENSKY_SINK": "file", "OPENSKY_FILE": "-"}, check: func(t *testing.T, c config.Config) {
			if c.Sink != config.SinkFile || c.File != "-" {
				t.Errorf("sink %s file %s", c.Sink, c.File)
			}
		}},
		{name: "eventhub sink without hub", env: map[string]string{"OPENSKY_SINK": "eventhub"}, wantErr: "needs an Event Hub"},
		{name: "namespace not qualified", env: map[string]string{"EVENTHUB_NAMESPACE": "myns"}, wantErr: "fully qualified"},
		{name: "bad connection string not echoed", env: map[string]string{"EVENTHUB_CONNECTION_STRING": "SharedAccessKey=TOPSECRET"}, wantErr: "not an Event Hubs connection string"},
		{name: "hub name conflict", env: map[string]string{"EVENTHUB_NAME": "a", "EVENTHUB_CONNECTION_STRING": "Endpoint=sb://x/;EntityPath=b"}, wantErr: "differs from the EntityPath"},
		{name: "tick timeout above interval", env: map[string]string{"OPENSKY_SCHEDULE": "0 * * * * *", "OPENSKY_TICK_TIMEOUT": "2m"}, wantErr: "shorter than the schedule's interval (1m0s)"},
		{name: "tick timeout default shrinks to the interval", env: map[string]string{"OPENSKY_SCHEDULE": "*/30 * * * * *"}, check: func(t *testing.T, c config.Config) {
			if c.TickTimeout != 24*time.Second || c.RequestTimeout > c.TickTimeout {
				t.Errorf("tick timeout %s request timeout %s", c.TickTimeout, c.RequestTimeout)
			}
		}},
		{name: "bare seconds", env: map[string]string{"OPENSKY_REQUEST_TIMEOUT": "15"}, check: func(t *testing.T, c config.Config) {
			if c.RequestTimeout != 15*time.Second {
				t.Errorf("request timeout %s", c.RequestTimeout)
			}
		}},
		{name: "log level", env: map[string]string{"LOG_LEVEL": "DEBUG"}, check: func(t *testing.T, c config.Config) {
			if c.LogLevel != slog.LevelDebug {
				t.Errorf("level %v", c.LogLevel)
			}
		}},
		{name: "port from the older variable", env: map[string]string{"FUNCTIONS_HTTPWORKER_PORT": "7071"}, check: func(t *testing.T, c config.Config) {
			if c.Port != "7071" {
				t.Errorf("port %q", c.Port)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := noFile
			if tt.file != "" {
				read = func(string) ([]byte, error) { return []byte(tt.file), nil }
			}
			c, err := config.Load(env(tt.env), read)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "TOPSECRET") {
					t.Errorf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestSecretsMasked(t *testing.T) {
	c, err := config.Load(env(map[string]string{
		"OPENSKY_CLIENT_ID": "me", "OPENSKY_CLIENT_SECRET": "hunter2-secret",
		"EVENTHUB_CONNECTION_STRING": "Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=KEY-SECRET;EntityPath=h",
	}), noFile)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("config", attrs(c.LogAttrs())...)
	out := sb.String()
	if strings.Contains(out, "hunter2") || strings.Contains(out, "KEY-SECRET") || !strings.Contains(out, "****") {
		t.Errorf("config log line leaks a secret or masks nothing: %s", out)
	}
}

func attrs(a []slog.Attr) []any {
	out := make([]any, len(a))
	for i := range a {
		out[i] = a[i]
	}
	return out
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		expr     string
		perDay   float64
		interval time.Duration
		bad      bool
	}{
		{expr: "0 */15 * * * *", perDay: 96, interval: 15 * time.Minute},
		{expr: "0 */2 * * * *", perDay: 720, interval: 2 * time.Minute},
		{expr: "*/10 * * * * *", perDay: 8640, interval: 10 * time.Second},
		{expr: "0 0 9-17 * * Mon-Fri", perDay: 45.0 / 7, interval: time.Hour},
		{expr: "0 30 9 * * *", perDay: 1, interval: 24 * time.Hour},
		{expr: "*/5 * * * *", bad: true},
		{expr: "0 61 * * * *", bad: true},
	}
	for _, tt := range tests {
		s, err := config.ParseSchedule(tt.expr)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: want an error", tt.expr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.expr, err)
		}
		if got := s.CallsPerDay(); got < tt.perDay-0.01 || got > tt.perDay+0.01 {
			t.Errorf("%q: %v calls a day, want %v", tt.expr, got, tt.perDay)
		}
		if got := s.MinInterval(); got != tt.interval {
			t.Errorf("%q: interval %s, want %s", tt.expr, got, tt.interval)
		}
	}
}

// handler run --every: the interval replaces the schedule's wherever the pace of ticks matters.
func TestLoadEvery(t *testing.T) {
	c, err := config.LoadEvery(env(nil), noFile, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c.Interval() != 5*time.Second || c.CallsPerDay() != 17280 {
		t.Errorf("interval %s, %v calls a day; want 5s and 17280", c.Interval(), c.CallsPerDay())
	}
	// The default tick timeout shrinks to 80% of the interval, and a request fits in a tick.
	if c.TickTimeout != 4*time.Second || c.RequestTimeout > c.TickTimeout {
		t.Errorf("tick timeout %s, request timeout %s; want 4s and no more than it", c.TickTimeout, c.RequestTimeout)
	}
	// An explicit tick timeout that fits the schedule but not the interval is an error that names
	// the setting and the flag.
	_, err = config.LoadEvery(env(map[string]string{"OPENSKY_TICK_TIMEOUT": "90s"}), noFile, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "OPENSKY_TICK_TIMEOUT") || !strings.Contains(err.Error(), "--every") {
		t.Errorf("tick timeout 90s with --every 1m: %v", err)
	}
	if _, err := config.LoadEvery(env(map[string]string{"OPENSKY_TICK_TIMEOUT": "50s"}), noFile, time.Minute); err != nil {
		t.Errorf("tick timeout 50s with --every 1m: %v", err)
	}
	// Without --every, the schedule sets the pace as before.
	c, err = config.Load(env(nil), noFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.Interval() != 15*time.Minute || c.CallsPerDay() != 96 {
		t.Errorf("default: interval %s, %v calls a day", c.Interval(), c.CallsPerDay())
	}
}
