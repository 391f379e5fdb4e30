package opensky

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactExcerpt(t *testing.T) {
	const (
		tok    = "eyJhbGciOiJSUzI1NiJ9.payload.signature-value"
		secret = "cs+secret/with=chars"
	)
	for _, tc := range []struct {
		name, in string
		gone     []string // must not be in the output
		kept     []string // must still be there
	}{
		{"bearer anywhere", "upstream said: bearer abc.DEF-123_x~y+z/= rejected", []string{"abc.DEF"}, []string{"bearer <redacted> rejected"}},
		{"header line", "Accept: */*\r\nAuthorization: Basic dXNlcjpwYXNz\r\nUser-Agent: x", []string{"dXNlcjpwYXNz"}, []string{"Authorization: <redacted>\r\nUser-Agent: x"}},
		{"header as JSON", `{"headers":{"Authorization":["Bearer zzz.yyy"],"Accept":["*/*"]}}`, []string{"zzz.yyy"}, []string{`"Authorization":["<redacted>"]`, `"Accept"`}},
		{"proxy header", "Proxy-Authorization=Negotiate QWxhZGRpbg", []string{"QWxhZGRpbg"}, nil},
		{"shared access signature", "SharedAccessSignature sr=sb%3A%2F%2Fns&sig=AbC%2Bdef%3D&se=1700000000&skn=send; next", []string{"AbC%2Bdef", "skn=send"}, []string{"SharedAccessSignature <redacted>; next"}},
		{"shared access key", "Endpoint=sb://ns/;SharedAccessKeyName=send;SharedAccessKey=Sx9+key/0=;EntityPath=h", []string{"Sx9+key"}, []string{"SharedAccessKey=<redacted>;EntityPath=h", "SharedAccessKeyName=send"}},
		{"oauth parameters", "grant_type=client_credentials&client_secret=abc123&access_token=xyz789", []string{"abc123", "xyz789"}, []string{"grant_type=client_credentials"}},
		{"known token alone", "your token " + tok + " expired", []string{tok, "payload"}, []string{"your token <redacted> expired"}},
		{"known token cut off by the excerpt", "token=" + tok[:20], []string{tok[:20], tok[:8]}, nil},
		{"known token at the end, cut", "the token was " + tok[:12], []string{tok[:12]}, []string{"the token was <redacted>"}},
		{"known secret URL-escaped", "body: " + url.QueryEscape(secret) + " end", []string{url.QueryEscape(secret)}, []string{"end"}},
		{"nothing to redact", "Forbidden: cloud addresses are blocked", nil, []string{"Forbidden: cloud addresses are blocked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := redactExcerpt(tc.in, tok, secret)
			for _, g := range tc.gone {
				if strings.Contains(got, g) {
					t.Errorf("redactExcerpt(%q) = %q, still holds %q", tc.in, got, g)
				}
			}
			for _, k := range tc.kept {
				if !strings.Contains(got, k) {
					t.Errorf("redactExcerpt(%q) = %q, want it to hold %q", tc.in, got, k)
				}
			}
			if again := redactExcerpt(got, tok, secret); again != got {
				t.Errorf("redacting twice changes the text: %q, then %q", got, again)
			}
		})
	}
}
