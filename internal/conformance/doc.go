// Package conformance holds no code: its tests prove against a real MariaDB
// (internal/testenv) that the rivulet binary emits Debezium-exact column
// schemas and values for every column type under every value-handling mode,
// and that a row read by the initial snapshot (op "r") and the same row
// streamed from the binlog (op "c") encode byte for byte the same.
//
// Each testdata/<group>.json is one table: its DDL, the rows inserted, and
// for each mode combination the key schema, the "after" field schema and,
// per row, the key and "after" payloads the binary must produce (or the
// startup error of a mode that is not supported yet). Each file names the
// Debezium sources it was checked against. Rewrite them with
//
//	go test ./internal/conformance -update
package conformance
