package recordings

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// States says how many states each embedded file holds, and every file under testdata/ is
// embedded (a file added there but left out of the embed pattern would be silently missing).
func TestStatesMatchTheFiles(t *testing.T) {
	for _, r := range States {
		var env struct {
			States []json.RawMessage `json:"states"`
		}
		if err := json.Unmarshal(Read(t, "states/"+r.Name), &env); err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		if len(env.States) != r.States {
			t.Errorf("%s holds %d states, States says %d", r.Name, len(env.States), r.States)
		}
	}
	for _, dir := range []string{"states", "malformed"} {
		onDisk, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		if embedded := Names(t, dir); len(embedded) != len(onDisk) {
			t.Errorf("testdata/%s: %d files, %d embedded", dir, len(onDisk), len(embedded))
		}
	}
	if _, err := os.Stat(filepath.Join("testdata", "README.md")); err != nil {
		t.Errorf("testdata/README.md, which says where each recording came from: %v", err)
	}
}
