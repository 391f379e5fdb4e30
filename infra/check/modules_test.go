package check

import (
	"encoding/json"

	"testing"
)

func TestModuleArgumentsMatchTheirModules(t *testing.T) {
	expectNone(t, repoInfra(t).CheckModuleArguments())
}

func TestParameterValuesMatchTheirTypes(t *testing.T) {
	expectNone(t, repoInfra(t).CheckParameterValues())
}

func TestParameterFilesMatchTheTemplates(t *testing.T) {
	problems, err := repoInfra(t).CheckParameterFiles()
	if err != nil {
		t.Fatal(err)
	}
	expectNone(t, problems)
}

// The example: capacity: 'one' passed to an int module parameter (the issue says BCP033;
// Bicep reports a module argument's type as BCP036, a property of the params object). The scratch
// copy changes the first module argument of main.bicep whose parameter is an int, capacity if
// there is one.
func TestStringForAnIntModuleParameterIsCaught(t *testing.T) {
	var param string
	edit := spliceEdit(t, func(f *BicepFile) (uint, uint, string) {
		in := repoInfra(t)
		var best *property
		for _, m := range f.Modules() {
			target := in.module(bicep(t, "infra/main.bicep"), m)
			if target == nil {
				continue
			}
			declared := paramsByName(target)
			for _, prop := range objectProperties(f, f.Property(m.Body, "params")) {
				if typeKind(declared[prop.key].Type) == "int" && (best == nil || prop.key == "capacity") {
					best = &prop
				}
			}
		}
		if best == nil {
			t.Fatal("main.bicep passes no int module parameter to put a string into")
		}
		param = best.key
		return best.value.StartByte(), best.value.EndByte(), "'one'"
	})
	in := scratchInfra(t, map[string]func(string) string{"infra/main.bicep": edit})
	expectProblem(t, in.CheckModuleArguments(), "infra/main.bicep", param+": ", "as int, and 'one' is string (BCP036)")
}

// The example: a value outside a parameter's @allowed list, given in the parameter file
// and as a default.
func TestValueOutsideAllowedIsCaught(t *testing.T) {
	main := bicep(t, "infra/main.bicep")
	var p Param
	for _, q := range main.Params() {
		if q.Allowed != nil && q.Default != nil && typeKind(q.Type) == "string" {
			p = q
			break
		}
	}
	if p.Name == "" {
		t.Fatal("main.bicep has no string parameter with @allowed and a default to test with")
	}
	t.Run("parameter file", func(t *testing.T) {
		in := scratchInfra(t, map[string]func(string) string{"infra/main.parameters.json": func(s string) string {
			var file map[string]any
			if err := json.Unmarshal([]byte(s), &file); err != nil {
				t.Fatal(err)
			}
			file["parameters"].(map[string]any)[p.Name] = map[string]any{"value": "${INJECTED=notAllowed}"}
			b, err := json.MarshalIndent(file, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}})
		problems, err := in.CheckParameterFiles()
		if err != nil {
			t.Fatal(err)
		}
		expectProblem(t, problems, "main.parameters.json", p.Name, "notAllowed", "is not among the values")
	})
	t.Run("default", func(t *testing.T) {
		in := scratchInfra(t, map[string]func(string) string{"infra/main.bicep": spliceEdit(t, func(f *BicepFile) (uint, uint, string) {
			for _, q := range f.Params() {
				if q.Name == p.Name {
					return q.Default.StartByte(), q.Default.EndByte(), "'notAllowed'"
				}
			}
			t.Fatalf("lost param %s", p.Name)
			return 0, 0, ""
		})})
		expectProblem(t, in.CheckParameterValues(), "param "+p.Name+" default", "'notAllowed' is not among the values")
	})
}

func TestModuleArgumentErrorsAreCaught(t *testing.T) {
	module := `@allowed([
  'debug'
  'info'
])
param level string = 'info'
param count int
param tags object = {}
param optional string?
@minValue(1)
@maxValue(20)
param units int = 1
@maxLength(5)
param short string = 'x'
output label string = level
`
	for name, c := range map[string]struct{ args, callerParams, want string }{
		"unknown parameter":             {"count: 1\n    cuont: 2", "", "passes cuont, which infra/modules/m.bicep does not declare"},
		"missing required":              {"level: 'info'", "", "does not pass count, which infra/modules/m.bicep requires"},
		"literal outside @allowed":      {"count: 1\n    level: 'verbose'", "", "'verbose' is not among the values"},
		"caller allows more":            {"count: 1\n    level: logLevel", "@allowed([\n  'info'\n  'trace'\n])\nparam logLevel string = 'info'\n", "allows 'trace'"},
		"through a variable":            {"count: one", "var one = 'one'\n", "count as int, and one is string"},
		"through a parameter":           {"count: name", "param name string = 'x'\n", "count as int, and name is string"},
		"object for a string":           {"count: 1\n    level: {}", "", "level as string, and {} is object"},
		"int for an object":             {"count: 1\n    tags: 3", "", "tags as object, and 3 is int"},
		"int above @maxValue":           {"count: 1\n    units: 21", "", "the value is 21, and infra/modules/m.bicep sets @maxValue(20) on units"},
		"int below @minValue":           {"count: 1\n    units: 0", "", "sets @minValue(1) on units"},
		"string over @maxLength":        {"count: 1\n    short: 'toolong'", "", "sets @maxLength(5) on short"},
		"caller's range is wider":       {"count: 1\n    units: u", "@maxValue(40)\nparam u int = 1\n", "passes u, which may be 40"},
		"caller allows a bigger int":    {"count: 1\n    units: u", "@allowed([\n  3\n  30\n])\nparam u int = 3\n", "passes u, which may be 30"},
		"module output of another type": {"count: other.outputs.label", "module other 'modules/m.bicep' = {\n  name: 'o'\n  params: {\n    count: 1\n  }\n}\n", "count as int, and other.outputs.label is string"},
		"either branch of ternary":      {"count: true ? 1 : 'x'", "", ""},
		"string for int, interpol.":     {"count: '${1}'", "", "count as int, and '${1}' is string"},
	} {
		t.Run(name, func(t *testing.T) {
			main := c.callerParams + "module m 'modules/m.bicep' = {\n  name: 'm'\n  params: {\n    " + c.args + "\n  }\n}\n"
			in := infraFromSources(t, map[string]string{"main.bicep": main, "modules/m.bicep": module})
			problems := in.CheckModuleArguments()
			if c.want == "" {
				// A ternary of an int and a string has no single type: nothing is claimed.
				expectNone(t, problems)
				return
			}
			expectProblem(t, problems, c.want)
		})
	}
}

func TestParameterAndOutputValueErrorsAreCaught(t *testing.T) {
	for name, c := range map[string]struct{ src, want string }{
		"default of the wrong type":    {"param n int = 'one'", "param n default"},
		"default outside a union type": {"param u 'a' | 'b' = 'c'", "'c' is not among the values"},
		"int outside @allowed":         {"@allowed([\n  3\n  7\n])\nparam su int = 5", "5 is not among the values"},
		"output of the wrong type":     {"param n int = 1\noutput o string = n", "output o is string, but its value is int"},
	} {
		t.Run(name, func(t *testing.T) {
			in := infraFromSources(t, map[string]string{"main.bicep": c.src + "\n"})
			expectProblem(t, in.CheckParameterValues(), c.want)
		})
	}
}

func TestParameterFileErrorsAreCaught(t *testing.T) {
	bicepSrc := "param name string\n@maxValue(10)\nparam count int = 1\nparam on bool = false\n@allowed([\n  'a'\n  'b'\n])\nparam mode string = 'a'\n"
	for name, c := range map[string]struct{ params, want string }{
		"unknown parameter":         {`"nmae": {"value": "x"}`, "sets nmae, which infra/main.bicep does not declare"},
		"string for an int":         {`"count": {"value": "one"}`, `count is int, and "one" is string`},
		"azd default for an int":    {`"count": {"value": "${COUNT=one}"}`, "count is int"},
		"azd default for a bool":    {`"on": {"value": "${ON=yes}"}`, "on is bool"},
		"value outside @allowed":    {`"mode": {"value": "c"}`, `mode = "c" is not among the values`},
		"azd default outside list":  {`"mode": {"value": "${MODE=c}"}`, "is not among the values"},
		"azd value without default": {`"mode": {"value": "${MODE}"}`, ""},
		"int above @maxValue":       {`"count": {"value": "${COUNT=100}"}`, "above the @maxValue(10)"},
	} {
		t.Run(name, func(t *testing.T) {
			root := infraFromSources(t, map[string]string{
				"main.bicep":           bicepSrc,
				"main.parameters.json": `{"parameters": {` + c.params + `}}`,
			})
			problems, err := root.CheckParameterFiles()
			if err != nil {
				t.Fatal(err)
			}
			if c.want == "" {
				expectNone(t, problems)
				return
			}
			expectProblem(t, problems, c.want)
		})
	}
}
