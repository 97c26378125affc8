// Package schema owns the table model that every other stage decodes and
// encodes with: a Table is one version of a table's definition, immutable once
// published, so an event can keep a pointer to the version that decoded it.
//
// It imports nothing of Rivulet's. Main types:
//
//   - Table, Column, Type: the model (table.go).
//   - Filter: Debezium's database/table/column include and exclude lists
//     (database.include.list, table.exclude.list, column.exclude.list, ...),
//     case-insensitive regular expressions matched against the whole "db",
//     "db.table" or "db.table.column"; system databases are never captured.
//   - Loader: reads current table definitions from the live server's
//     information_schema over one go-mysql client connection (reconnecting,
//     safe for concurrent use) and caches them until Invalidate. It also lists
//     the captured tables (Tables).
//
// Errors wrap the sentinels in errors.go. DDL tracking and the schema history
// come later.
package schema
