package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/opensky-eventhubs/handler/internal/functions"
)

// The check, the Bicep, the workbook and the handler's log line must agree; these tests read the
// repository's files (a fresh clone has them all).

func repoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStreamingUnitsMatchMainBicep(t *testing.T) {
	main := repoFile(t, "infra/main.bicep")
	m := regexp.MustCompile(`(?s)@allowed\(\[([^\]]*)\]\)\s*(?:@\w+\([^\n]*\)\s*)*param streamingUnits int`).FindStringSubmatch(main)
	if m == nil {
		t.Fatal("main.bicep has no @allowed([...]) param streamingUnits int")
	}
	var bicep []int
	for _, f := range strings.Fields(m[1]) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("streamingUnits allows %q", f)
		}
		bicep = append(bicep, n)
	}
	var ours []int
	for u := range allowedUnits {
		ours = append(ours, u)
	}
	sort.Ints(ours)
	if !slices.Equal(bicep, ours) || bicep[len(bicep)-1] != maxStreamingUnits {
		t.Errorf("main.bicep allows streamingUnits %v; deploycheck plans with %v (max %d)", bicep, ours, maxStreamingUnits)
	}
}

func TestPrintedSettingsReachAParameter(t *testing.T) {
	var out bytes.Buffer
	if err := run(func(string) string { return "" }, &out); err != nil {
		t.Fatal(err)
	}
	params := repoFile(t, "infra/main.parameters.json")
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		name, _, _ := strings.Cut(line, "=")
		if !strings.Contains(params, "${"+name+"=") && !strings.Contains(params, "${"+name+"}") {
			t.Errorf("deploycheck prints %s, which main.parameters.json does not map to a parameter", name)
		}
	}
}

func TestTickSummaryQueriesUseTheHandlersPrefix(t *testing.T) {
	prefix := functions.SummaryLogPrefix
	var wb struct {
		Version string `json:"version"`
		Items   []struct {
			Content struct {
				Version string `json:"version"`
				Query   string `json:"query"`
				Title   string `json:"title"`
			} `json:"content"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(repoFile(t, "infra/workbook.json")), &wb); err != nil {
		t.Fatalf("infra/workbook.json: %v", err)
	}
	if wb.Version != "Notebook/1.0" {
		t.Errorf("workbook version %q, want Notebook/1.0 (alerts.bicep says so)", wb.Version)
	}
	summaries := 0
	for _, it := range wb.Items {
		q := it.Content.Query
		if strings.Contains(q, "summary.") {
			summaries++
			if !strings.Contains(q, `startswith "`+prefix+`"`) || !strings.Contains(q, `strlen("`+prefix+`")`) {
				t.Errorf("workbook query %q reads the tick summary without the handler's prefix %q", it.Content.Title, prefix)
			}
		}
	}
	if summaries < 3 {
		t.Errorf("%d workbook queries read the tick summary; ticks, events and credits all do", summaries)
	}
	alerts := repoFile(t, "infra/modules/alerts.bicep")
	if !strings.Contains(alerts, `startswith "`+prefix+`"`) || !strings.Contains(alerts, "summary.credits_remaining") {
		t.Errorf("alerts.bicep's credits alert does not read credits_remaining from %q lines", prefix)
	}
}

// The documented deploy command must work on a fresh azd: make deploy turns on the alpha custom
// language itself, azure.yaml names the first azd with it, fixes up's order with packaging first,
// and gives every hook a Windows block (which stops with the WSL message).
func TestDeployCommandWorksOnAFreshAzd(t *testing.T) {
	makefile := repoFile(t, "Makefile")
	if !regexp.MustCompile(`(?m)^deploy:\n\tAZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=true azd up\b`).MatchString(makefile) {
		t.Error("the Makefile's deploy target does not run AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=true azd up")
	}
	yaml := repoFile(t, "azure.yaml")
	if !strings.Contains(yaml, "requiredVersions:\n  azd: \">= 1.20.0\"") {
		t.Error(`azure.yaml does not require azd ">= 1.20.0" (language custom came in 1.20.0)`)
	}
	pkg, prov, dep := strings.Index(yaml, "- azd: package --all"), strings.Index(yaml, "- azd: provision"), strings.Index(yaml, "- azd: deploy --all")
	if !strings.Contains(yaml, "workflows:\n  up:\n    steps:") || pkg < 0 || !(pkg < prov && prov < dep) {
		t.Error("azure.yaml's workflows.up is not package --all, provision, deploy --all in that order")
	}
	posix := len(regexp.MustCompile(`(?m)^\s+posix:$`).FindAllString(yaml, -1))
	windows := len(regexp.MustCompile(`(?m)^\s+windows:$`).FindAllString(yaml, -1))
	if posix == 0 || posix != windows || strings.Count(yaml, "run: scripts/windows.ps1") != windows {
		t.Errorf("azure.yaml has %d posix and %d windows hook blocks; each hook needs a windows block running scripts/windows.ps1", posix, windows)
	}
	if ps := repoFile(t, "scripts/windows.ps1"); !strings.Contains(ps, "WSL") || !strings.Contains(ps, "exit 1") {
		t.Error("scripts/windows.ps1 does not stop with the WSL message")
	}
	deploy := repoFile(t, "docs/DEPLOY.md")
	for _, want := range []string{"make deploy", "1.20.0", "azd config set alpha.language.custom on", "### Windows"} {
		if !strings.Contains(deploy, want) {
			t.Errorf("docs/DEPLOY.md does not say %q", want)
		}
	}
}
