// Package schema owns the table model that every other stage decodes and
// encodes with: a Table is one version of a table's definition, immutable once
// published, so an event can keep a pointer to the version that decoded it.
//
// It imports nothing of Rivulet's. Main types:
//
//   - Table, Column, Type: the model (table.go).
//
//   - Filter: Debezium's database/table/column include and exclude lists
//     (database.include.list, table.exclude.list, column.exclude.list, ...),
//     case-insensitive regular expressions matched against the whole "db",
//     "db.table" or "db.table.column"; system databases are never captured.
//
//   - Loader: reads current table definitions from the live server's
//     information_schema over one go-mysql client connection (reconnecting,
//     safe for concurrent use) and caches them until Invalidate. It also lists
//     the captured tables (Tables).
//
//   - Tracker: the schema model moved by DDL (ApplyDDL, TiDB parser with a
//     classifier and MariaDB rewrites in front, ddl*.go); each change
//     publishes new immutable Table versions, so rows decode with the table
//     as of their binlog position. LoadFrom fills it from the live server.
//
//   - History: Debezium's schema history records (tableChanges) in a file
//     (FileHistory) or a one-partition Kafka topic (KafkaHistory), and
//     Tracker.Recover to rebuild the model from them (history*.go).
//
// Errors wrap the sentinels in errors.go, ErrUnparseableDDL and ErrHistory.
package schema
