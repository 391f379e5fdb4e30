package check

import "testing"

func TestIdentifiersResolve(t *testing.T) {
	expectNone(t, repoInfra(t).CheckIdentifiers())
}

// The example: an undefined resource symbol read for its name.
func TestUndefinedSymbolIsCaught(t *testing.T) {
	in := scratchInfra(t, map[string]func(string) string{
		"infra/modules/storage.bicep": appendText("output injected string = storageAcct.name"),
	})
	expectProblem(t, in.CheckIdentifiers(), "infra/modules/storage.bicep:", "undefined symbol storageAcct")
}

func TestUnresolvedNamesAreCaught(t *testing.T) {
	for name, c := range map[string]struct{ src, want string }{
		"parameter":               {"output o string = missingParam", "undefined symbol missingParam"},
		"variable in a module":    {"module m 'x.bicep' = {\n  name: 'm'\n  params: {\n    a: missingVar\n  }\n}", "undefined symbol missingVar"},
		"loop variable":           {"var xs = [for x in range(0, 2): y]", "undefined symbol y"},
		"loop index":              {"var xs = [for (x, i) in range(0, 2): j]", "undefined symbol j"},
		"lambda variable":         {"var xs = filter(range(0, 2), s => t > 0)", "undefined symbol t"},
		"resource in dependsOn":   {"resource r 'Microsoft.Web/sites@2024-04-01' = {\n  name: 'a'\n  dependsOn: [\n    plan\n  ]\n}", "undefined symbol plan"},
		"function":                {"var v = toLowr('A')", "toLowr is not a function"},
		"function first in array": {"var v = [\n  toLowr('A')\n]", "toLowr is not a function"},
		"az namespace function":   {"var v = az.resourceGroupp().id", "az has no function resourceGroupp"},
		"decorator":               {"@descripton('x')\nparam p string", "@descripton is not a decorator"},
		"type":                    {"param p missingType", "undefined type missingType"},
		"function body reads var": {"var v = 1\nfunc f() int => v", "function body uses v"},
		"declared twice":          {"param p string\nvar p = 1", "p is declared more than once"},
		"in an interpolated key":  {"var v = {\n  '${missingId}': {}\n}", "undefined symbol missingId"},
		"output declared twice":   {"output o int = 1\noutput o int = 2", "output o is declared more than once"},
		"output read as a symbol": {"output o int = 1\nvar v = o", "undefined symbol o"},
	} {
		t.Run(name, func(t *testing.T) {
			f, err := ParseBicep("scratch.bicep", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			if errs := f.SyntaxErrors(); len(errs) > 0 {
				t.Fatalf("the test's Bicep does not parse: %v", errs)
			}
			expectProblem(t, resolveFile(f), c.want)
		})
	}
}

// Correct Bicep of every shape the checks must understand passes.
func TestValidNamesResolve(t *testing.T) {
	src := `targetScope = 'resourceGroup'
import * as shared from 'shared.bicep'
@sys.description('d')
@allowed(['a', 'b'])
param p string = 'a'
type pair = { left: string, right: pair? }
param q pair
var xs = [for (x, i) in range(0, 3): { n: x, i: i, loc: resourceGroup().location }]
var ys = map(filter(xs, s => s.i > 0), (s, i) => '${s.n}-${i}')
var z = reduce(xs, 0, (cur, next) => cur + next.i)
func label(name string) string => '${toUpper(name)}-${sys.uniqueString(name)}'
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: label(p)
  resource secret 'secrets' existing = {
    name: 's'
  }
}
resource subnets 'Microsoft.Web/sites@2024-04-01' = [for (name, i) in ['a', 'b']: if (i > 0) {
  name: name
  location: az.resourceGroup().location
  properties: {
    enabled: vault::secret.properties.enabled
    dep: shared.value
  }
}]
module m 'mod.bicep' = {
  name: 'm'
  params: {
    secret: vault.getSecret('x')
    keys: listKeys(vault.id, '2023-07-01')
  }
}
var ids = [
  resourceId('Microsoft.Insights/actionGroups', p)
]
output o string = subnets[0].name
output d object = deployment()
output p string = p
`
	f, err := ParseBicep("valid.bicep", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if errs := f.SyntaxErrors(); len(errs) > 0 {
		t.Fatalf("the test's Bicep does not parse: %v", errs)
	}
	expectNone(t, resolveFile(f))
}
