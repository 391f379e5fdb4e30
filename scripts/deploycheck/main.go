// Command deploycheck runs before azd provisions (scripts/preprovision.sh) and refuses settings
// that the deployed pipeline cannot carry, with a message naming the limit:
//
//   - Power BI push datasets, which Stream Analytics' Power BI outputs create, take at most
//     1,000,000 rows an hour per dataset. infra/query.asaql sends at most one row per aircraft per
//     minute to the live table, so the rows an hour are the aircraft tracked x min(60, ticks an hour).
//   - The Stream Analytics query drops repeated event_ids with LAG ... PARTITION BY event_id over an
//     hour. Its state grows with event rate x duration (the Stream Analytics docs), here the
//     aircraft tracked x ticks an hour, and a job out of memory fails. The check plans
//     eventsPerUnit event_ids per streaming unit as the REST API counts them (3 = 1/3 SU V2).
//
// It reads the settings azd passes to hooks (OPENSKY_SCHEDULE, OPENSKY_BBOX, OPENSKY_ICAO24,
// STREAM_ANALYTICS_UNITS, POWERBI_WORKSPACE_ID) and, when they fit, prints what infra/main.bicep
// needs from the schedule as NAME=value lines for the hook to store with `azd env set`:
// OPENSKY_INTERVAL_MINUTES, for the "no events reach the hub" alert, and OPENSKY_CREDITS_PER_DAY,
// what the schedule spends of the daily OpenSky credits, so that the "credits low" alert does not
// fire every day on a schedule that plans to use nearly all of them.
package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/opensky-eventhubs/handler/internal/config"
	"github.com/opensky-eventhubs/handler/internal/opensky"
)

// Planning figures. The first two are Microsoft's documented limits; the others are this
// project's estimates, stated in docs/DEPLOY.md, and the SU memory alert watches the real use.
const (
	// powerBIRowsPerHour is the push dataset limit per dataset.
	powerBIRowsPerHour = 1_000_000
	// maxStreamingUnits is the largest value main.bicep's streamingUnits allows.
	maxStreamingUnits = 30
	// worldStates is a busy whole-world snapshot (OpenSky returns about 10,000; the margin covers peaks).
	worldStates = 15_000
	// statesPerSquareDegree is a busy region's density (central Europe), used for boxes.
	statesPerSquareDegree = 30
	// eventsPerUnit is how many event_ids the dedupe window may hold per streaming unit.
	eventsPerUnit = 350_000
	// maxIntervalMinutes is the longest gap between ticks the "no events reach the hub" alert can
	// watch: Azure Monitor log alerts look back at most two days, and a day between ticks keeps at
	// least two of them in that window.
	maxIntervalMinutes = 24 * 60
)

func main() {
	if err := run(os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "deploycheck:", err)
		os.Exit(1)
	}
}

// Plan is what the check derives from the settings.
type Plan struct {
	Aircraft           int     // states per snapshot, estimated
	TicksPerHour       float64 // at the schedule's shortest interval
	IntervalMinutes    int     // the schedule's shortest interval, rounded up to whole minutes
	PowerBIRowsPerHour int     // to the live table
	DedupeEvents       int     // event_ids in the one-hour dedupe window
	StreamingUnits     int
	CreditsPerDay      int // OpenSky credits the schedule spends a day (calls x the box's price), rounded up
}

func run(getenv func(string) string, stdout io.Writer) error {
	p, err := plan(getenv)
	if err != nil {
		return err
	}
	var problems []error
	if p.IntervalMinutes > maxIntervalMinutes {
		problems = append(problems, fmt.Errorf(
			"OPENSKY_SCHEDULE %q leaves up to %d minutes between ticks; the alert that no events reach the hub looks back at most two days (Azure Monitor log alerts) and would fire between ticks; choose a schedule that fires at least once a day",
			getenv("OPENSKY_SCHEDULE"), p.IntervalMinutes))
	}
	if getenv("POWERBI_WORKSPACE_ID") != "" && p.PowerBIRowsPerHour > powerBIRowsPerHour {
		problems = append(problems, fmt.Errorf(
			"about %d aircraft x %.0f rows an hour each = %d rows an hour to the Power BI live table, more than the Power BI push dataset limit of %d rows per hour; narrow OPENSKY_BBOX or OPENSKY_ICAO24",
			p.Aircraft, math.Min(60, p.TicksPerHour), p.PowerBIRowsPerHour, powerBIRowsPerHour))
	}
	if need := unitsFor(p.DedupeEvents); need > p.StreamingUnits {
		hint := fmt.Sprintf("set STREAM_ANALYTICS_UNITS to %d or more (azd env set STREAM_ANALYTICS_UNITS %d), or choose a slower OPENSKY_SCHEDULE or a smaller OPENSKY_BBOX", need, need)
		if need > maxStreamingUnits {
			hint = "choose a slower OPENSKY_SCHEDULE or a smaller OPENSKY_BBOX"
		}
		problems = append(problems, fmt.Errorf(
			"the Stream Analytics dedupe state (one hour of event_ids: about %d aircraft x %.0f ticks) would be about %d event_ids, more than %d streaming units are planned for (%d per unit); %s",
			p.Aircraft, p.TicksPerHour, p.DedupeEvents, p.StreamingUnits, eventsPerUnit, hint))
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	fmt.Fprintf(stdout, "OPENSKY_INTERVAL_MINUTES=%d\n", p.IntervalMinutes)
	fmt.Fprintf(stdout, "OPENSKY_CREDITS_PER_DAY=%d\n", p.CreditsPerDay)
	return nil
}

// allowedUnits are main.bicep's @allowed values for streamingUnits.
var allowedUnits = map[int]bool{3: true, 7: true, 10: true, 20: true, 30: true}

// unitsFor returns the smallest streamingUnits value main.bicep allows that plans for n event_ids,
// or more than maxStreamingUnits when none does.
func unitsFor(n int) int {
	for _, u := range []int{3, 7, 10, 20, maxStreamingUnits} {
		if n <= u*eventsPerUnit {
			return u
		}
	}
	return maxStreamingUnits + 1
}

func plan(getenv func(string) string) (Plan, error) {
	// The handler's own loader validates the schedule, box and addresses with its own messages.
	// The sink and credentials are not this check's business: ask for the file sink, anonymously.
	cfg, err := config.Load(func(name string) string {
		switch name {
		case "OPENSKY_SCHEDULE", "OPENSKY_BBOX", "OPENSKY_ICAO24":
			return getenv(name)
		case "OPENSKY_SINK":
			return config.SinkFile
		}
		return ""
	}, nil)
	if err != nil {
		return Plan{}, err
	}
	units := 3
	if raw := strings.TrimSpace(getenv("STREAM_ANALYTICS_UNITS")); raw != "" {
		if units, err = strconv.Atoi(raw); err != nil || !allowedUnits[units] {
			return Plan{}, fmt.Errorf("STREAM_ANALYTICS_UNITS is %q; use 3, 7, 10, 20 or 30 (streaming units as the REST API counts them)", raw)
		}
	}

	p := Plan{Aircraft: worldStates, StreamingUnits: units}
	switch {
	case len(cfg.ICAO24) > 0:
		p.Aircraft = len(cfg.ICAO24)
	case cfg.BBox != nil:
		p.Aircraft = int(math.Min(worldStates, math.Ceil(cfg.BBox.AreaSquareDegrees()*statesPerSquareDegree)))
	}
	gap := cfg.Schedule.MinInterval()
	if gap <= 0 {
		// Fires at most once a week: plan with the mean gap.
		gap = time.Duration(float64(24*time.Hour) / math.Max(cfg.Schedule.CallsPerDay(), 1.0/7))
	}
	p.TicksPerHour = float64(time.Hour) / float64(gap)
	p.IntervalMinutes = int(math.Ceil(gap.Minutes()))
	p.PowerBIRowsPerHour = int(float64(p.Aircraft) * math.Min(60, p.TicksPerHour))
	p.DedupeEvents = int(float64(p.Aircraft) * math.Max(1, p.TicksPerHour))
	q := opensky.Query{}
	if b := cfg.BBox; b != nil {
		q.BBox = &opensky.BBox{LaMin: b.LaMin, LoMin: b.LoMin, LaMax: b.LaMax, LoMax: b.LoMax}
	}
	p.CreditsPerDay = int(math.Ceil(cfg.CallsPerDay() * float64(q.Credits())))
	return p, nil
}
