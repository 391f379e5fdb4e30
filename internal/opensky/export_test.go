package opensky

// For the tests of package opensky_test: the two decoders that Decode chooses between, and the
// fast path's number reader.
var (
	DecodeFast   = decodeFast
	DecodeTokens = decodeTokens
	ScanNumber   = scanNumber
)

// Wide takes every time from 1970 to 2^40 s and any number of states: the tests of the decoders'
// mechanics use it, so that their hand-written answers may say "time":1.
var Wide = Limits{Earliest: 0, Latest: 1 << 40}
