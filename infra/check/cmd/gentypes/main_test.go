package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opensky-eventhubs/handler/infra/check"
)

// A small types.json with each kind of type the tool writes: nested objects, an open object, an
// array, a closed and an open set of strings, read-only and required flags, a discriminated object
// and a recursive type.
const typesJSON = `[
 {"$type": "StringType"},
 {"$type": "StringLiteralType", "value": "A"},
 {"$type": "StringLiteralType", "value": "B, C"},
 {"$type": "UnionType", "elements": [{"$ref": "#/1"}, {"$ref": "#/2"}]},
 {"$type": "UnionType", "elements": [{"$ref": "#/1"}, {"$ref": "#/0"}]},
 {"$type": "IntegerType"},
 {"$type": "ObjectType", "name": "Body", "properties": {
   "name": {"type": {"$ref": "#/0"}, "flags": 9},
   "properties": {"type": {"$ref": "#/7"}, "flags": 0},
   "tags": {"type": {"$ref": "#/8"}, "flags": 0}}},
 {"$type": "ObjectType", "name": "Props", "properties": {
   "closed": {"type": {"$ref": "#/3"}, "flags": 0},
   "open": {"type": {"$ref": "#/4"}, "flags": 0},
   "state": {"type": {"$ref": "#/0"}, "flags": 2},
   "items": {"type": {"$ref": "#/9"}, "flags": 0},
   "source": {"type": {"$ref": "#/10"}, "flags": 0},
   "odata.type": {"type": {"$ref": "#/0"}, "flags": 0},
   "tree": {"type": {"$ref": "#/13"}, "flags": 0}}},
 {"$type": "ObjectType", "name": "Tags", "properties": {}, "additionalProperties": {"$ref": "#/0"}},
 {"$type": "ArrayType", "itemType": {"$ref": "#/5"}},
 {"$type": "DiscriminatedObjectType", "name": "Source", "discriminator": "kind",
  "baseProperties": {"common": {"type": {"$ref": "#/0"}, "flags": 0}},
  "elements": {"Blob": {"$ref": "#/11"}, "Hub": {"$ref": "#/12"}}},
 {"$type": "ObjectType", "name": "BlobSource", "properties": {"kind": {"type": {"$ref": "#/1"}, "flags": 1}, "container": {"type": {"$ref": "#/0"}, "flags": 1}}},
 {"$type": "ObjectType", "name": "HubSource", "properties": {"kind": {"type": {"$ref": "#/1"}, "flags": 1}, "hub": {"type": {"$ref": "#/0"}, "flags": 0}}},
 {"$type": "ObjectType", "name": "Tree", "properties": {"child": {"type": {"$ref": "#/13"}, "flags": 0}}},
 {"$type": "ResourceType", "name": "Microsoft.Test/things@2020-01-01", "body": {"$ref": "#/6"}}
]`

func TestGenerateFromAMirror(t *testing.T) {
	mirror := t.TempDir()
	dir := filepath.Join(mirror, "generated", "test", "microsoft.test", "2020-01-01")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "types.json"), []byte(typesJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "."},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "types"},
	} {
		if out, err := exec.Command("git", append([]string{"-C", mirror}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	infra := t.TempDir() // no Bicep: the type comes from the argument
	out := filepath.Join(t.TempDir(), "types.txt")
	if err := run(mirror, out, infra, []string{"Microsoft.Test/things@2020-01-01"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"resource Microsoft.Test/things@2020-01-01 generated/test/microsoft.test/2020-01-01/types.json",
		"name string required",
		"properties.closed 'A'|'B, C'",
		"properties.open string",
		"properties.state string readonly",
		"properties.items[] int",
		"properties.'odata.type' string",
		"properties.source.common string",
		"properties.source{kind=Blob}.container string required",
		"properties.source{kind=Hub}.hub string",
		"properties.tree.child object",
		"tags.* string",
	} {
		if !strings.Contains(text, "\n"+want+"\n") {
			t.Errorf("the file has no line %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "tree.child.child") {
		t.Error("a recursive type was expanded more than once")
	}

	// The file reads back, and running again with no argument keeps the type.
	rt, err := check.ReadResourceTypes(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rt.Lookup("microsoft.test/THINGS@2020-01-01"); !ok {
		t.Error("the type does not read back")
	}
	if err := run(mirror, out, infra, nil); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(out)
	if string(again) != text {
		t.Error("a second run without arguments changed the file")
	}
	if err := run(mirror, out, infra, []string{"Microsoft.Test/things@2099-01-01"}); err == nil || !strings.Contains(err.Error(), "2099-01-01") {
		t.Errorf("an unknown API version gave %v", err)
	}
}
