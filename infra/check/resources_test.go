package check

import (
	"strings"
	"sync"
	"testing"

	sitter "github.com/tree-sitter/go-tree-sitter"
)

var typesData struct {
	once sync.Once
	rt   *ResourceTypes
	err  error
}

// resourceTypes reads the data file generated from Azure/bicep-types-az once.
func resourceTypes(t *testing.T) *ResourceTypes {
	t.Helper()
	typesData.once.Do(func() { typesData.rt, typesData.err = ReadResourceTypes(ResourceTypesFile) })
	if typesData.err != nil {
		t.Fatalf("%v; regenerate it with `cd infra/check && go run ./cmd/gentypes`", typesData.err)
	}
	return typesData.rt
}

// Every resource type@version in infra/ must be in the data file, or the property check below
// has nothing to compare it with.
func TestResourceTypesAreInTheDataFile(t *testing.T) {
	rt := resourceTypes(t)
	for _, f := range repoInfra(t).sorted() {
		for _, r := range f.Resources() {
			if _, ok := rt.Lookup(r.Type + "@" + r.APIVersion); !ok {
				t.Errorf("%s: %s@%s is not in %s: run `cd infra/check && go run ./cmd/gentypes` (it reads Azure/bicep-types-az; -mirror names its git directory)",
					f.Path, r.Type, r.APIVersion, ResourceTypesFile)
			}
		}
	}
}

// The types the other parts of issue 12 deploy must be in the data file before their Bicep lands.
func TestDataFileCoversThePlannedTypes(t *testing.T) {
	rt := resourceTypes(t)
	for _, name := range strings.Fields(`
		Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31
		Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01
		Microsoft.Insights/diagnosticSettings@2021-05-01-preview
		Microsoft.Insights/actionGroups@2023-01-01
		Microsoft.Insights/metricAlerts@2018-03-01
		Microsoft.Insights/scheduledQueryRules@2023-12-01
		Microsoft.Insights/workbooks@2023-06-01
		Microsoft.Kusto/clusters@2024-04-13
		Microsoft.Kusto/clusters/databases@2024-04-13
		Microsoft.Kusto/clusters/databases/dataConnections@2024-04-13
		Microsoft.Kusto/clusters/databases/scripts@2024-04-13
		Microsoft.Kusto/clusters/databases/principalAssignments@2024-04-13
		Microsoft.Kusto/clusters/principalAssignments@2024-04-13`) {
		if _, ok := rt.Lookup(name); !ok {
			t.Errorf("%s is not in %s: run `cd infra/check && go run ./cmd/gentypes %s`", name, ResourceTypesFile, name)
		}
	}
}

func TestResourcePropertiesExist(t *testing.T) {
	expectNone(t, repoInfra(t).CheckResourceProperties(resourceTypes(t)))
}

func TestPropertyReadsExist(t *testing.T) {
	expectNone(t, repoInfra(t).CheckPropertyReads(resourceTypes(t)))
}

// A property the API version does not have, put into the first resource of the real templates
// that sets properties.
func TestUnknownResourcePropertyIsCaught(t *testing.T) {
	in := repoInfra(t)
	var file, typ string
	for _, f := range in.sorted() {
		for _, r := range f.Resources() {
			if p := f.Property(r.Body, "properties"); file == "" && p != nil && p.Kind() == "object" {
				file, typ = f.Path, r.Type
			}
		}
	}
	if file == "" {
		t.Fatal("no resource in infra/ sets properties")
	}
	scratch := scratchInfra(t, map[string]func(string) string{
		file: spliceEdit(t, func(f *BicepFile) (uint, uint, string) {
			for _, r := range f.Resources() {
				if r.Type == typ {
					p := f.Property(r.Body, "properties")
					return p.StartByte() + 1, p.StartByte() + 1, "\n    notAPropertyOfThisType: true\n"
				}
			}
			t.Fatalf("%s lost its %s", file, typ)
			return 0, 0, ""
		}),
	})
	expectProblem(t, scratch.CheckResourceProperties(resourceTypes(t)), file, "properties.notAPropertyOfThisType is not a property")
}

func TestResourcePropertyErrorsAreCaught(t *testing.T) {
	for name, c := range map[string]struct{ src, want string }{
		"misspelt nested property": {`resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: 'a'
  properties: {
    siteConfig: {
      minTlsVersoin: '1.2'
    }
  }
}`, "properties.siteConfig.minTlsVersoin is not a property"},
		"wrong case": {`resource ns 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: 'a'
  properties: {
    DisableLocalAuth: true
  }
}`, "did you mean disableLocalAuth?"},
		"read-only property": {`resource ns 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: 'a'
  properties: {
    provisioningState: 'Succeeded'
  }
}`, "properties.provisioningState is read-only"},
		"string for an int": {`resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  name: 'a'
  properties: {
    partitionCount: 'two'
  }
}`, "properties.partitionCount is int; 'two' is string"},
		"int parameter for a string": {`param tls int
resource ns 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: 'a'
  properties: {
    minimumTlsVersion: tls
  }
}`, "properties.minimumTlsVersion is string; parameter tls is int"},
		"parameter allows a value outside a closed set": {`@allowed([
  'SystemAssigned'
  'Both'
])
param identityType string
resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: 'a'
  identity: {
    type: identityType
  }
}`, "parameter identityType allows 'Both'"},
		"value outside a closed set": {`resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: 'a'
  identity: {
    type: 'SystemAssigned,UserAssigned'
  }
}`, "'SystemAssigned,UserAssigned' is not one of them"},
		"property of another variant": {`resource job 'Microsoft.StreamAnalytics/streamingjobs@2021-10-01-preview' = {
  name: 'a'
  properties: {
    inputs: [
      {
        name: 'in'
        properties: {
          type: 'Stream'
          datasource: {
            type: 'Microsoft.ServiceBus/EventHub'
            properties: {
              container: 'c'
            }
          }
        }
      }
    ]
  }
}`, "datasource.properties.container is not a property"},
		"unknown discriminator value": {`resource job 'Microsoft.StreamAnalytics/streamingjobs@2021-10-01-preview' = {
  name: 'a'
  properties: {
    outputs: [
      {
        name: 'out'
        properties: {
          datasource: {
            type: 'PowerBl'
          }
        }
      }
    ]
  }
}`, "'PowerBl' is not"},
		"through a function and a ternary": {`param usePowerBi bool
func blob(container string) object => {
  datasource: {
    type: 'Microsoft.Storage/Blob'
    properties: {
      containr: container
    }
  }
}
resource job 'Microsoft.StreamAnalytics/streamingjobs@2021-10-01-preview' = {
  name: 'a'
  properties: {
    outputs: [
      {
        name: 'out'
        properties: usePowerBi ? { datasource: { type: 'PowerBI' } } : blob('c')
      }
    ]
  }
}`, "datasource.properties.containr is not a property"},
		"through a variable and filter()": {`var settings = [
  {
    name: 'A'
    valeu: 'x'
  }
]
resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: 'a'
  properties: {
    siteConfig: {
      appSettings: filter(settings, s => !empty(s.name))
    }
  }
}`, "properties.siteConfig.appSettings[].valeu is not a property"},
		"read-only in the variant a literal kind selects": {`resource db 'Microsoft.Kusto/clusters/databases@2024-04-13' = {
  name: 'a/b'
  kind: 'ReadOnlyFollowing'
  properties: {
    softDeletePeriod: 'P7D'
  }
}`, "properties.softDeletePeriod is read-only"},
		"property of another criteria variant": {`var raBase = {
  roleDefinitionId: 'id'
}
resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid('x')
  properties: union(raBase, {
    principalId: 'p'
  })
}
resource existingVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'v'
}
resource alert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'a'
  properties: {
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      webTestId: 'x'
    }
  }
}`, "properties.criteria.webTestId is not a property"},
		"required property missing": {`resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid('x')
  properties: {
    roleDefinitionId: 'id'
  }
}`, "properties requires properties.principalId, which it does not set (BCP035)"},
		"required property of the selected variant missing": {`resource conn 'Microsoft.Kusto/clusters/databases/dataConnections@2024-04-13' = {
  name: 'a/b/c'
  kind: 'EventHub'
  properties: {
    consumerGroup: 'cg'
  }
}`, "requires properties.eventHubResourceId"},
		"type@version missing from the data file": {`resource x 'Microsoft.Web/sites@1999-01-01' = {
  name: 'a'
}`, "go run ./cmd/gentypes"},
	} {
		t.Run(name, func(t *testing.T) {
			in := infraFromSources(t, map[string]string{"main.bicep": c.src})
			expectProblem(t, in.CheckResourceProperties(resourceTypes(t)), c.want)
		})
	}
}

// Correct resources of the shapes the checks must understand pass, variants included.
func TestValidResourcePropertiesPass(t *testing.T) {
	in := infraFromSources(t, map[string]string{"main.bicep": `param kind string
resource db 'Microsoft.Kusto/clusters/databases@2024-04-13' = {
  name: 'a/b'
  kind: 'ReadWrite'
  location: 'westeurope'
  properties: {
    softDeletePeriod: 'P7D'
    hotCachePeriod: 'P1D'
  }
}
resource conn 'Microsoft.Kusto/clusters/databases/dataConnections@2024-04-13' = {
  parent: db
  name: 'c'
  kind: 'EventHub'
  properties: {
    eventHubResourceId: 'id'
    consumerGroup: 'cg'
    dataFormat: 'MULTIJSON'
    tableName: 't'
    mappingRuleName: 'm'
  }
}
resource anyKind 'Microsoft.Kusto/clusters/databases@2024-04-13' = {
  name: 'a/c'
  kind: kind
  properties: {
    hotCachePeriod: 'P1D'
  }
}
resource wb 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid('wb')
  location: 'westeurope'
  kind: 'shared'
  tags: {
    'hidden-title': 'x'
  }
  properties: {
    displayName: 'x'
    category: 'workbook'
    serializedData: string({ version: 'Notebook/1.0', items: [] })
  }
}
resource ns 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: 'n'
  location: 'westeurope'
  identity: {
    type: 'SystemAssigned, UserAssigned'
    userAssignedIdentities: {
      '${resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id')}': {}
    }
  }
}
var raBase = {
  roleDefinitionId: 'id'
}
resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid('x')
  properties: union(raBase, {
    principalId: 'p'
  })
}
resource existingVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'v'
}
resource alert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'a'
  location: 'global'
  properties: {
    severity: 2
    enabled: true
    scopes: [
      ns.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'incoming'
          metricName: 'IncomingMessages'
          timeAggregation: 'Total'
          operator: 'LessThan'
          threshold: 1
        }
      ]
    }
  }
}
output blob string = ns.properties.serviceBusEndpoint
`})
	rt := resourceTypes(t)
	expectNone(t, in.CheckResourceProperties(rt))
	expectNone(t, in.CheckPropertyReads(rt))
}

func TestPropertyReadErrorsAreCaught(t *testing.T) {
	in := infraFromSources(t, map[string]string{
		"main.bicep": `resource st 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: 's'
}
module m 'modules/m.bicep' = {
  name: 'm'
}
output a string = st.properties.primaryEndpoints.blobb
output b string = m.outputs.nme
output c string = m.properties.x
resource script 'Microsoft.Kusto/clusters/databases/scripts@2024-04-13' existing = {
  name: 'c/d/s'
}
output d string = script.properties.scriptContent
output ok1 string = st.properties.primaryEndpoints.blob
output ok2 string = m.outputs.name
`,
		"modules/m.bicep": "output name string = 'x'\n",
	})
	problems := in.CheckPropertyReads(resourceTypes(t))
	expectProblem(t, problems, "reads properties.primaryEndpoints.blobb")
	expectProblem(t, problems, "reads output nme")
	expectProblem(t, problems, "not properties")
	expectProblem(t, problems, "reads properties.scriptContent, which Microsoft.Kusto/clusters/databases/scripts@2024-04-13 only takes")
	if len(problems) != 4 {
		t.Errorf("want 4 problems, got %d: %v", len(problems), problems)
	}
}

// The property check must reach every property the resource bodies write, except those inside
// function arguments it does not follow (string({...}), json(...)) and nested resources: a walk
// that stopped early would pass every other test here.
func TestPropertyCheckReachesEveryAssignment(t *testing.T) {
	in, err := LoadInfra(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	in.visited = map[uintptr]bool{}
	in.CheckResourceProperties(resourceTypes(t))
	total := 0
	for _, f := range in.sorted() {
		for _, r := range f.Resources() {
			walk(r.Body, func(n *sitter.Node) bool {
				switch n.Kind() {
				case "resource_declaration":
					return false
				case "call_expression":
					name := f.Text(n.ChildByFieldName("function"))
					return name == "union" || name == "concat" || name == "filter" || f.Funcs()[name] != nil
				case "object_property":
					total++
					if !in.visited[n.Id()] {
						t.Errorf("%s: %s was not checked", f.pos(n), clip(f.Text(n), 60))
					}
				}
				return true
			})
		}
	}
	t.Logf("%d property assignments in resource bodies, %d checked in all (variables and functions included)", total, len(in.visited))
	if total == 0 {
		t.Fatal("found no property assignments")
	}
}

func TestResourceNestingIsRight(t *testing.T) {
	expectNone(t, repoInfra(t).CheckResourceNesting())
}

func TestResourceNestingErrorsAreCaught(t *testing.T) {
	src := `resource ns 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: 'ns'
}
resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: ns
  name: 'hub'
}
resource wrongParent 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = {
  parent: ns
  name: 'cg'
}
resource slashWithParent 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: ns
  name: 'ns/hub2'
}
resource tooFewSegments 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  name: 'hub3'
}
resource fullName 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  name: '${ns.name}/hub4'
}
resource interpolatedOnly 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  name: '${ns.name}'
}
`
	problems := infraFromSources(t, map[string]string{"main.bicep": src}).CheckResourceNesting()
	expectProblem(t, problems, "wrongParent", "is not a valid child of parent ns", "BCP171")
	expectProblem(t, problems, "slashWithParent has a parent, so its name must not contain /")
	expectProblem(t, problems, "the name of tooFewSegments", "needs 1 /")
	if len(problems) != 3 {
		t.Errorf("want 3 problems, got %d: %q", len(problems), problems)
	}
}
