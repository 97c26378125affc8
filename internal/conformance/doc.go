// Package conformance proves against a real MariaDB (internal/testenv) that
// the rivulet binary emits Debezium-exact column schemas and values for
// every column type under every value-handling mode. Its only code is the
// tables (cases.go), which the differential suite (internal/differential)
// also runs through Debezium itself.
//
// TestConformance creates one table per group (cases.go: integers,
// decimals and floats, strings in every MariaDB character set, binaries,
// JSON/ENUM/SET, temporals at every precision with zero, invalid and
// two-digit-year dates, MariaDB 5.3 temporal formats, spatial types,
// INET4/INET6/UUID, generated and invisible columns, compound keys) with the
// server and the inserting sessions at time zone -07:00. It then runs the
// real binary (sink.type=stdout, snapshot.mode=initial) once per mode
// combination (modes in conformance_test.go: every value of
// decimal.handling.mode, time.precision.mode, bigint.unsigned.handling.mode,
// binary.handling.mode, and column.propagate.source.type): the rows present
// at start arrive as snapshot reads (op "r"); each table's rows are then
// deleted and inserted again (op "d" and "c"), and a copy of each table is
// created by DDL and filled while streaming. For every row it requires the
// snapshot read and the streamed create to encode byte for byte the same
// (key, value schema, after), the delete's before to equal them, the
// DDL-created copy to encode the same, and all of it to equal the golden
// file.
//
// Each testdata/<group>.json holds its table's DDL, the rows inserted, the
// Debezium sources the expectations were checked against, and per mode the
// key schema, the "after" field schema and per row the key and "after"
// payloads (or the startup error of a mode that is not supported). Rewrite
// them with
//
//	go test ./internal/conformance -update
//
// and review the diff against the sources the file names.
package conformance
