package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTools puts stand-ins for azd and az first on PATH: each appends its arguments to a log, and
// az lists vaultDeleted as a soft-deleted vault.
func fakeTools(t *testing.T, vaultDeleted string) (path, azdLog, azLog string) {
	t.Helper()
	dir := t.TempDir()
	azdLog, azLog = filepath.Join(dir, "azd.log"), filepath.Join(dir, "az.log")
	scripts := map[string]string{
		"azd": "#!/usr/bin/env bash\necho \"$*\" >>" + azdLog + "\n",
		"az": "#!/usr/bin/env bash\necho \"$*\" >>" + azLog + "\n" +
			"if [[ \"$*\" == *list-deleted* ]]; then echo '" + vaultDeleted + "'; fi\n",
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH"), azdLog, azLog
}

func runHook(t *testing.T, path string, env ...string) (string, error) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "preprovision.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), "PATH="+path, "AZURE_ENV_NAME=test", "STREAM_ANALYTICS_JOB_NAME=", "AZURE_RESOURCE_GROUP=")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func readLog(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func TestPreprovisionHookIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building deploycheck through the hook")
	}
	path, azdLog, azLog := fakeTools(t, "kv-abc")
	out, err := runHook(t, path, "OPENSKY_SCHEDULE=0 */5 * * * *", "KEY_VAULT_NAME=kv-abc", "OPENSKY_INTERVAL_MINUTES=15", "OPENSKY_CREDITS_PER_DAY=1152")
	if err != nil {
		t.Fatalf("the hook failed: %v\n%s", err, out)
	}
	// OPENSKY_CREDITS_PER_DAY already holds the value (288 calls x 4): only the changed interval is stored.
	if got := readLog(t, azdLog); strings.TrimSpace(got) != "env set --environment test OPENSKY_INTERVAL_MINUTES 5" {
		t.Errorf("azd was called with %q; want the 5-minute interval stored in the environment test", got)
	}
	if got := readLog(t, azLog); !strings.Contains(got, "keyvault purge --name kv-abc") {
		t.Errorf("az was called with %q; the soft-deleted vault kv-abc was not purged", got)
	}
	if !strings.Contains(out, "nothing to stop") {
		t.Errorf("the hook did not go on to stop the job:\n%s", out)
	}
}

func TestPreprovisionHookRefusesIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building deploycheck through the hook")
	}
	path, azdLog, azLog := fakeTools(t, "")
	out, err := runHook(t, path, "OPENSKY_SCHEDULE=*/5 * * * * *", "KEY_VAULT_NAME=kv-abc")
	if err == nil {
		t.Fatalf("the hook accepted the whole world every 5 s:\n%s", out)
	}
	for _, want := range []string{"dedupe state", "nothing was provisioned"} {
		if !strings.Contains(out, want) {
			t.Errorf("the hook's output does not say %q:\n%s", want, out)
		}
	}
	if got := readLog(t, azdLog) + readLog(t, azLog); got != "" {
		t.Errorf("a refused plan still called azd or az: %q", got)
	}
}
