package check

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// allowedResources is every resource type the Bicep may declare, with the one API version it may
// use. Changing a version is a deliberate edit here, checked against the ARM reference.
var allowedResources = map[string]string{
	"Microsoft.OperationalInsights/workspaces":                  "2023-09-01",
	"Microsoft.Insights/components":                             "2020-02-02",
	"Microsoft.Storage/storageAccounts":                         "2023-05-01",
	"Microsoft.Storage/storageAccounts/blobServices":            "2023-05-01",
	"Microsoft.Storage/storageAccounts/blobServices/containers": "2023-05-01",
	"Microsoft.EventHub/namespaces":                             "2024-01-01",
	"Microsoft.EventHub/namespaces/eventhubs":                   "2024-01-01",
	"Microsoft.EventHub/namespaces/eventhubs/consumergroups":    "2024-01-01",
	"Microsoft.KeyVault/vaults":                                 "2023-07-01",
	"Microsoft.KeyVault/vaults/secrets":                         "2023-07-01",
	"Microsoft.Web/serverfarms":                                 "2024-04-01",
	// functionAppConfig (Flex Consumption) needs 2023-12-01 or later.
	"Microsoft.Web/sites":                     "2024-04-01",
	"Microsoft.StreamAnalytics/streamingjobs": "2021-10-01-preview",
	"Microsoft.Authorization/roleAssignments": "2022-04-01",
	// The app's identity, diagnostic settings, alerts, the workbook and publishing policies.
	"Microsoft.ManagedIdentity/userAssignedIdentities":       "2023-01-31",
	"Microsoft.Insights/diagnosticSettings":                  "2021-05-01-preview",
	"Microsoft.Insights/actionGroups":                        "2023-01-01",
	"Microsoft.Insights/metricAlerts":                        "2018-03-01",
	"Microsoft.Insights/scheduledQueryRules":                 "2023-12-01",
	"Microsoft.Insights/workbooks":                           "2023-06-01",
	"Microsoft.Web/sites/basicPublishingCredentialsPolicies": "2024-04-01",
	// Azure Data Explorer (analytics adx or both).
	"Microsoft.Kusto/clusters":                                "2024-04-13",
	"Microsoft.Kusto/clusters/databases":                      "2024-04-13",
	"Microsoft.Kusto/clusters/databases/scripts":              "2024-04-13",
	"Microsoft.Kusto/clusters/databases/dataConnections":      "2024-04-13",
	"Microsoft.Kusto/clusters/databases/principalAssignments": "2024-04-13",
}

func TestBicepParsesWithoutErrors(t *testing.T) {
	for rel, f := range bicepFiles(t) {
		t.Run(rel, func(t *testing.T) {
			for _, e := range f.SyntaxErrors() {
				t.Error(e)
			}
		})
	}
}

// The parse check must be able to fail: a broken file shows ERROR or MISSING nodes.
func TestSyntaxErrorsAreFound(t *testing.T) {
	for name, src := range map[string]string{
		"unclosed object": "resource r 'Microsoft.Web/sites@2024-04-01' = {\n  name: 'x'\n",
		"stray token":     "param p string = ]\n",
		"bad decorator":   "@secure(\nparam p string\n",
	} {
		t.Run(name, func(t *testing.T) {
			f, err := ParseBicep(name, []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if len(f.SyntaxErrors()) == 0 {
				t.Errorf("no syntax error found in %q", src)
			}
		})
	}
}

func TestResourceTypesAndAPIVersions(t *testing.T) {
	declared := map[string]bool{}
	for rel, f := range bicepFiles(t) {
		for _, r := range f.Resources() {
			want, ok := allowedResources[r.Type]
			switch {
			case !ok:
				t.Errorf("%s: resource %s has type %s, which is not on the list in bicep_test.go", rel, r.Symbol, r.Type)
			case r.APIVersion != want:
				t.Errorf("%s: resource %s uses %s@%s; the list says @%s", rel, r.Symbol, r.Type, r.APIVersion, want)
			}
			if !r.Existing {
				declared[r.Type] = true
			}
		}
	}
	for typ := range allowedResources {
		if !declared[typ] {
			t.Errorf("%s is on the list but no Bicep file deploys it; drop it from the list", typ)
		}
	}
}

func TestMainParameters(t *testing.T) {
	f := bicep(t, "infra/main.bicep")
	params := map[string]Param{}
	for _, p := range f.Params() {
		params[p.Name] = p
	}
	config := goConstants(t, repoPath(t, "internal/config"))
	for _, want := range []struct {
		name, typ string
		def       string // source text of the default; "-" for required
		secure    bool
	}{
		{"environmentName", "string", "-", false},
		{"location", "string", "resourceGroup().location", false},
		{"openskySchedule", "string", "'" + config["DefaultSchedule"] + "'", false},
		{"openskyBbox", "string", "''", false},
		{"openskyIcao24", "string", "''", false},
		{"openskyExtended", "bool", "false", false},
		{"openskyClientId", "string", "''", false},
		{"openskyClientSecret", "string", "''", true},
		{"eventHubCapacity", "int", "1", false},
		{"eventHubPartitionCount", "int", "2", false},
		{"powerBiWorkspaceId", "string", "''", false},
		{"enablePowerBi", "bool", "!empty(powerBiWorkspaceId)", false},
	} {
		p, ok := params[want.name]
		if !ok {
			t.Errorf("main.bicep has no parameter %s", want.name)
			continue
		}
		if p.Type != want.typ {
			t.Errorf("param %s is %s, want %s", want.name, p.Type, want.typ)
		}
		got := "-"
		if p.Default != nil {
			got = f.Text(p.Default)
		}
		if got != want.def {
			t.Errorf("param %s defaults to %s, want %s", want.name, got, want.def)
		}
		if p.Secure() != want.secure {
			t.Errorf("param %s: @secure() is %v, want %v", want.name, p.Secure(), want.secure)
		}
	}
	for _, p := range f.Params() {
		if !contains(p.Decorators, "description") {
			t.Errorf("param %s has no @description: docs/DEPLOY.md and the portal show it", p.Name)
		}
	}
}

func TestMainOutputs(t *testing.T) {
	f := bicep(t, "infra/main.bicep")
	outputs := map[string]bool{}
	for _, o := range f.Outputs() {
		outputs[o.Name] = true
	}
	for _, name := range []string{
		"AZURE_LOCATION", "AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_APP_NAME",
		"EVENTHUB_NAMESPACE", "EVENTHUB_NAME",
		"STREAM_ANALYTICS_JOB_NAME", "STREAM_ANALYTICS_PRINCIPAL_ID",
		"POWERBI_ENABLED", "POWERBI_WORKSPACE_ID",
		"ARCHIVE_STORAGE_ACCOUNT", "ARCHIVE_CONTAINER", "KEY_VAULT_NAME",
	} {
		if !outputs[name] {
			t.Errorf("main.bicep has no output %s", name)
		}
	}
}

// Nothing compiles the Bicep here, so the wiring between files is checked by name: every module
// parameter passed exists, every required one is passed, and every module output read exists.
func TestModuleWiring(t *testing.T) {
	files := bicepFiles(t)
	outputRef := regexp.MustCompile(`^(\w+)\.outputs\.(\w+)$`)
	for rel, f := range files {
		modOutputs := map[string]map[string]bool{}
		for _, m := range f.Modules() {
			target := filepath.ToSlash(filepath.Join(filepath.Dir(rel), m.Path))
			mf, ok := files[target]
			if !ok {
				t.Errorf("%s: module %s points at %s, which does not exist", rel, m.Symbol, target)
				continue
			}
			declared := map[string]Param{}
			for _, p := range mf.Params() {
				declared[p.Name] = p
			}
			given := setOf(f.Keys(f.Property(m.Body, "params"))...)
			for name := range given {
				if _, ok := declared[name]; !ok {
					t.Errorf("%s: module %s passes %s, which %s does not declare", rel, m.Symbol, name, target)
				}
			}
			for name, p := range declared {
				if p.Default == nil && !given[name] {
					t.Errorf("%s: module %s does not pass %s, which %s requires", rel, m.Symbol, name, target)
				}
			}
			modOutputs[m.Symbol] = map[string]bool{}
			for _, o := range mf.Outputs() {
				modOutputs[m.Symbol][o.Name] = true
			}
		}
		for _, n := range Nodes(f.Root, "member_expression") {
			ref := outputRef.FindStringSubmatch(f.Text(n))
			if ref == nil {
				continue
			}
			outs, ok := modOutputs[ref[1]]
			if !ok {
				continue
			}
			if !outs[ref[2]] {
				t.Errorf("%s: %s reads output %s, which module %s does not declare", rel, f.Text(n), ref[2], ref[1])
			}
		}
	}
}

func TestLoadedFilesExist(t *testing.T) {
	for rel, f := range bicepFiles(t) {
		for _, call := range Nodes(f.Root, "call_expression") {
			fn := call.ChildByFieldName("function")
			if fn == nil || !strings.HasPrefix(f.Text(fn), "load") {
				continue
			}
			args := named(call.ChildByFieldName("arguments"))
			if len(args) == 0 {
				continue
			}
			p, ok := f.StringValue(args[0])
			if !ok {
				t.Errorf("%s: %s takes a computed path", rel, f.Text(call))
				continue
			}
			target := repoPath(t, filepath.ToSlash(filepath.Join(filepath.Dir(rel), p)))
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s: %s: %v", rel, f.Text(call), err)
			}
		}
	}
}

// The settings the issue and the handler depend on, property by property.
func TestResourceProperties(t *testing.T) {
	type want struct {
		file, typ string
		path      []string
		value     string
	}
	p := func(s string) []string { return strings.Split(s, ".") }
	for _, w := range []want{
		{"infra/modules/eventhubs.bicep", "Microsoft.EventHub/namespaces", p("sku.name"), "Standard"},
		{"infra/modules/eventhubs.bicep", "Microsoft.EventHub/namespaces", p("sku.capacity"), "capacity"},
		{"infra/modules/eventhubs.bicep", "Microsoft.EventHub/namespaces", p("properties.disableLocalAuth"), "true"},
		{"infra/modules/eventhubs.bicep", "Microsoft.EventHub/namespaces", p("properties.minimumTlsVersion"), "1.2"},
		{"infra/modules/eventhubs.bicep", "Microsoft.EventHub/namespaces/eventhubs", p("properties.messageRetentionInDays"), "1"},
		{"infra/modules/eventhubs.bicep", "Microsoft.EventHub/namespaces/eventhubs", p("properties.partitionCount"), "partitionCount"},
		{"infra/modules/storage.bicep", "Microsoft.Storage/storageAccounts", p("properties.allowSharedKeyAccess"), "false"},
		{"infra/modules/storage.bicep", "Microsoft.Storage/storageAccounts", p("properties.allowBlobPublicAccess"), "false"},
		{"infra/modules/storage.bicep", "Microsoft.Storage/storageAccounts", p("properties.minimumTlsVersion"), "TLS1_2"},
		{"infra/modules/keyvault.bicep", "Microsoft.KeyVault/vaults", p("properties.enableRbacAuthorization"), "true"},
		{"infra/modules/monitoring.bicep", "Microsoft.Insights/components", p("properties.DisableLocalAuth"), "true"},
		{"infra/modules/functionapp.bicep", "Microsoft.Web/serverfarms", p("sku.name"), "FC1"},
		{"infra/modules/functionapp.bicep", "Microsoft.Web/serverfarms", p("sku.tier"), "FlexConsumption"},
		{"infra/modules/functionapp.bicep", "Microsoft.Web/sites", p("identity.type"), "UserAssigned"},
		{"infra/modules/functionapp.bicep", "Microsoft.Web/sites", p("properties.httpsOnly"), "true"},
		{"infra/modules/functionapp.bicep", "Microsoft.Web/sites", p("properties.functionAppConfig.runtime.name"), "custom"},
		{"infra/modules/functionapp.bicep", "Microsoft.Web/sites", p("properties.functionAppConfig.deployment.storage.type"), "blobContainer"},
		{"infra/modules/functionapp.bicep", "Microsoft.Web/sites", p("properties.functionAppConfig.deployment.storage.authentication.type"), "UserAssignedIdentity"},
		{"infra/modules/streamanalytics.bicep", "Microsoft.StreamAnalytics/streamingjobs", p("identity.type"), "SystemAssigned"},
		{"infra/modules/streamanalytics.bicep", "Microsoft.StreamAnalytics/streamingjobs", p("properties.sku.name"), "StandardV2"},
		{"infra/modules/streamanalytics.bicep", "Microsoft.StreamAnalytics/streamingjobs", p("properties.transformation.properties.query"), "loadTextContent('../query.asaql')"},
	} {
		f := bicep(t, w.file)
		found := false
		for _, r := range f.Resources() {
			if r.Type != w.typ || r.Existing {
				continue
			}
			found = true
			if got := f.Value(f.Property(r.Body, w.path...)); got != w.value {
				t.Errorf("%s: %s %s is %q, want %q", w.file, r.Symbol, strings.Join(w.path, "."), got, w.value)
			}
		}
		if !found {
			t.Errorf("%s declares no %s", w.file, w.typ)
		}
	}
}

// The azd service tag on the Function App must name the service in azure.yaml, or azd deploy finds
// no app to deploy to.
func TestFunctionAppCarriesTheAzdServiceTag(t *testing.T) {
	f := bicep(t, "infra/modules/functionapp.bicep")
	for _, r := range f.Resources() {
		if r.Type != "Microsoft.Web/sites" {
			continue
		}
		tags := f.Text(f.Property(r.Body, "tags"))
		want := "'azd-service-name': '" + azdServiceName(t) + "'"
		if !strings.Contains(tags, want) {
			t.Errorf("the Function App's tags are %s; they need %s", tags, want)
		}
	}
}
