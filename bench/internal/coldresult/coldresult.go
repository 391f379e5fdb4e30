// Package coldresult is the file bench/coldstart writes and bench/report reads: one Result per
// case, as JSON.
package coldresult

// Result is the measurement of one case: every run's time from exec until GET / answered, and
// their summary.
type Result struct {
	Label    string    `json:"label"`
	Binary   string    `json:"binary"`
	Runs     int       `json:"runs"`
	Millis   []float64 `json:"ms"`
	MedianMS float64   `json:"median_ms"`
	P90MS    float64   `json:"p90_ms"`
	MinMS    float64   `json:"min_ms"`
	MaxMS    float64   `json:"max_ms"`
}
