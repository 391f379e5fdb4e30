package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultsPassAndGiveTheInterval(t *testing.T) {
	var out bytes.Buffer
	if err := run(env(map[string]string{"POWERBI_WORKSPACE_ID": "x"}), &out); err != nil {
		t.Fatalf("the default schedule is refused: %v", err)
	}
	// 96 whole-world calls a day at 4 credits each.
	if got := out.String(); got != "OPENSKY_INTERVAL_MINUTES=15\nOPENSKY_CREDITS_PER_DAY=384\n" {
		t.Errorf("printed %q, want the default schedule's 15-minute interval and 384 credits a day", got)
	}
}

func TestCreditsPerDayFollowTheScheduleAndTheBox(t *testing.T) {
	for _, c := range []struct{ schedule, bbox, want string }{
		{"0 */5 * * * *", "", "1152"},                  // 288 calls x 4 (whole world)
		{"0 */5 * * * *", "45.8,5.9,47.8,10.5", "288"}, // 9.2 square degrees: 1 credit a call
		{"0 0 */2 * * *", "40,0,50,20", "36"},          // 12 calls x 3 (200 square degrees)
		{"0 */15 * * * *", "0,0,1,1", "96"},            // the default schedule, the cheapest box
	} {
		var out bytes.Buffer
		if err := run(env(map[string]string{"OPENSKY_SCHEDULE": c.schedule, "OPENSKY_BBOX": c.bbox}), &out); err != nil {
			t.Errorf("%s %s: %v", c.schedule, c.bbox, err)
			continue
		}
		if !strings.Contains(out.String(), "OPENSKY_CREDITS_PER_DAY="+c.want+"\n") {
			t.Errorf("%s %s: printed %q, want OPENSKY_CREDITS_PER_DAY=%s", c.schedule, c.bbox, out.String(), c.want)
		}
	}
}

func TestIntervalFollowsTheSchedule(t *testing.T) {
	for _, c := range []struct{ schedule, want string }{
		{"0 */5 * * * *", "5"},
		{"30 * * * * *", "1"},
		{"*/20 * * * * *", "1"}, // under a minute rounds up to one
		{"0 0 */2 * * *", "120"},
		{"0 0,10 * * * *", "10"}, // the shortest gap, not the mean
	} {
		var out bytes.Buffer
		err := run(env(map[string]string{"OPENSKY_SCHEDULE": c.schedule, "OPENSKY_BBOX": "45.8,5.9,47.8,10.5"}), &out)
		if err != nil {
			t.Errorf("%s: %v", c.schedule, err)
			continue
		}
		if got, _, _ := strings.Cut(out.String(), "\n"); got != "OPENSKY_INTERVAL_MINUTES="+c.want {
			t.Errorf("%s: printed %q, want interval %s", c.schedule, got, c.want)
		}
	}
}

func TestRefusesDedupeStateBeyondTheStreamingUnits(t *testing.T) {
	// The whole world every 30 s: 15,000 x 120 = 1.8M event_ids an hour, more than 3 units plan for.
	var out bytes.Buffer
	err := run(env(map[string]string{"OPENSKY_SCHEDULE": "*/30 * * * * *"}), &out)
	if err == nil {
		t.Fatalf("accepted; printed %q", out.String())
	}
	for _, want := range []string{"dedupe state", "1800000 event_ids", "STREAM_ANALYTICS_UNITS to 7"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
	if out.Len() != 0 {
		t.Errorf("a refused plan printed %q", out.String())
	}
	if err := run(env(map[string]string{"OPENSKY_SCHEDULE": "*/30 * * * * *", "STREAM_ANALYTICS_UNITS": "7"}), &out); err != nil {
		t.Errorf("7 units are refused too: %v", err)
	}
	// Every 5 s the whole world needs more than the largest job: only a slower schedule helps.
	err = run(env(map[string]string{"OPENSKY_SCHEDULE": "*/5 * * * * *", "STREAM_ANALYTICS_UNITS": "30"}), &out)
	if err == nil || !strings.Contains(err.Error(), "choose a slower OPENSKY_SCHEDULE") {
		t.Errorf("every 5 s at 30 units: %v", err)
	}
}

func TestPowerBIRowsAreBoundedPerMinute(t *testing.T) {
	for _, schedule := range []string{"0 * * * * *", "*/5 * * * * *"} {
		p, err := plan(env(map[string]string{"OPENSKY_SCHEDULE": schedule}))
		if err != nil {
			t.Fatal(err)
		}
		if p.PowerBIRowsPerHour != worldStates*60 || p.PowerBIRowsPerHour > powerBIRowsPerHour {
			t.Errorf("%s: %d Power BI rows an hour; the query sends one row per aircraft per minute (%d)", schedule, p.PowerBIRowsPerHour, worldStates*60)
		}
	}
}

func TestRefusesPowerBIRowsOverTheLimit(t *testing.T) {
	// 20,000 addresses every minute: 1.2M rows an hour to the live table.
	ids := make([]string, 20_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("%06x", i)
	}
	err := run(env(map[string]string{
		"OPENSKY_SCHEDULE":       "0 * * * * *",
		"OPENSKY_ICAO24":         strings.Join(ids, ","),
		"POWERBI_WORKSPACE_ID":   "x",
		"STREAM_ANALYTICS_UNITS": "10",
	}), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "Power BI push dataset limit of 1000000 rows per hour") {
		t.Errorf("20,000 aircraft a minute to Power BI: %v", err)
	}
}

func TestRefusesTicksFurtherApartThanADay(t *testing.T) {
	// Once a week: the hub-silent alert's longest window (two days) would hold no tick.
	err := run(env(map[string]string{"OPENSKY_SCHEDULE": "0 0 0 * * 1"}), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "OPENSKY_SCHEDULE") || !strings.Contains(err.Error(), "at most two days") {
		t.Errorf("a weekly schedule: %v", err)
	}
	if err := run(env(map[string]string{"OPENSKY_SCHEDULE": "0 0 3 * * *"}), &bytes.Buffer{}); err != nil {
		t.Errorf("a daily schedule is refused: %v", err)
	}
}

func TestBadSettingsAreNamed(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"OPENSKY_SCHEDULE":       {"OPENSKY_SCHEDULE": "*/15 * * * *"},
		"OPENSKY_BBOX":           {"OPENSKY_BBOX": "1,2,3"},
		"STREAM_ANALYTICS_UNITS": {"STREAM_ANALYTICS_UNITS": "6"},
	} {
		err := run(env(m), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v does not name %s", m, err, name)
		}
	}
}
