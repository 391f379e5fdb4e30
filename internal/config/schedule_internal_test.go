package config

import (
	"testing"

	"github.com/robfig/cron/v3"
)

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
		n, gap, span := count(s.sched.(*cron.SpecSchedule))
		wn, wgap, wspan := s.walk()
		if wn >= maxFirings {
			t.Fatalf("%q: pick an expression the walk counts in full", expr)
		}
		if n != wn || gap != wgap || span != wspan {
			t.Errorf("%q: count gives %d firings, gap %s, span %s; the walk %d, %s, %s", expr, n, gap, span, wn, wgap, wspan)
		}
	}
}
