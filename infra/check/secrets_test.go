package check

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// secretLiterals match what must never be written into a template or parameter file.
var secretLiterals = []*regexp.Regexp{
	regexp.MustCompile(`(?i)SharedAccessKey\s*=`),
	regexp.MustCompile(`(?i)AccountKey\s*=`),
	regexp.MustCompile(`(?i)InstrumentationKey\s*=`),
	regexp.MustCompile(`(?i)[?&]sig=`),
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
	regexp.MustCompile(`(?i)client_?secret\s*[:=]\s*['"]?[A-Za-z0-9~._-]{16,}`),
}

// longRun finds runs of base64 characters long enough to be a key, token or SAS signature.
var longRun = regexp.MustCompile(`[A-Za-z0-9+/]{40,}={0,2}`)

// looksLikeKey reports whether s holds a long base64 run with digits and both cases, which keys
// have and resource type paths (Microsoft.Storage/storageAccounts/blobServices/...) do not.
func looksLikeKey(s string) bool {
	for _, run := range longRun.FindAllString(s, -1) {
		if strings.ContainsAny(run, "0123456789") && strings.ToLower(run) != run && strings.ToUpper(run) != run {
			return true
		}
	}
	return false
}

// secretFunctions hand out keys; with local authentication off nothing should call them.
var secretFunctions = regexp.MustCompile(`(?i)\blist(Keys|ConnectionStrings|AccountSas|ServiceSas|Secrets)\s*\(`)

func TestNoSecretLiteralsInBicep(t *testing.T) {
	for rel, f := range bicepFiles(t) {
		for _, s := range f.Strings() {
			for _, re := range secretLiterals {
				if re.MatchString(s) {
					t.Errorf("%s: string %q looks like a secret (%s)", rel, clip(s, 60), re)
				}
			}
			if looksLikeKey(s) {
				t.Errorf("%s: string %q looks like a key", rel, clip(s, 60))
			}
		}
		for _, call := range Nodes(f.Root, "call_expression") {
			if secretFunctions.MatchString(f.Text(call)) {
				t.Errorf("%s: %s reads keys; use managed identities", rel, clip(f.Text(call), 60))
			}
		}
		for _, p := range f.Params() {
			if p.Secure() && p.Default != nil && f.Text(p.Default) != "''" {
				t.Errorf("%s: @secure() param %s has a default value", rel, p.Name)
			}
		}
		secure := map[string]bool{}
		for _, p := range f.Params() {
			if p.Secure() {
				secure[p.Name] = true
			}
		}
		for _, o := range f.Outputs() {
			for _, id := range Nodes(o.Value, "identifier") {
				if secure[f.Text(id)] {
					t.Errorf("%s: output %s exposes the secure param %s", rel, o.Name, f.Text(id))
				}
			}
		}
	}
}

// The OpenSky client secret goes from its parameter to the Key Vault module and nowhere else.
func TestClientSecretOnlyReachesKeyVault(t *testing.T) {
	f := bicep(t, "infra/main.bicep")
	var kv *Module
	for _, m := range f.Modules() {
		if m.Path == "modules/keyvault.bicep" {
			m := m
			kv = &m
		}
	}
	if kv == nil {
		t.Fatal("main.bicep does not use modules/keyvault.bicep")
	}
	start, end := kv.Body.StartByte(), kv.Body.EndByte()
	for _, id := range Nodes(f.Root, "identifier") {
		if f.Text(id) != "openskyClientSecret" || id.Parent().Kind() == "parameter_declaration" {
			continue
		}
		if id.StartByte() < start || id.EndByte() > end {
			t.Errorf("main.bicep:%d uses openskyClientSecret outside the Key Vault module", id.StartPosition().Row+1)
		}
	}
	kvFile := bicep(t, "infra/modules/keyvault.bicep")
	for _, r := range kvFile.Resources() {
		if r.Type == "Microsoft.KeyVault/vaults/secrets" {
			if v := kvFile.Text(kvFile.Property(r.Body, "properties", "value")); v != "openskyClientSecret" {
				t.Errorf("the Key Vault secret's value is %s, want openskyClientSecret", v)
			}
		}
	}
}

// Parameter files hold names of environment variables for azd to fill in, never secret values.
func TestParameterFilesHoldNoSecrets(t *testing.T) {
	main := bicep(t, "infra/main.bicep")
	declared := map[string]Param{}
	for _, p := range main.Params() {
		declared[p.Name] = p
	}
	files, err := filepath.Glob(repoPath(t, "infra/*.parameters.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no infra/*.parameters.json (err %v)", err)
	}
	envRef := regexp.MustCompile(`^\$\{[A-Z][A-Z0-9_]*(=[^}]*)?\}$`)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range secretLiterals {
			if m := re.Find(b); m != nil {
				t.Errorf("%s: %q looks like a secret", filepath.Base(file), clip(string(m), 60))
			}
		}
		if looksLikeKey(string(b)) {
			t.Errorf("%s holds something that looks like a key", filepath.Base(file))
		}
		var pf struct {
			Parameters map[string]struct {
				Value     any `json:"value"`
				Reference any `json:"reference"`
			} `json:"parameters"`
		}
		if err := json.Unmarshal(b, &pf); err != nil {
			t.Fatalf("%s: %v", filepath.Base(file), err)
		}
		for name, v := range pf.Parameters {
			p, ok := declared[name]
			if !ok {
				t.Errorf("%s sets %s, which main.bicep does not declare", filepath.Base(file), name)
				continue
			}
			s, isString := v.Value.(string)
			if p.Secure() && (!isString || !envRef.MatchString(s) || strings.Contains(s, "=")) {
				t.Errorf("%s: secure param %s must come from an environment variable (${NAME}), not %v", filepath.Base(file), name, v.Value)
			}
		}
		for name, p := range declared {
			if _, ok := pf.Parameters[name]; !ok && p.Default == nil {
				t.Errorf("%s does not set %s, which main.bicep requires", filepath.Base(file), name)
			}
		}
	}
}

// The secret patterns must catch what they are for.
func TestSecretPatterns(t *testing.T) {
	for _, s := range []string{
		"Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=abc",
		"DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc",
		"https://x.blob.core.windows.net/c?sv=2022-11-02&sig=abc",
		"clientSecret: 'Zm9vYmFyYmF6cXV4cXV1eA'",
	} {
		found := false
		for _, re := range secretLiterals {
			found = found || re.MatchString(s)
		}
		if !found {
			t.Errorf("no pattern catches %q", s)
		}
	}
	if !looksLikeKey("k3yVa1ueZm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5") {
		t.Error("looksLikeKey misses a base64 key")
	}
	if looksLikeKey("Microsoft.Storage/storageAccounts/blobServices/containers") {
		t.Error("looksLikeKey flags a resource type")
	}
}
