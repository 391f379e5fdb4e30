package tick

import (
	"fmt"
	"math"
	"time"
)

// Budget is what a schedule costs in OpenSky credits a day against the caller's allowance.
type Budget struct {
	CallsPerDay    float64
	CreditsPerCall int
	CreditsPerDay  float64
	Allowance      int
	// Every is the fixed interval priced (handler run --every); zero means a schedule.
	Every time.Duration
	// Suggestion is the fastest simple schedule (or, with Every, the shortest interval) that fits
	// the allowance; set when the budget does not fit.
	Suggestion string
}

// Fits reports whether the schedule stays within the allowance.
func (b Budget) Fits() bool { return b.CreditsPerDay <= float64(b.Allowance) }

// Warning is a sentence for the start-up log when the budget does not fit, else "".
func (b Budget) Warning() string {
	if b.Fits() {
		return ""
	}
	if b.Every > 0 {
		return fmt.Sprintf("--every %s ticks %.0f times a day at %d credits a call: %.0f credits, over the %d a day this caller has; "+
			"OpenSky will answer 429 once they run out. The shortest interval that fits is --every %s (or narrow OPENSKY_BBOX, or use an account: OPENSKY_ACCOUNT)",
			b.Every, b.CallsPerDay, b.CreditsPerCall, b.CreditsPerDay, b.Allowance, b.Suggestion)
	}
	return fmt.Sprintf("OPENSKY_SCHEDULE fires %.0f times a day at %d credits a call: %.0f credits, over the %d a day this caller has; "+
		"OpenSky will answer 429 once they run out. The fastest schedule that fits is %q (or narrow OPENSKY_BBOX, or use an account: OPENSKY_ACCOUNT)",
		b.CallsPerDay, b.CreditsPerCall, b.CreditsPerDay, b.Allowance, b.Suggestion)
}

// NewBudget prices a schedule firing callsPerDay times at creditsPerCall against allowance.
func NewBudget(callsPerDay float64, creditsPerCall, allowance int) Budget {
	b := Budget{CallsPerDay: callsPerDay, CreditsPerCall: creditsPerCall, CreditsPerDay: callsPerDay * float64(creditsPerCall), Allowance: allowance}
	if !b.Fits() {
		b.Suggestion = FastestSchedule(creditsPerCall, allowance)
	}
	return b
}

// NewEveryBudget prices ticking every interval at creditsPerCall against allowance.
func NewEveryBudget(every time.Duration, creditsPerCall, allowance int) Budget {
	calls := float64(24*time.Hour) / float64(every)
	b := Budget{CallsPerDay: calls, CreditsPerCall: creditsPerCall, CreditsPerDay: calls * float64(creditsPerCall), Allowance: allowance, Every: every}
	if !b.Fits() {
		b.Suggestion = ShortestEvery(creditsPerCall, allowance).String()
	}
	return b
}

// ShortestEvery is the shortest interval, in whole seconds, whose calls cost at most allowance
// credits a day.
func ShortestEvery(creditsPerCall, allowance int) time.Duration {
	maxCalls := max(allowance/max(creditsPerCall, 1), 1)
	return time.Duration(math.Ceil(float64(24*time.Hour)/float64(maxCalls)/float64(time.Second))) * time.Second
}

// FastestSchedule is the most frequent "every N minutes" (or hours) NCRONTAB schedule, with N
// dividing the hour (or day) evenly, whose calls cost at most allowance credits a day.
func FastestSchedule(creditsPerCall, allowance int) string {
	if creditsPerCall <= 0 || allowance <= 0 {
		return "0 0 0 * * *"
	}
	maxCalls := allowance / creditsPerCall
	minGap := time.Duration(math.Ceil(float64(24*time.Hour) / float64(max(maxCalls, 1))))
	for _, m := range []int{1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30} {
		if time.Duration(m)*time.Minute >= minGap {
			return fmt.Sprintf("0 */%d * * * *", m)
		}
	}
	for _, h := range []int{1, 2, 3, 4, 6, 8, 12} {
		if time.Duration(h)*time.Hour >= minGap {
			return fmt.Sprintf("0 0 */%d * * *", h)
		}
	}
	return "0 0 0 * * *"
}
