package check

import (
	"os"
	"path/filepath"
	"testing"
)

// The Bicep checks read any text without panicking: tree-sitter recovers from syntax errors with
// trees of odd shapes, and TestBicepParsesWithoutErrors must be left to report those.
func FuzzBicepChecks(f *testing.F) {
	paths, _ := filepath.Glob("testdata/repo/infra/modules/*.bicep")
	for _, p := range append(paths, "testdata/repo/infra/main.bicep") {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("resource r 'Microsoft.Web/sites@2024-04-01' = {\n  name: 'x'\n  properties: {\n    siteConfig: {\n")
	f.Add("module m 'm.bicep' = {\n  params: {\n    a: [\n      f('x')\n    ]\n  }\n}\noutput o string = m.outputs.x\n")
	rt, err := ReadResourceTypes(ResourceTypesFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		file, err := ParseBicep("infra/main.bicep", []byte(src))
		if err != nil {
			return
		}
		in := &Infra{Root: "/nonexistent", Files: map[string]*BicepFile{"infra/main.bicep": file}}
		in.CheckIdentifiers()
		in.CheckResourceProperties(rt)
		in.CheckPropertyReads(rt)
		in.CheckResourceNesting()
		in.CheckModuleArguments()
		in.CheckParameterValues()
		in.CheckStreamJobs()
	})
}
