package flight

import (
	"math"
	"math/rand/v2"
	"testing"
)

// checkFloat holds appendFloat to appendFloatStrconv for x and its two neighbours.
func checkFloat(t testing.TB, x float64) {
	t.Helper()
	for _, v := range []float64{x, math.Nextafter(x, math.Inf(-1)), math.Nextafter(x, math.Inf(1))} {
		got, want := appendFloat([]byte("x"), v), appendFloatStrconv([]byte("x"), v)
		if string(got) != string(want) {
			t.Fatalf("appendFloat(%v) (bits %#x) = %q, want %q", v, math.Float64bits(v), got[1:], want[1:])
		}
	}
}

func TestAppendFloatEdges(t *testing.T) {
	edges := []float64{
		0, math.Copysign(0, -1), 1e-6, 9.99e-7, 1e-7, 5e-7, 1e-8, 1e21, math.Nextafter(1e21, 0),
		1 << 53, 1<<53 + 1, 1<<53 + 2, 0.1, 0.2, 0.3, 0.1 + 0.2, 1.0 / 3, 2.0 / 3, 123456789012345,
		1234567890123456, 999999999999999, 1e15, 1e15 - 1, 999999999999999.9, 99999999.99999999,
		5e-324, math.SmallestNonzeroFloat64, math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN(),
		11582.4, -73.8123, -0.33, 62.49, 0.5, 1, -1, 10, 100, 1e8, 1e14, 1e20, 12345.678901234,
		0.00001234, 1.00000001, 0.000001, 0.0000015, 9.5, 0.05, 123456789.125, -180, 180, 90, -90,
	}
	for _, x := range edges {
		checkFloat(t, x)
		checkFloat(t, -x)
	}
}

func TestAppendFloatRandomBits(t *testing.T) {
	n := 1_000_000 // each with its two neighbours
	if testing.Short() {
		n = 100_000
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range n {
		checkFloat(t, math.Float64frombits(r.Uint64()))
	}
}

// Random short decimals, such as OpenSky sends: the fast path's ground, and its edges.
func TestAppendFloatRandomDecimals(t *testing.T) {
	n := 1_000_000 // each with its two neighbours
	if testing.Short() {
		n = 100_000
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range n {
		digits := 1 + r.IntN(17)
		m := r.Int64N(int64(math.Pow10(digits)))
		x := float64(m) / math.Pow10(r.IntN(12))
		if r.IntN(2) == 0 {
			x = -x
		}
		checkFloat(t, x)
	}
}

// FuzzAppendFloat holds the fast path to strconv for any float64 (bits), and for decimals m·10^-k,
// which random bits seldom are and the fast path is for.
func FuzzAppendFloat(f *testing.F) {
	for _, x := range []float64{0, 1e-6, 11582.4, -73.8123, 1e21, 1 << 53, 0.1, 5e-324} {
		f.Add(math.Float64bits(x), int64(118), uint8(2))
	}
	f.Fuzz(func(t *testing.T, bits uint64, m int64, k uint8) {
		checkFloat(t, math.Float64frombits(bits))
		checkFloat(t, float64(m)/math.Pow10(int(k%24)))
	})
}

func BenchmarkAppendFloat(b *testing.B) {
	xs := []float64{11582.4, -73.8123, -0.33, 62.49, 10668, 230.5, 90.1, -5.2, 50.2}
	buf := make([]byte, 0, 64)
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			for _, x := range xs {
				buf = appendFloat(buf[:0], x)
			}
		}
	})
	b.Run("strconv", func(b *testing.B) {
		for b.Loop() {
			for _, x := range xs {
				buf = appendFloatStrconv(buf[:0], x)
			}
		}
	})
}
