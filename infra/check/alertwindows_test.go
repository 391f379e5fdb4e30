package check

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// logAlertWindows are the windowSize values a scheduledQueryRules log alert takes. The service
// answers any other with "Supported granularities are: 5, 10, 15, 30, 45, 60, 120, 180, 240, 300,
// 360, 1440, 2880" (minutes), quoted in Azure/azure-rest-api-specs issue 21258; the API's own
// description allows any ISO 8601 duration, so only a deployment would say so.
var logAlertWindows = wordSet(`PT5M PT10M PT15M PT30M PT45M PT1H PT2H PT3H PT4H PT5H PT6H P1D P2D`)

var isoDuration = regexp.MustCompile(`'(P(?:T\d+[MH]|\d+D))'`)

// unsupportedLogAlertDurations returns the ISO 8601 duration literals of alerts.bicep's log alert
// part (everything before the metric alerts, whose windows follow other rules) that a log alert
// would refuse as its windowSize or evaluationFrequency.
func unsupportedLogAlertDurations(src string) []string {
	if i := strings.Index(src, "var jobAlerts"); i >= 0 {
		src = src[:i]
	}
	var bad []string
	for _, m := range isoDuration.FindAllStringSubmatch(src, -1) {
		if !logAlertWindows[m[1]] {
			bad = append(bad, m[1])
		}
	}
	return bad
}

func TestLogAlertWindowsAreSupported(t *testing.T) {
	b, err := os.ReadFile(repoPath(t, "infra/modules/alerts.bicep"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	if !strings.Contains(src, "var jobAlerts") || len(isoDuration.FindAllString(src, -1)) < 5 {
		t.Fatal("alerts.bicep no longer has the log alert windows and var jobAlerts this test reads")
	}
	if bad := unsupportedLogAlertDurations(src); len(bad) > 0 {
		t.Errorf("alerts.bicep gives log alerts the windows %v; supported are %v", bad, logAlertWindows)
	}
	// Injected: a 40-minute window (between the supported 30 and 45) and a three-day one.
	injected := strings.Replace(src, "'PT45M'", "'PT40M'", 1)
	injected = strings.Replace(injected, "'P2D'", "'P3D'", 1)
	if bad := unsupportedLogAlertDurations(injected); len(bad) != 2 {
		t.Errorf("the injected windows PT40M and P3D were reported as %v", bad)
	}
}
