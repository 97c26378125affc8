package config

import _ "embed"

//go:embed testdata/connector.json
var example []byte

// Example returns a complete connector configuration in Kafka Connect JSON:
// Debezium's tutorial inventory connector plus the worker keys Rivulet
// reads (bootstrap.servers, offset.storage.file.filename). It loads
// without errors, with one warning for tasks.max.
func Example() []byte { return append([]byte(nil), example...) }
