package view_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestAssetsRebuildIntegration: building the page from web/src with the packages pinned in
// web/package-lock.json gives exactly the committed web/dist that the binary embeds, so the
// sources and the embedded page cannot drift apart. It runs npm ci in a copy of web/ (the npm
// registry or npm's cache must be reachable).
func TestAssetsRebuildIntegration(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatal("node and npm (20+) rebuild the page: apt-get install nodejs npm")
		}
	}
	work := t.TempDir()
	if err := os.CopyFS(work, os.DirFS("web")); err != nil {
		t.Fatal(err)
	}
	for _, stale := range []string{"node_modules", "dist"} {
		if err := os.RemoveAll(filepath.Join(work, stale)); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	run("node", "build.mjs", "rebuilt")

	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, e := range entries {
			n = append(n, e.Name())
		}
		return n
	}
	committed, rebuilt := names(filepath.Join("web", "dist")), names(filepath.Join(work, "rebuilt"))
	if !slices.Equal(committed, rebuilt) {
		t.Fatalf("web/dist holds %v, a rebuild gives %v: run make view-assets and commit web/dist", committed, rebuilt)
	}
	for _, n := range committed {
		a, _ := os.ReadFile(filepath.Join("web", "dist", n))
		b, _ := os.ReadFile(filepath.Join(work, "rebuilt", n))
		if !bytes.Equal(a, b) {
			t.Errorf("web/dist/%s (%d bytes) differs from a rebuild from web/src (%d bytes): run make view-assets and commit web/dist", n, len(a), len(b))
		}
	}
}
