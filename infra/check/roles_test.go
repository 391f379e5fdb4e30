package check

import (
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// builtInRoles are the Azure built-in role definition ids the pipeline uses, by the key of the
// `role` variable in modules/access.bicep. The ids are the same in every tenant.
var builtInRoles = map[string]struct{ name, id string }{
	"eventHubsDataSender":         {"Azure Event Hubs Data Sender", "2b629674-e913-4c01-ae53-ef4638d8f975"},
	"eventHubsDataReceiver":       {"Azure Event Hubs Data Receiver", "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"},
	"storageBlobDataOwner":        {"Storage Blob Data Owner", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"},
	"storageBlobDataContributor":  {"Storage Blob Data Contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"},
	"storageBlobDataReader":       {"Storage Blob Data Reader", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"},
	"storageTableDataContributor": {"Storage Table Data Contributor", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"},
	"keyVaultSecretsUser":         {"Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6"},
	"monitoringMetricsPublisher":  {"Monitoring Metrics Publisher", "3913510d-42f4-4e42-8a64-420c390055eb"},
}

// grants are the role assignments least privilege allows, and no more: who gets which role on
// which kind of resource.
var grants = []string{
	"functionAppPrincipalId eventHubsDataSender Microsoft.EventHub/namespaces/eventhubs",
	"functionAppPrincipalId storageBlobDataOwner Microsoft.Storage/storageAccounts",
	"functionAppPrincipalId storageTableDataContributor Microsoft.Storage/storageAccounts",
	"functionAppPrincipalId keyVaultSecretsUser Microsoft.KeyVault/vaults",
	"functionAppPrincipalId monitoringMetricsPublisher Microsoft.Insights/components",
	"streamAnalyticsPrincipalId eventHubsDataReceiver Microsoft.EventHub/namespaces/eventhubs",
	"streamAnalyticsPrincipalId storageBlobDataContributor Microsoft.Storage/storageAccounts/blobServices/containers",
	"deployerPrincipalId eventHubsDataReceiver Microsoft.EventHub/namespaces/eventhubs",
	"deployerPrincipalId storageBlobDataReader Microsoft.Storage/storageAccounts/blobServices/containers",
}

var guidPattern = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)

func TestRoleDefinitionIDs(t *testing.T) {
	f := bicep(t, "infra/modules/access.bicep")
	roleVar := f.Vars()["role"]
	if roleVar == nil {
		t.Fatal("access.bicep has no `var role = {...}` of role definition ids")
	}
	keys := f.Keys(roleVar)
	for _, key := range keys {
		want, ok := builtInRoles[key]
		got, _ := f.StringValue(f.Property(roleVar, key))
		switch {
		case !ok:
			t.Errorf("role.%s = %s is not a role this check knows; add it to builtInRoles with its name", key, got)
		case !strings.EqualFold(got, want.id):
			t.Errorf("role.%s = %s; %s is %s", key, got, want.name, want.id)
		}
	}
	for key := range builtInRoles {
		if !contains(keys, key) {
			t.Errorf("access.bicep's role variable has no %s", key)
		}
	}

	// A GUID anywhere else is a role id that bypasses the table above.
	known := map[string]bool{}
	for _, r := range builtInRoles {
		known[strings.ToLower(r.id)] = true
	}
	for rel, file := range bicepFiles(t) {
		for _, s := range file.Strings() {
			for _, g := range guidPattern.FindAllString(s, -1) {
				if !known[strings.ToLower(g)] {
					t.Errorf("%s: %s is not a known role definition id", rel, g)
				}
			}
		}
	}
}

func TestRoleAssignmentsAreLeastPrivilege(t *testing.T) {
	files := bicepFiles(t)
	for rel, f := range files {
		if rel == "infra/modules/access.bicep" {
			continue
		}
		for _, r := range f.Resources() {
			if r.Type != "Microsoft.Authorization/roleAssignments" {
				continue
			}
			// The one exception: the Data Explorer cluster's grant on the hub must exist before its
			// data connection, which depends on it; from access.bicep that would be a cycle.
			if rel == "infra/modules/adx.bicep" && r.Symbol == "clusterReadsEvents" {
				if !strings.Contains(f.Text(r.Node), "eventHubsDataReceiver") || !strings.Contains(f.Text(r.Node), "scope: hub") {
					t.Errorf("%s: %s must grant Event Hubs Data Receiver on the hub and nothing wider", rel, r.Symbol)
				}
				continue
			}
			t.Errorf("%s: role assignment %s belongs in modules/access.bicep, with the others", rel, r.Symbol)
		}
	}

	f := bicep(t, "infra/modules/access.bicep")
	types := map[string]string{}
	for _, r := range f.Resources() {
		types[r.Symbol] = r.Type
	}
	roleRef := regexp.MustCompile(`^subscriptionResourceId\('Microsoft\.Authorization/roleDefinitions', role\.(\w+)\)$`)
	var got []string
	for _, r := range f.Resources() {
		if r.Type != "Microsoft.Authorization/roleAssignments" {
			continue
		}
		scope := f.Text(f.Property(r.Body, "scope"))
		principal := f.Text(f.Property(r.Body, "properties", "principalId"))
		m := roleRef.FindStringSubmatch(f.Text(f.Property(r.Body, "properties", "roleDefinitionId")))
		if m == nil {
			t.Errorf("%s: roleDefinitionId must be subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.<key>)", r.Symbol)
			continue
		}
		if pt := f.Value(f.Property(r.Body, "properties", "principalType")); pt != "ServicePrincipal" && !(principal == "deployerPrincipalId" && pt == "deployerPrincipalType") {
			t.Errorf("%s: principalType is %q; managed identities are ServicePrincipal", r.Symbol, pt)
		}
		if name, want := f.Text(f.Property(r.Body, "name")), "guid("+scope+".id, "+principal+", role."+m[1]+")"; name != want {
			t.Errorf("%s: name is %s, want %s (stable, and unique per scope, principal and role)", r.Symbol, name, want)
		}
		scopeType, ok := types[scope]
		if !ok {
			t.Errorf("%s: scope %q is not a resource of access.bicep (a resource group or subscription scope is too wide)", r.Symbol, scope)
			continue
		}
		got = append(got, principal+" "+m[1]+" "+scopeType)
	}
	sort.Strings(got)
	want := append([]string(nil), grants...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("role assignments:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}
