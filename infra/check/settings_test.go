package check

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// functionsSettings are the Functions platform settings the Bicep may set besides the handler's.
var functionsSettings = setOf(
	"AzureWebJobsStorage__accountName",
	"AzureWebJobsStorage__credential",
	"AzureWebJobsStorage__clientId",
	"AzureWebJobsStorage__blobServiceUri",
	"AzureWebJobsStorage__queueServiceUri",
	"AzureWebJobsStorage__tableServiceUri",
	"APPLICATIONINSIGHTS_CONNECTION_STRING",
	"APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
)

// forbiddenSettings must not be set in Azure: Flex Consumption rejects the first ones, and the
// others would bring keys or files where managed identities and app settings belong.
var forbiddenSettings = map[string]string{
	"FUNCTIONS_WORKER_RUNTIME":                     "Flex Consumption sets the runtime in functionAppConfig.runtime",
	"FUNCTIONS_EXTENSION_VERSION":                  "Flex Consumption rejects it",
	"WEBSITE_RUN_FROM_PACKAGE":                     "Flex Consumption deploys from functionAppConfig.deployment",
	"WEBSITE_CONTENTAZUREFILECONNECTIONSTRING":     "Flex Consumption has no content share, and it is a key",
	"AzureWebJobsStorage":                          "a connection string with a key; use AzureWebJobsStorage__accountName",
	"EVENTHUB_CONNECTION_STRING":                   "a key; the app sends with its managed identity (EVENTHUB_NAMESPACE)",
	"OPENSKY_CREDENTIALS_FILE":                     "a file; in Azure the secret is a Key Vault reference",
	"FUNCTIONS_CUSTOMHANDLER_PORT":                 "the Functions host sets it",
	"FUNCTIONS_HTTPWORKER_PORT":                    "the Functions host sets it",
	"WEBSITE_CONTENTSHARE":                         "Flex Consumption has no content share",
	"APPINSIGHTS_INSTRUMENTATIONKEY":               "a key; use APPLICATIONINSIGHTS_CONNECTION_STRING",
	"AzureWebJobsDashboard":                        "retired",
	"AzureWebJobsSecretStorageType":                "not needed: the app has no HTTP functions",
	"SCM_DO_BUILD_DURING_DEPLOYMENT":               "the handler is built before deploying",
	"ENABLE_ORYX_BUILD":                            "the handler is built before deploying",
	"WEBSITE_CONTENTOVERVNET":                      "no content share",
	"FUNCTIONS_WORKER_PROCESS_COUNT":               "one handler process",
	"AzureFunctionsJobHost__functionTimeout":       "set in host.json",
	"OPENSKY_FILE":                                 "the file sink is for local runs",
	"WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID": "Flex Consumption deploys from functionAppConfig.deployment",
}

// leftToDefaults are the handler settings the Bicep does not set, each with the reason. A setting
// the handler starts reading fails TestAppSettingsMatchTheHandler until it is set in
// functionapp.bicep or listed here.
var leftToDefaults = map[string]string{
	"OPENSKY_BASE_URL":             "tests point it at a local server; Azure uses OpenSky",
	"OPENSKY_TOKEN_URL":            "tests point it at a local server; Azure uses OpenSky",
	"OPENSKY_REQUEST_TIMEOUT":      "the handler's default; change it with az functionapp config appsettings set",
	"OPENSKY_TICK_TIMEOUT":         "derived from the schedule by the handler",
	"EVENTHUB_MAX_CONCURRENCY":     "the handler's default",
	"SHUTDOWN_GRACE":               "the handler's default",
	"OPENSKY_FILE":                 "forbidden in Azure (file sink)",
	"OPENSKY_CREDENTIALS_FILE":     "forbidden in Azure (Key Vault reference instead)",
	"EVENTHUB_CONNECTION_STRING":   "forbidden in Azure (managed identity instead)",
	"FUNCTIONS_CUSTOMHANDLER_PORT": "set by the Functions host",
	"FUNCTIONS_HTTPWORKER_PORT":    "set by the Functions host",
	"GOMEMLIMIT":                   "the Go runtime's own; the handler reads it as its memory only when HANDLER_MEMORY_MB is unset",
}

// requiredSettings must be set for the handler to publish to Event Hubs in Azure.
var requiredSettings = []string{
	"OPENSKY_SCHEDULE", "OPENSKY_SINK", "EVENTHUB_NAMESPACE", "EVENTHUB_NAME",
	"OPENSKY_CLIENT_ID", "OPENSKY_CLIENT_SECRET",
	"AzureWebJobsStorage__accountName", "APPLICATIONINSIGHTS_CONNECTION_STRING",
}

// bicepAppSettings reads the app settings of functionapp.bicep: name -> value expression text.
func bicepAppSettings(t *testing.T) map[string]string {
	t.Helper()
	f := bicep(t, "infra/modules/functionapp.bicep")
	list := f.Vars()["appSettings"]
	if list == nil || list.Kind() != "array" {
		t.Fatal("functionapp.bicep has no `var appSettings = [...]`")
	}
	settings := map[string]string{}
	for _, item := range named(list) {
		name, ok := f.StringValue(f.Property(item, "name"))
		if !ok {
			t.Fatalf("an app setting has no literal name: %s", clip(f.Text(item), 80))
		}
		if _, dup := settings[name]; dup {
			t.Errorf("app setting %s is set twice", name)
		}
		settings[name] = f.Value(f.Property(item, "value"))
	}
	// The list must be what the site gets.
	for _, r := range f.Resources() {
		if r.Type == "Microsoft.Web/sites" {
			got := f.Text(f.Property(r.Body, "properties", "siteConfig", "appSettings"))
			if !strings.Contains(got, "appSettings") {
				t.Errorf("the site's siteConfig.appSettings is %s, not the appSettings variable", got)
			}
		}
	}
	return settings
}

func handlerSettings(t *testing.T) []string {
	t.Helper()
	names, err := HandlerSettings(repoPath(t, "internal/config"), repoPath(t, "cmd/handler"))
	if err != nil {
		t.Fatal(err)
	}
	// If these vanish, the scan is broken, not the handler.
	for _, n := range []string{"OPENSKY_SCHEDULE", "OPENSKY_BBOX", "EVENTHUB_NAMESPACE", "LOG_LEVEL"} {
		if !contains(names, n) {
			t.Fatalf("found %v in the handler's Go source, without %s: the scan in settings.go no longer matches internal/config", names, n)
		}
	}
	return names
}

func TestAppSettingsMatchTheHandler(t *testing.T) {
	handler := setOf(handlerSettings(t)...)
	settings := bicepAppSettings(t)
	for name := range settings {
		if why, bad := forbiddenSettings[name]; bad {
			t.Errorf("functionapp.bicep sets %s: %s", name, why)
			continue
		}
		if !handler[name] && !functionsSettings[name] {
			t.Errorf("functionapp.bicep sets %s, which the handler does not read (internal/config) and which is not a Functions setting", name)
		}
	}
	for _, name := range requiredSettings {
		if _, ok := settings[name]; !ok {
			t.Errorf("functionapp.bicep does not set %s", name)
		}
	}
	for name := range handler {
		_, set := settings[name]
		_, left := leftToDefaults[name]
		switch {
		case set && left:
			t.Errorf("%s is both set by functionapp.bicep and listed in leftToDefaults", name)
		case !set && !left:
			t.Errorf("the handler reads %s, which functionapp.bicep neither sets nor leftToDefaults explains", name)
		}
	}
	for name := range leftToDefaults {
		if !handler[name] {
			t.Errorf("leftToDefaults lists %s, which the handler no longer reads", name)
		}
	}
}

func TestAppSettingValues(t *testing.T) {
	settings := bicepAppSettings(t)
	config := goConstants(t, repoPath(t, "internal/config"))
	if got, want := settings["OPENSKY_SINK"], config["SinkEventHub"]; got != want || want == "" {
		t.Errorf("OPENSKY_SINK is %q; the handler's Event Hubs sink is %q", got, want)
	}
	if got := settings["OPENSKY_CLIENT_SECRET"]; !strings.Contains(got, "@Microsoft.KeyVault(SecretUri=") {
		t.Errorf("OPENSKY_CLIENT_SECRET is %s; it must be a Key Vault reference", got)
	}
	if got := settings["EVENTHUB_NAMESPACE"]; got != "eventHubNamespaceFqdn" {
		t.Errorf("EVENTHUB_NAMESPACE is %s; the handler wants the fully qualified namespace (eventHubNamespaceFqdn)", got)
	}
	main := bicep(t, "infra/main.bicep")
	if got, want := main.Value(main.Vars()["eventHubName"]), config["DefaultEventHubName"]; got != want {
		t.Errorf("main.bicep names the hub %q; the handler's default EVENTHUB_NAME is %q", got, want)
	}
}

// The timer reads its schedule from an app setting (%OPENSKY_SCHEDULE%); every %NAME% in a
// function.json must be set.
func TestFunctionJSONSettingsAreSet(t *testing.T) {
	b, err := os.ReadFile(repoPath(t, "OpenSkyTimer/function.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatal("OpenSkyTimer/function.json is not JSON")
	}
	settings := bicepAppSettings(t)
	refs := regexp.MustCompile(`%([A-Za-z0-9_]+)%`).FindAllStringSubmatch(string(b), -1)
	if len(refs) == 0 {
		t.Error("OpenSkyTimer/function.json reads no app setting; its schedule should be %OPENSKY_SCHEDULE%")
	}
	for _, m := range refs {
		if _, ok := settings[m[1]]; !ok {
			t.Errorf("OpenSkyTimer/function.json reads %%%s%%, which functionapp.bicep does not set", m[1])
		}
	}
}
