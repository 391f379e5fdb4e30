package check

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Infra is the deployment as the offline checks see it: every .bicep file under <root>/infra
// (infra/check aside), by its slash-separated path from root. The checks take an Infra rather than
// the repository so that tests can run them on a scratch copy with an error put in.
type Infra struct {
	Root  string
	Files map[string]*BicepFile

	visited map[uintptr]bool // set by tests: the object properties CheckResourceProperties checked
}

// LoadInfra parses every .bicep file under root/infra.
func LoadInfra(root string) (*Infra, error) {
	in := &Infra{Root: root, Files: map[string]*BicepFile{}}
	err := filepath.WalkDir(filepath.Join(root, "infra"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "check" {
			return filepath.SkipDir
		}
		if d.IsDir() || filepath.Ext(p) != ".bicep" {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		f, err := ParseBicepFile(p)
		if err != nil {
			return err
		}
		f.Path = filepath.ToSlash(rel)
		in.Files[f.Path] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(in.Files) == 0 {
		return nil, fmt.Errorf("no .bicep files under %s", filepath.Join(root, "infra"))
	}
	return in, nil
}

// sorted lists the files by path, so that problems come out in a stable order.
func (in *Infra) sorted() []*BicepFile {
	paths := make([]string, 0, len(in.Files))
	for p := range in.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	out := make([]*BicepFile, len(paths))
	for i, p := range paths {
		out[i] = in.Files[p]
	}
	return out
}

// module returns the file a module declaration in f points at, or nil.
func (in *Infra) module(f *BicepFile, m Module) *BicepFile {
	return in.Files[filepath.ToSlash(filepath.Join(filepath.Dir(f.Path), m.Path))]
}

// sortedKeys returns the keys of a map, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
