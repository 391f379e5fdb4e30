package opensky

// For the tests of package opensky_test: the two decoders that Decode chooses between, and the
// fast path's number reader.
var (
	DecodeFast   = decodeFast
	DecodeTokens = decodeTokens
	ScanNumber   = scanNumber
)
