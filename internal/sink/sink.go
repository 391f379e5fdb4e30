// Package sink holds what every sink reports about a publish, and the file sink, which writes a
// snapshot's events as newline-delimited JSON (NDJSON) to a file or standard output.
package sink

// Report says what one publish did.
type Report struct {
	Events  int `json:"events"`
	Batches int `json:"batches"`
	Bytes   int `json:"bytes"`
	// Partitions is filled by sinks that have them (Event Hubs), keyed by partition id.
	Partitions map[string]PartitionReport `json:"partitions,omitempty"`
}

// PartitionReport is one partition's share of a publish.
type PartitionReport struct {
	Events  int `json:"events"`
	Batches int `json:"batches"`
	Bytes   int `json:"bytes"`
}
