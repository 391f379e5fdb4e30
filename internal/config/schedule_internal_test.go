package config

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// maxFirings bounds walk: past it the walk would take long.
const maxFirings = 5_000

// walk finds a week's firings the slow way, with the cron library's own Next: the oracle for count.
func walk(sched cron.Schedule) (n int, minGap time.Duration) {
	end := weekStart.AddDate(0, 0, 7)
	prev := time.Time{}
	for t := weekStart.Add(-time.Second); n < maxFirings; n++ {
		t = sched.Next(t)
		if t.IsZero() || !t.Before(end) {
			break
		}
		if !prev.IsZero() {
			if g := t.Sub(prev); minGap == 0 || g < minGap {
				minGap = g
			}
		}
		prev = t
	}
	return n, minGap
}

// count must find what walking the week with the cron library's own Next finds.
func TestCountAgreesWithWalk(t *testing.T) {
	exprs := []string{
		"0 */15 * * * *", "0 */3 * * * *", "0 0 9-17 * * Mon-Fri", "0 30 9 * * *", "0 0 0 1 * *",
		"0 0 12 * * Sun", "0 0 12 1,15 * Mon", "0 0 12 5-11 Jan *", "0 0 12 * Feb *", "15,45 */20 1-3 * * *",
		"0 0 0 31 2 *", "0 5,7 * * * Sat,Sun", "0 0 */6 * * *", "30 59 23 * * *", "0 0 0 * * Tue",
		"*/30 0 0 * * *", "0 0 0 6-12 * 1",
	}
	for _, expr := range exprs {
		s, err := ParseSchedule(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if _, ok := s.sched.(*cron.SpecSchedule); !ok {
			t.Fatalf("%q: not a cron.SpecSchedule", expr)
		}
		n, gap := count(s.sched.(*cron.SpecSchedule))
		wn, wgap := walk(s.sched)
		if wn >= maxFirings {
			t.Fatalf("%q: pick an expression the walk counts in full", expr)
		}
		if n != wn || gap != wgap {
			t.Errorf("%q: count gives %d firings, gap %s; the walk %d, %s", expr, n, gap, wn, wgap)
		}
	}
}
