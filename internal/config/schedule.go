package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is a 6-field NCRONTAB expression, as the Functions timer trigger reads it, evaluated in UTC.
type Schedule struct {
	expr  string
	sched cron.Schedule
	// Firings over one week, counted at parse time (it is on the cold-start path).
	firings int
	minGap  time.Duration
}

var parser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// ParseSchedule parses a 6-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week}).
func ParseSchedule(expr string) (Schedule, error) {
	expr = strings.TrimSpace(expr)
	if n := len(strings.Fields(expr)); n != 6 {
		if n == 5 {
			// A Unix cron line: the Functions timer wants seconds first.
			return Schedule{}, fmt.Errorf("has 5 fields, not 6 (did you mean \"0 %s\"? Functions schedules start with a seconds field)", expr)
		}
		return Schedule{}, fmt.Errorf("has %d fields, not 6", n)
	}
	s, err := parser.Parse(expr)
	if err != nil {
		return Schedule{}, fmt.Errorf("does not parse (%v)", err)
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok { // the parser makes nothing else of six fields
		return Schedule{}, fmt.Errorf("is not a cron expression")
	}
	sch := Schedule{expr: expr, sched: s}
	sch.firings, sch.minGap = count(spec)
	return sch, nil
}

// String returns the expression.
func (s Schedule) String() string { return s.expr }

// Next returns the first firing strictly after t.
func (s Schedule) Next(t time.Time) time.Time {
	if s.sched == nil {
		return time.Time{}
	}
	return s.sched.Next(t.UTC())
}

// week is the span over which firings are counted, so that day-of-week fields average out.
var weekStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday

// CallsPerDay is the mean number of firings a day over one week.
func (s Schedule) CallsPerDay() float64 {
	return float64(s.firings) / 7
}

// MinInterval is the shortest gap between two firings within a week (0 when it fires once or never).
func (s Schedule) MinInterval() time.Duration { return s.minGap }

// count counts the firings of a cron spec over the week from weekStart, and the shortest gap
// between two of them, without calling Next per firing (a fifteen-minute schedule's week took half a millisecond
// that way, at start-up): a day fires at every combination of the hour, minute and second
// fields' values when its date matches the day, day-of-week and month fields. Times are UTC, so
// every day has the same times.
func count(spec *cron.SpecSchedule) (n int, minGap time.Duration) {
	// The seconds of the day at which a matching day fires, in order.
	var times []int
	for h := range 24 {
		if spec.Hour&(1<<h) == 0 {
			continue
		}
		for m := range 60 {
			if spec.Minute&(1<<m) == 0 {
				continue
			}
			for s := range 60 {
				if spec.Second&(1<<s) != 0 {
					times = append(times, h*3600+m*60+s)
				}
			}
		}
	}
	const day = 24 * 3600
	gap, last := 0, -1 // in seconds; last is from weekStart
	for i := range 7 {
		d := weekStart.AddDate(0, 0, i)
		if len(times) == 0 || !dayMatches(spec, d) {
			continue
		}
		n += len(times)
		for j := 1; j < len(times); j++ {
			if g := times[j] - times[j-1]; gap == 0 || g < gap {
				gap = g
			}
		}
		if last >= 0 {
			if g := i*day + times[0] - last; gap == 0 || g < gap {
				gap = g
			}
		}
		last = i*day + times[len(times)-1]
	}
	return n, time.Duration(gap) * time.Second
}

// dayMatches is robfig/cron's rule for a date: the month must match, and the day of the month and
// the day of the week must both match when either field is a star, either of them otherwise.
func dayMatches(spec *cron.SpecSchedule, d time.Time) bool {
	if spec.Month&(1<<uint(d.Month())) == 0 {
		return false
	}
	dom := spec.Dom&(1<<uint(d.Day())) != 0
	dow := spec.Dow&(1<<uint(d.Weekday())) != 0
	const star = 1 << 63
	if spec.Dom&star != 0 || spec.Dow&star != 0 {
		return dom && dow
	}
	return dom || dow
}
