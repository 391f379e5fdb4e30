// Package schema embeds the event JSON Schema (event.schema.json) and validates events against it.
// Tests use it; the handler does not validate at run time (the transform's types guarantee the shape).
package schema

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// JSON is the event schema document.
//
//go:embed event.schema.json
var JSON []byte

// Validator checks encoded events against the schema, formats included.
type Validator struct{ sch *jsonschema.Schema }

// NewValidator compiles the schema.
func NewValidator() (*Validator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSON))
	if err != nil {
		return nil, fmt.Errorf("parsing event.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "event.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("adding event.schema.json: %w", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compiling event.schema.json: %w", err)
	}
	return &Validator{sch: sch}, nil
}

// Validate checks one encoded event.
func (v *Validator) Validate(event []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(event))
	if err != nil {
		return fmt.Errorf("event is not JSON: %w", err)
	}
	return v.sch.Validate(inst)
}
