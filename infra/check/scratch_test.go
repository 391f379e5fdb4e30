package check

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The checks run on the repository's infra/ and, to show that each can fail, on scratch copies
// of it with one error put in.

var realInfra struct {
	once sync.Once
	in   *Infra
	err  error
}

// repoInfra loads the repository's infra/ once.
func repoInfra(t *testing.T) *Infra {
	t.Helper()
	root := repoRoot(t)
	realInfra.once.Do(func() { realInfra.in, realInfra.err = LoadInfra(root) })
	if realInfra.err != nil {
		t.Fatal(realInfra.err)
	}
	return realInfra.in
}

// scratchInfra copies infra/ (without infra/check) to a temporary root, applies each edit to the
// file it names (a path from the repository root), and loads the copy. An edit that changes
// nothing fails the test, since the error it was to put in would be missing.
func scratchInfra(t *testing.T, edits map[string]func(string) string) *Infra {
	t.Helper()
	src := repoRoot(t)
	dst := t.TempDir()
	err := filepath.WalkDir(filepath.Join(src, "infra"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "check" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if edit, ok := edits[filepath.ToSlash(rel)]; ok {
			changed := edit(string(b))
			if changed == string(b) {
				t.Fatalf("the edit of %s changed nothing", rel)
			}
			b = []byte(changed)
			delete(edits, filepath.ToSlash(rel))
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range edits {
		t.Fatalf("no file %s to edit", rel)
	}
	in, err := LoadInfra(dst)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// appendText returns an edit that adds text at the end of a file.
func appendText(text string) func(string) string {
	return func(s string) string { return s + "\n" + text + "\n" }
}

// expectProblem fails unless one of problems contains every one of the substrings.
func expectProblem(t *testing.T, problems []string, substrings ...string) {
	t.Helper()
	for _, p := range problems {
		all := true
		for _, s := range substrings {
			all = all && strings.Contains(p, s)
		}
		if all {
			t.Logf("caught: %s", p)
			return
		}
	}
	t.Errorf("no problem mentions all of %q; got %d:\n%s", substrings, len(problems), strings.Join(problems, "\n"))
}

func expectNone(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

// spliceEdit returns an edit that parses the file and replaces the byte range find returns
// with text. find fails the test when the file has no place for the error.
func spliceEdit(t *testing.T, find func(f *BicepFile) (start, end uint, text string)) func(string) string {
	return func(s string) string {
		f, err := ParseBicep("edit", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		start, end, text := find(f)
		return s[:start] + text + s[end:]
	}
}

// infraFromSources writes Bicep sources (by path under infra/) to a temporary root and loads it,
// for checks shown on small examples.
func infraFromSources(t *testing.T, sources map[string]string) *Infra {
	t.Helper()
	root := t.TempDir()
	for rel, src := range sources {
		p := filepath.Join(root, "infra", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in, err := LoadInfra(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range in.sorted() {
		if errs := f.SyntaxErrors(); len(errs) > 0 {
			t.Fatalf("the test's Bicep does not parse: %v", errs)
		}
	}
	return in
}
