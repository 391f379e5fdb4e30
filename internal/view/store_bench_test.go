package view_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/opensky-eventhubs/handler/internal/view"
)

// BenchmarkReplace10k: what `run --view` adds to a tick of 10,000 aircraft (parse, aggregate and
// encode the snapshot's answers).
func BenchmarkReplace10k(b *testing.B) {
	const snap = "2026-11-27T10:00:00Z"
	at, _ := time.Parse(time.RFC3339, snap)
	bodies := make([][]byte, 10000)
	countries := []string{"Germany", "France", "United States", "Japan", "Brazil"}
	for i := range bodies {
		squawk := ""
		if i%1000 == 0 {
			squawk = "7700"
		}
		bodies[i] = event(fmt.Sprintf("%06x-1", i), snap, countries[i%len(countries)], squawk, f(float64(i%360-180)), f(float64(i%120-60)))
	}
	s := view.NewStore(nil, 0)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Replace(at, bodies); err != nil {
			b.Fatal(err)
		}
	}
}
