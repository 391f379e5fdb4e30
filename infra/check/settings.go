package check

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var settingName = regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`)

// HandlerSettings lists the app settings the Go code in dirs reads: the string literal first
// arguments of getenv(...) and x.getenv(...) calls, and of calls to methods whose first parameter
// is `name string` (the config loader's helpers, such as l.str("NAME", def)), that look like
// setting names. Test files are skipped.
func HandlerSettings(dirs ...string) ([]string, error) {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, dir := range dirs {
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			f, err := parser.ParseFile(fset, p, src, 0)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
	}

	// Methods whose first parameter is `name string` take a setting name.
	nameTakers := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Type.Params == nil || len(fn.Type.Params.List) == 0 {
				continue
			}
			first := fn.Type.Params.List[0]
			if id, ok := first.Type.(*ast.Ident); ok && id.Name == "string" && len(first.Names) > 0 && first.Names[0].Name == "name" {
				nameTakers[fn.Name.Name] = true
			}
		}
	}

	found := map[string]bool{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			var callee string
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				callee = fn.Name
			case *ast.SelectorExpr:
				callee = fn.Sel.Name
			}
			if callee != "getenv" && !nameTakers[callee] {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && settingName.MatchString(s) {
				found[s] = true
			}
			return true
		})
	}
	out := make([]string, 0, len(found))
	for s := range found {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}
