// Package recordings finds the recorded OpenSky answers that tests and benchmarks read. They live
// beside the checkout in ../shared/opensky (or where OPENSKY_RECORDINGS points) and are never
// copied into the repo.
package recordings

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides where the recordings are.
const EnvVar = "OPENSKY_RECORDINGS"

// Recording is one recorded /states/all answer with its known number of states.
type Recording struct {
	Name   string // file name under states/
	States int    // as published with the recording (../shared/opensky/README.md)
}

// States lists the recordings under states/.
var States = []Recording{
	{"global-2021-10-17.json", 5485},
	{"north-america-2025-01-31.json", 6109},
	{"small-2018-02-13.json", 6},
}

// Dir returns the recordings folder, or skips tb with a message saying how to get them.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, ok := find()
	if !ok {
		tb.Skipf("OpenSky recordings not found: put them in ../shared/opensky beside the checkout "+
			"(states/*.json and malformed/*.json, as in the project's shared folder) or set %s to their folder", EnvVar)
	}
	return dir
}

// Read returns one file below the recordings folder, e.g. "states/small-2018-02-13.json".
func Read(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(tb), rel))
	if err != nil {
		tb.Fatalf("reading recording: %v", err)
	}
	return b
}

func find() (string, bool) {
	if d := os.Getenv(EnvVar); d != "" {
		return d, isDir(filepath.Join(d, "states"))
	}
	// Walk up from the test's folder to the module root, then look beside it.
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "cmd", "handler")); err == nil {
				cand := filepath.Join(filepath.Dir(dir), "shared", "opensky")
				return cand, isDir(filepath.Join(cand, "states"))
			}
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
