package flight

import (
	"math"
	"strconv"
)

// appendOptFloat formats a number as encoding/json does (ES6 style: no exponent between 1e-6
// and 1e21, the shortest text that reads back the same).
func appendOptFloat(b []byte, f *float64) []byte {
	if f == nil {
		return append(b, "null"...)
	}
	return appendFloat(b, *f)
}

// pow10 holds 10^k for the decimals the fast path tries; each is exact in a float64.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// appendFloat is appendFloatStrconv, with a fast path for the numbers OpenSky sends: decimals of
// a few places (coordinates, altitudes, speeds). Tests and a fuzzer hold the two equal.
//
// Why the fast path is exact, for a = |x|: take the smallest k <= 8 for which m, a·10^k rounded to
// an integer, is below 1e15 and m/10^k == a. Then the decimal D = m·10^-k reads back as a: m and
// 10^k are exact float64s, and IEEE division rounds correctly, so m/10^k is the float64 nearest
// D. D has at most 15 significant digits, and no two decimals of at most 15 digits read back as
// the same normal float64 (DBL_DIG), so D is the shortest decimal that reads back as a: the one
// strconv finds. The smallest k leaves m without trailing zeros, as strconv's digits are: were m
// a multiple of 10, a·10^(k-1) would be within a few ulps of the integer m/10 < 1e14, round to
// it, and k-1 would have passed. 1e-6 <= a < 1e15 keeps encoding/json's 'f' layout (no exponent).
func appendFloat(b []byte, x float64) []byte {
	if x == 0 {
		if math.Signbit(x) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	a := math.Abs(x)
	if !(a >= 1e-6 && a < 1e15) { // NaN fails both
		return appendFloatStrconv(b, x)
	}
	for k, p := range pow10 {
		m := math.RoundToEven(a * p)
		if m >= 1e15 {
			break
		}
		if m/p == a {
			return appendFixed(b, x < 0, uint64(m), k)
		}
	}
	return appendFloatStrconv(b, x)
}

// appendFixed writes m·10^-k with exactly k decimals (and "0" before the point when m < 10^k),
// after a minus sign if neg, two digits a step.
func appendFixed(b []byte, neg bool, m uint64, k int) []byte {
	var buf [24]byte // the sign, up to 15 digits, the point and up to 8 leading zeros
	i := len(buf)
	if k > 0 {
		for ; k >= 2; k -= 2 {
			q := m / 100
			i -= 2
			copy(buf[i:i+2], digitPairs[2*(m-q*100):])
			m = q
		}
		if k == 1 {
			q := m / 10
			i--
			buf[i] = byte('0' + m - q*10)
			m = q
		}
		i--
		buf[i] = '.'
	}
	for m >= 100 {
		q := m / 100
		i -= 2
		copy(buf[i:i+2], digitPairs[2*(m-q*100):])
		m = q
	}
	if m >= 10 {
		i -= 2
		copy(buf[i:i+2], digitPairs[2*m:])
	} else {
		i--
		buf[i] = byte('0' + m)
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return append(b, buf[i:]...)
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// appendFloatStrconv formats x as encoding/json does, with strconv: the general path, and the
// reference the fast path is tested against.
func appendFloatStrconv(b []byte, x float64) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(b, "null"...) // cannot come from JSON input; never emit invalid JSON
	}
	format := byte('f')
	if a := math.Abs(x); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, x, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
