// Package functions speaks the Azure Functions custom handler protocol: the host POSTs each
// invocation as JSON to /<FunctionName> on 127.0.0.1 and reads back Outputs, Logs and ReturnValue.
// It knows nothing of OpenSky or Event Hubs: a timer invocation becomes a call to a Ticker.
package functions

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// InvocationRequest is the body the host POSTs for a non-HTTP trigger.
type InvocationRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// InvocationResponse is what the handler answers. The host logs each Logs entry at Information
// level for the invocation, but only on a 2xx answer: failures also go to stderr.
type InvocationResponse struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
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

// Timer extracts the timer binding from an invocation and says what is wrong when it is not one.
func (r InvocationRequest) Timer() (TimerInfo, error) {
	if r.Data == nil {
		return TimerInfo{}, fmt.Errorf("the body has no \"Data\" object; a timer invocation looks like {\"Data\":{\"%s\":{...}},\"Metadata\":{...}}", timerBindingName)
	}
	raw, ok := r.Data[timerBindingName]
	if !ok {
		keys := make([]string, 0, len(r.Data))
		for k := range r.Data {
			keys = append(keys, k)
		}
		return TimerInfo{}, fmt.Errorf("Data has no %q binding (it has %v); the binding in function.json must be named %q", timerBindingName, keys, timerBindingName)
	}
	var ti TimerInfo
	if err := json.Unmarshal(raw, &ti); err != nil {
		return TimerInfo{}, fmt.Errorf("Data.%s is not a timer object: %v", timerBindingName, err)
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
