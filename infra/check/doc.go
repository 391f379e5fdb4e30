// Package check tests the deployment that nothing here can run: the Bicep under infra/ (parsed with
// tree-sitter-bicep), the Stream Analytics query infra/query.asaql (read as text), the parameter
// file, azure.yaml and scripts/. Its tests compare them with each other and with the handler: the
// event JSON Schema it publishes and the app settings it reads.
//
// It is its own Go module so that the handler's go.mod stays free of cgo and tree-sitter. Run it
// with `cd infra/check && go test ./...`.
package check
