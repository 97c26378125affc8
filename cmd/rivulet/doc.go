// Command rivulet streams MySQL and MariaDB row changes to Kafka as
// Debezium-compatible events. It owns flags, subcommands, exit codes and OS
// signals only: `run` loads the configuration and hands it to engine.New,
// which assembles and runs the pipeline; the other subcommands print what
// engine's helpers (offsets store, schema history, checks) return. The
// embedded development broker (bootstrap.servers=embedded, dev-kafka) stays
// here: it is a process-level convenience the pipeline sees only as an
// address.
//
//	rivulet run   --config connector.json   stream until SIGTERM
//	rivulet check --config connector.json   preflight the database and Kafka
//	rivulet version
//
// Exit codes: 0 success, 1 runtime failure or failed check, 2 invalid
// configuration or usage.
package main
