// Package schema owns the table model that every other stage decodes and
// encodes with: a Table is one version of a table's definition, immutable once
// published, so an event can keep a pointer to the version that decoded it.
//
// It imports nothing of Rivulet's. DDL tracking and the schema history come in
// later; today tables are read from the live server (Loader).
package schema
