package check

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// parsed holds every .bicep file under infra/, parsed once for all tests.
var parsed struct {
	once  sync.Once
	files map[string]*BicepFile // by path from the repository root, slash separated
	err   error
}

// repoRoot returns the repository root and fails the test when it does not look like one.
//
// It is reached through the symlink testdata/repo (to ../../..) because go test caches a passing
// run and rechecks only the files it read inside this module: read as ../../infra/main.bicep, a
// changed template would not rerun the tests; read through testdata/repo/..., it does.
func repoRoot(t *testing.T) string {
	t.Helper()
	up, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	root := up
	link, err := filepath.Abs(filepath.Join("testdata", "repo"))
	if err == nil {
		var real string
		if real, err = filepath.EvalSymlinks(link); err == nil && sameDir(real, up) {
			root = link
		}
	}
	if root != link {
		t.Logf("testdata/repo is not a symlink to the repository root (%v); go test may reuse a cached result after infra files change, so run it with -count=1", err)
	}
	if _, err := os.Stat(filepath.Join(root, "infra", "main.bicep")); err != nil {
		t.Fatalf("infra/check must run inside the repository (cd infra/check && go test ./...): %v", err)
	}
	return root
}

func sameDir(a, b string) bool {
	ia, errA := os.Stat(a)
	ib, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(ia, ib)
}

// repoPath joins a slash-separated path onto the repository root.
func repoPath(t *testing.T, rel string) string {
	return filepath.Join(repoRoot(t), filepath.FromSlash(rel))
}

// bicepFiles parses every .bicep file under infra/ once.
func bicepFiles(t *testing.T) map[string]*BicepFile {
	t.Helper()
	root := repoRoot(t)
	parsed.once.Do(func() {
		var in *Infra
		if in, parsed.err = LoadInfra(root); parsed.err == nil {
			parsed.files = in.Files
		}
	})
	if parsed.err != nil {
		t.Fatal(parsed.err)
	}
	if len(parsed.files) == 0 {
		t.Fatal("no .bicep files under infra/")
	}
	return parsed.files
}

// bicep returns one parsed file by its path from the repository root.
func bicep(t *testing.T, rel string) *BicepFile {
	t.Helper()
	f, ok := bicepFiles(t)[rel]
	if !ok {
		t.Fatalf("%s is missing", rel)
	}
	return f
}

func setOf(items ...string) map[string]bool {
	s := map[string]bool{}
	for _, i := range items {
		s[i] = true
	}
	return s
}

// goConstants reads the string constants declared in the Go files of dir (tests excluded).
func goConstants(t *testing.T, dir string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if s, err := strconv.Unquote(lit.Value); err == nil {
							consts[name.Name] = s
						}
					}
				}
			}
		}
	}
	return consts
}

// eventSchemaFields reads the property names of the event JSON Schema the handler publishes.
func eventSchemaFields(t *testing.T) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, "schema/event.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatalf("schema/event.schema.json: %v", err)
	}
	if len(schema.Properties) == 0 {
		t.Fatal("schema/event.schema.json has no properties")
	}
	return schema.Properties
}
