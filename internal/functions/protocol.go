// Package functions speaks the Azure Functions custom handler protocol: the host POSTs each
// invocation as JSON to /<FunctionName> on 127.0.0.1 and reads back Outputs, Logs and ReturnValue.
// It knows nothing of OpenSky or Event Hubs: a timer invocation becomes a call to a Ticker.
package functions

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// InvocationRequest is the body the host POSTs for a non-HTTP trigger.
type InvocationRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// DecodeInvocation reads a whole invocation body: exactly one JSON object, with nothing but
// whitespace after it (trailing bytes or a second object are a malformed body, not an invocation
// with extras). An error reading r is wrapped.
func DecodeInvocation(r io.Reader) (InvocationRequest, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return InvocationRequest{}, fmt.Errorf("reading the body: %w", err)
	}
	var req InvocationRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return InvocationRequest{}, err
	}
	return req, nil
}

// InvocationResponse is what the handler answers. The host logs each Logs entry at Information
// level for the invocation, but only on a 2xx answer: failures also go to stderr.
//
// Its JSON is capped (see MarshalJSON): a tick's warnings and errors quote what OpenSky and Event
// Hubs sent, and neither the host's log nor its memory should take megabytes of them.
type InvocationResponse struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// Caps on an answer's JSON: Logs and ReturnValue each take at most half of 64 KiB, and one Logs
// entry at most MaxLogEntryBytes, so a failure's reason always has room next to its warnings.
const (
	MaxLogsBytes        = 32 << 10
	MaxReturnValueBytes = 32 << 10
	MaxLogEntryBytes    = 4 << 10
)

// MarshalJSON writes the response with its caps. Logs entries are kept in order while they fit
// in MaxLogsBytes (as JSON), each cut to MaxLogEntryBytes with a note of its length, and a last
// entry says how many were left out. A ReturnValue whose JSON is over MaxReturnValueBytes is
// replaced by {"truncated": why, "excerpt": its first 4 KiB as a string}.
func (r InvocationResponse) MarshalJSON() ([]byte, error) {
	type plain InvocationResponse // without this method
	p := plain(r)
	p.Logs = capLogs(r.Logs)
	rv, err := json.Marshal(r.ReturnValue)
	if err != nil {
		return nil, err
	}
	if len(rv) > MaxReturnValueBytes {
		p.ReturnValue = map[string]string{
			"truncated": fmt.Sprintf("the ReturnValue was %d bytes of JSON, more than the answer's cap of %d KiB; the excerpt is its start", len(rv), MaxReturnValueBytes>>10),
			"excerpt":   clipText(string(rv), 4<<10),
		}
	} else {
		p.ReturnValue = json.RawMessage(rv)
	}
	return json.Marshal(p)
}

// logsNoteRoom is the part of MaxLogsBytes kept for the note on what was left out.
const logsNoteRoom = 200

// capLogs applies MarshalJSON's caps to Logs.
func capLogs(logs []string) []string {
	if logs == nil {
		return nil
	}
	out := make([]string, 0, len(logs))
	used, budget := 0, MaxLogsBytes-logsNoteRoom
	for i, entry := range logs {
		entry = clipText(entry, MaxLogEntryBytes)
		if n := jsonLen(entry) + 1; used+n <= budget { // and a comma
			out, used = append(out, entry), used+n
			continue
		}
		rest := logs[i:]
		if cut, ok := fitText(entry, budget-used-1); ok {
			out, rest = append(out, cut), logs[i+1:]
		}
		if len(rest) > 0 {
			left := 0
			for _, e := range rest {
				left += len(e)
			}
			out = append(out, fmt.Sprintf("... %d more log entries (%d bytes) left out: an answer's Logs are capped at %d KiB", len(rest), left, MaxLogsBytes>>10))
		}
		return out
	}
	return out
}

// fitText cuts s (clipText) so that its JSON takes at most room bytes, if at least 100 bytes of
// it can be kept.
func fitText(s string, room int) (string, bool) {
	for keep := room - 40; keep >= 100; keep = keep * 3 / 4 {
		if cut := clipText(s, keep); jsonLen(cut) <= room {
			return cut, true
		}
	}
	return "", false
}

// clipText returns s, or its first n bytes (cut at a character's start) and a note of its
// length; the result may be up to 40 bytes longer than n.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes in all)", s[:cut], len(s))
}

// jsonLen is the length of s as a JSON string.
func jsonLen(s string) int {
	b, _ := json.Marshal(s)
	return len(b)
}

// TimerInfo is the timer binding's value.
type TimerInfo struct {
	Schedule       json.RawMessage `json:"Schedule"`
	ScheduleStatus *ScheduleStatus `json:"ScheduleStatus"`
	IsPastDue      bool            `json:"IsPastDue"`
}

// ScheduleStatus is null when the schedule monitor is off.
type ScheduleStatus struct {
	Last        LenientTime `json:"Last"`
	Next        LenientTime `json:"Next"`
	LastUpdated LenientTime `json:"LastUpdated"`
}

// SysMetadata is Metadata.sys.
type SysMetadata struct {
	MethodName string      `json:"MethodName"`
	UtcNow     LenientTime `json:"UtcNow"`
	RandGuid   string      `json:"RandGuid"`
}

// LenientTime takes every timestamp shape the host has been seen to send, and never fails: an
// unreadable value leaves the zero time and keeps the raw text.
type LenientTime struct {
	time.Time
	Raw string
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.9999999",       // .NET round-trip without zone
	"2006-01-02T15:04:05.9999999Z07:00", // .NET round-trip
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"01/02/2006 15:04:05", // .NET invariant culture
	"1/2/2006 3:04:05 PM", // en-US
	"01/02/2006 15:04:05 -07:00",
	"1/2/2006 3:04:05 PM -07:00",
}

// UnmarshalJSON never returns an error for a string or null.
func (t *LenientTime) UnmarshalJSON(b []byte) error {
	*t = LenientTime{}
	s := strings.TrimSpace(string(b))
	if s == "null" || s == "" {
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		t.Raw = s
		return nil
	}
	t.Raw = str
	str = strings.TrimSpace(str)
	for _, layout := range timeLayouts {
		if ts, err := time.Parse(layout, str); err == nil {
			t.Time = ts.UTC() // a time without a zone is UTC, as the host schedules in UTC
			return nil
		}
	}
	return nil
}

// timerBindingName is the binding name in OpenSkyTimer/function.json.
const timerBindingName = "timer"

// maxKeysNamed bounds the keys an error names.
const maxKeysNamed = 5

// Timer extracts the timer binding from an invocation and says what is wrong when it is not one.
func (r InvocationRequest) Timer() (TimerInfo, error) {
	if r.Data == nil {
		return TimerInfo{}, fmt.Errorf("the body has no \"Data\" object; a timer invocation looks like {\"Data\":{\"%s\":{...}},\"Metadata\":{...}}", timerBindingName)
	}
	raw, ok := r.Data[timerBindingName]
	if !ok {
		keys := make([]string, 0, min(len(r.Data), maxKeysNamed))
		for k := range r.Data {
			if len(keys) == maxKeysNamed {
				keys = append(keys, fmt.Sprintf("and %d more", len(r.Data)-maxKeysNamed))
				break
			}
			keys = append(keys, clipText(k, 64))
		}
		return TimerInfo{}, fmt.Errorf("Data has no %q binding (it has %q); the binding in function.json must be named %q", timerBindingName, keys, timerBindingName)
	}
	if strings.TrimSpace(string(raw)) == "null" {
		return TimerInfo{}, fmt.Errorf("Data.%s is null; the host sends the timer as an object such as {\"ScheduleStatus\":{...},\"IsPastDue\":false}", timerBindingName)
	}
	var ti TimerInfo
	if err := json.Unmarshal(raw, &ti); err != nil {
		return TimerInfo{}, fmt.Errorf("Data.%s is not a timer object: %s", timerBindingName, clipText(err.Error(), 200))
	}
	return ti, nil
}

// Sys extracts Metadata.sys; it is informational, so a missing or odd value is not an error.
func (r InvocationRequest) Sys() SysMetadata {
	var sys SysMetadata
	if raw, ok := r.Metadata["sys"]; ok {
		_ = json.Unmarshal(raw, &sys)
	}
	return sys
}
