// Package recordings holds the recorded OpenSky /states/all answers that tests read. They are
// embedded from testdata/ (see testdata/README.md for where each came from), so a fresh clone
// runs every test with nothing beside it, and a missing file is a build error, not a skipped test.
//
// The full recordings, several times larger, stay outside the repository for optional larger runs
// (benchmarks): Full reads them from OPENSKY_RECORDINGS or ../shared/opensky beside the checkout.
package recordings

import (
	"embed"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing"
)

//go:generate go run gen.go

//go:embed testdata/states/*.json testdata/malformed/*.json
var files embed.FS

// EnvVar says where the full recordings are, for Full.
const EnvVar = "OPENSKY_RECORDINGS"

// Recording is one recorded /states/all answer with its number of states.
type Recording struct {
	Name   string // file name under states/
	States int    // states in the repository's copy (an excerpt for the two large ones)
}

// States lists the recordings under states/.
var States = []Recording{
	{"global-2021-10-17.json", 1000},
	{"north-america-2025-01-31.json", 1501},
	{"small-2018-02-13.json", 6},
}

// Read returns one embedded file, e.g. "states/small-2018-02-13.json"; a missing one fails tb.
func Read(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := files.ReadFile(path.Join("testdata", rel))
	if err != nil {
		tb.Fatalf("reading recording: %v", err)
	}
	return b
}

// Names returns the names of the embedded files in dir ("states" or "malformed"), sorted; none
// fails tb.
func Names(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := fs.ReadDir(files, path.Join("testdata", dir))
	if err != nil || len(entries) == 0 {
		tb.Fatalf("no recordings under %s: %v", dir, err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

// Full returns the full published recording name (under states/) from OPENSKY_RECORDINGS, or
// from ../shared/opensky beside the module root. It is for benchmarks and other optional runs;
// when the file is not there it fails tb with a message saying how to get it.
func Full(tb testing.TB, name string) []byte {
	tb.Helper()
	dir := os.Getenv(EnvVar)
	if dir == "" {
		dir = besideModule()
	}
	b, err := os.ReadFile(filepath.Join(dir, "states", name))
	if err != nil {
		tb.Fatalf("the full recording %s is not in the repository (it carries an excerpt): put the recordings in "+
			"../shared/opensky beside the checkout or set %s to their folder: %v", name, EnvVar, err)
	}
	return b
}

// besideModule is ../shared/opensky next to the folder with go.mod above the working directory.
func besideModule() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared", "opensky")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
