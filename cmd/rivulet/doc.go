// Command rivulet streams MySQL and MariaDB row changes to Kafka as
// Debezium-compatible events. It owns flags, exit codes and signals only; the
// run loop lives in engine.
//
//	rivulet run   --config connector.json   stream until SIGTERM
//	rivulet check --config connector.json   preflight the database and Kafka
//	rivulet version
//
// Exit codes: 0 success, 1 runtime failure or failed check, 2 invalid
// configuration or usage.
package main
