//go:build ignore

// gen writes the excerpts under testdata/ from the full recordings (OPENSKY_RECORDINGS, default
// ../../../shared/opensky beside the checkout): run it with `go generate ./internal/recordings`.
// The tiny gopensky fixtures are copied byte for byte; each large recording is cut to its first
// states, plus the first state of each kind the tests must meet that the cut left out. Every
// state keeps its bytes as recorded.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// excerpts: recording -> how many of its first states to keep.
var excerpts = map[string]int{
	"global-2021-10-17.json":        1000,
	"north-america-2025-01-31.json": 1500,
}

// kinds are the states a test or the demo needs at least one of, each found by its decoded fields.
var kinds = []struct {
	name string
	has  func(s []any) bool
}{
	{"position_source 0 (ADS-B)", func(s []any) bool { return s[16] == 0.0 }},
	{"position_source 1 (ASTERIX)", func(s []any) bool { return s[16] == 1.0 }},
	{"position_source 2 (MLAT)", func(s []any) bool { return s[16] == 2.0 }},
	{"position_source 3 (FLARM)", func(s []any) bool { return s[16] == 3.0 }},
	{"negative baro_altitude", func(s []any) bool { f, ok := s[7].(float64); return ok && f < 0 }},
	{"empty callsign", func(s []any) bool { return s[1] == "" }},
	{"null position", func(s []any) bool { return s[5] == nil }},
	{"on the ground", func(s []any) bool { return s[8] == true }},
	{"spi set", func(s []any) bool { return s[15] == true }},
	{"emergency squawk", func(s []any) bool { return s[14] == "7700" || s[14] == "7600" || s[14] == "7500" }},
}

func main() {
	src := os.Getenv("OPENSKY_RECORDINGS")
	if src == "" {
		src = filepath.Join("..", "..", "..", "shared", "opensky")
	}
	if err := gen(src, "testdata"); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func gen(src, dst string) error {
	for _, rel := range []string{"states/small-2018-02-13.json", "malformed/*.json"} {
		files, err := filepath.Glob(filepath.Join(src, rel))
		if err != nil || len(files) == 0 {
			return fmt.Errorf("no %s in %s (set OPENSKY_RECORDINGS)", rel, src)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if err := write(filepath.Join(dst, filepath.Dir(rel), filepath.Base(f)), b); err != nil {
				return err
			}
		}
	}
	for name, n := range excerpts {
		b, err := os.ReadFile(filepath.Join(src, "states", name))
		if err != nil {
			return err
		}
		out, note, err := excerpt(b, n)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Printf("%s: %s\n", name, note)
		if err := write(filepath.Join(dst, "states", name), out); err != nil {
			return err
		}
	}
	return nil
}

// excerpt keeps the first n states and the first state of each kind missing from them, in
// recorded order, one state per line.
func excerpt(b []byte, n int) ([]byte, string, error) {
	var env struct {
		Time   json.RawMessage   `json:"time"`
		States []json.RawMessage `json:"states"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, "", err
	}
	keep := map[int]bool{}
	for i := 0; i < n && i < len(env.States); i++ {
		keep[i] = true
	}
	note := fmt.Sprintf("first %d of %d states", min(n, len(env.States)), len(env.States))
	for _, k := range kinds {
		found := -1
		for i, raw := range env.States {
			var s []any
			if err := json.Unmarshal(raw, &s); err != nil || len(s) < 17 {
				return nil, "", fmt.Errorf("state %d: not a state vector", i)
			}
			if k.has(s) {
				found = i
				break
			}
		}
		if found >= n {
			keep[found] = true
			note += fmt.Sprintf(", and state %d (%s)", found, k.name)
		}
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "{\"time\":%s,\"states\":[", env.Time)
	first := true
	for i, raw := range env.States {
		if !keep[i] {
			continue
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		out.WriteString("\n")
		out.Write(raw)
	}
	out.WriteString("\n]}\n")
	return out.Bytes(), note, nil
}

func write(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
