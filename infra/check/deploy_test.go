package check

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type hook struct {
	Shell           string `yaml:"shell"`
	Run             string `yaml:"run"`
	ContinueOnError bool   `yaml:"continueOnError"`
}

// hookEntry is one azd hook: for every platform, or per platform.
type hookEntry struct {
	Posix   *hook  `yaml:"posix"`
	Windows *hook  `yaml:"windows"`
	Shell   string `yaml:"shell"`
	Run     string `yaml:"run"`
}

type hooks map[string]hookEntry

type azureYAML struct {
	Name  string `yaml:"name"`
	Infra struct {
		Provider string `yaml:"provider"`
		Path     string `yaml:"path"`
		Module   string `yaml:"module"`
	} `yaml:"infra"`
	Services map[string]struct {
		Project  string `yaml:"project"`
		Language string `yaml:"language"`
		Host     string `yaml:"host"`
		Dist     string `yaml:"dist"`
		Hooks    hooks  `yaml:"hooks"`
	} `yaml:"services"`
	Hooks hooks `yaml:"hooks"`
}

func readAzureYAML(t *testing.T) azureYAML {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, "azure.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var y azureYAML
	if err := yaml.Unmarshal(b, &y); err != nil {
		t.Fatalf("azure.yaml: %v", err)
	}
	return y
}

// azdServiceName is the one service azure.yaml deploys.
func azdServiceName(t *testing.T) string {
	t.Helper()
	y := readAzureYAML(t)
	if len(y.Services) != 1 {
		t.Fatalf("azure.yaml has %d services, want 1", len(y.Services))
	}
	for name := range y.Services {
		return name
	}
	return ""
}

func TestAzureYAML(t *testing.T) {
	y := readAzureYAML(t)
	if y.Infra.Provider != "bicep" || y.Infra.Path != "infra" || y.Infra.Module != "main" {
		t.Errorf("azure.yaml infra is %+v; want bicep, infra, main", y.Infra)
	}
	name := azdServiceName(t)
	svc := y.Services[name]
	if svc.Host != "function" || svc.Language != "custom" || svc.Project != "." || svc.Dist == "" {
		t.Errorf("service %s is %+v; want host function, language custom, project ., and a dist", name, svc)
	}
	pre, ok := svc.Hooks["prepackage"]
	if !ok || pre.Posix == nil || pre.Posix.Run != "scripts/package-functionapp.sh" {
		t.Errorf("service %s needs a posix prepackage hook running scripts/package-functionapp.sh", name)
	}

	var runs []string
	for _, h := range []hooks{y.Hooks, svc.Hooks} {
		for event, h := range h {
			for _, x := range []*hook{h.Posix, h.Windows, {Shell: h.Shell, Run: h.Run}} {
				if x == nil || x.Run == "" {
					continue
				}
				runs = append(runs, event+": "+x.Run)
				if strings.ContainsAny(x.Run, " \n") {
					continue // inline commands
				}
				info, err := os.Stat(repoPath(t, x.Run))
				if err != nil {
					t.Errorf("hook %s runs %s: %v", event, x.Run, err)
				} else if info.Mode()&0o111 == 0 {
					// azd runs a posix hook script directly, so its shebang needs the execute bit.
					t.Errorf("hook %s runs %s, which is not executable (chmod +x, and commit the mode)", event, x.Run)
				}
			}
		}
	}
	sort.Strings(runs)
	for _, want := range []string{"preprovision: scripts/preprovision.sh", "postprovision: scripts/postprovision.sh"} {
		if !contains(runs, want) {
			t.Errorf("azure.yaml hooks %v lack %q", runs, want)
		}
	}
}

// The package script must build the Linux binary the way the issue says and stage exactly what the
// Functions host needs.
func TestPackageScript(t *testing.T) {
	b, err := os.ReadFile(repoPath(t, "scripts/package-functionapp.sh"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build",
		"./cmd/handler",
		"cp host.json",
		"cp -R OpenSkyTimer",
		`"$out/handler"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scripts/package-functionapp.sh does not contain %q", want)
		}
	}
	dist := readAzureYAML(t).Services[azdServiceName(t)].Dist
	if !strings.Contains(text, "$root/"+dist) {
		t.Errorf("scripts/package-functionapp.sh stages somewhere else than azure.yaml's dist %s", dist)
	}
}

// PackageIntegration runs the package script into a temporary folder: it builds the handler.
func TestPackageIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building the handler")
	}
	for _, need := range []string{"host.json", "OpenSkyTimer/function.json"} {
		if _, err := os.Stat(repoPath(t, need)); err != nil {
			t.Fatalf("%s is missing: the app root must have it to be packaged: %v", need, err)
		}
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("no bash on PATH: the deploy scripts are bash; install it")
	}
	out := t.TempDir()
	cmd := exec.Command("bash", repoPath(t, "scripts/package-functionapp.sh"), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("package-functionapp.sh: %v\n%s", err, b)
	}
	var got []string
	err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"host.json": false, "handler": false, "OpenSkyTimer/function.json": false}
	for _, g := range got {
		if _, ok := want[g]; ok {
			want[g] = true
		} else if !strings.HasPrefix(g, "OpenSkyTimer/") {
			t.Errorf("the package holds %s, which the Functions host does not need", g)
		}
	}
	for f, ok := range want {
		if !ok {
			t.Errorf("the package lacks %s (it holds %v)", f, got)
		}
	}
	if info, err := os.Stat(filepath.Join(out, "handler")); err == nil && info.Mode()&0o111 == 0 {
		t.Error("the staged handler is not executable")
	}
}

func scriptFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(repoPath(t, "scripts/*.sh"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts/*.sh (err %v)", err)
	}
	return files
}

func TestScriptsParse(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("no bash on PATH: the deploy scripts are bash; install it")
	}
	shellcheck, _ := exec.LookPath("shellcheck")
	if shellcheck == "" {
		t.Log("shellcheck is not installed (apt-get install shellcheck); checking syntax with bash -n only")
	}
	for _, f := range scriptFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if b, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v\n%s", err, b)
			}
			if shellcheck != "" {
				if b, err := exec.Command(shellcheck, f).CombinedOutput(); err != nil {
					t.Errorf("shellcheck: %v\n%s", err, b)
				}
			}
			info, err := os.Stat(f)
			if err == nil && info.Mode()&0o111 == 0 {
				t.Error("not executable (chmod +x)")
			}
			b, _ := os.ReadFile(f)
			if !strings.HasPrefix(string(b), "#!/usr/bin/env bash\n") {
				t.Error("does not start with #!/usr/bin/env bash")
			}
		})
	}
}

// The scripts read azd's environment: every ${NAME:-} they fall back on must be an output of
// main.bicep (azd saves outputs in the environment) or a variable azd sets itself.
func TestScriptsReadDeclaredOutputs(t *testing.T) {
	outputs := map[string]bool{"AZURE_SUBSCRIPTION_ID": true, "AZURE_ENV_NAME": true}
	for _, o := range bicep(t, "infra/main.bicep").Outputs() {
		outputs[o.Name] = true
	}
	ref := regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]+):-`)
	for _, f := range scriptFiles(t) {
		if filepath.Base(f) == "demo.sh" {
			continue // make demo runs it on this machine, not azd: its settings are its own
		}
		b, _ := os.ReadFile(f)
		for _, m := range ref.FindAllStringSubmatch(string(b), -1) {
			if !outputs[m[1]] {
				t.Errorf("%s reads %s, which main.bicep does not output", filepath.Base(f), m[1])
			}
		}
	}
}

func TestGrantPowerBIScript(t *testing.T) {
	b, err := os.ReadFile(repoPath(t, "scripts/grant-powerbi.sh"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"az rest --method post",
		"--resource https://analysis.windows.net/powerbi/api",
		`https://api.powerbi.com/v1.0/myorg/groups/$workspace/users`,
		`\"groupUserAccessRight\": \"Contributor\"`,
		`\"principalType\": \"App\"`,
		`\"identifier\": \"$principal\"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scripts/grant-powerbi.sh does not contain %s", want)
		}
	}
}

// docs/DEPLOY.md explains every parameter of main.bicep.
func TestDeployGuideNamesEveryParameter(t *testing.T) {
	b, err := os.ReadFile(repoPath(t, "docs/DEPLOY.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bicep(t, "infra/main.bicep").Params() {
		if !strings.Contains(string(b), "`"+p.Name+"`") {
			t.Errorf("docs/DEPLOY.md does not mention the parameter `%s`", p.Name)
		}
	}
}
