package debeziumjson

import (
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
)

// jsonCol is one column as Debezium JSON renders it: the planner's view
// (its value rendering) beside JSON's own copy of what the envelope needs,
// its Connect schema included, whose parameters the column mappers change
// (columnmask.go). Built once per table version from Table.Columns and
// Table.KeyColumns.
type jsonCol struct {
	col      sink.Column     // the planner's view: the value rendering
	idx      int             // index into the row
	name     string          // column name
	key      []byte          // the `"name":` prefix of the payload member, JSON-escaped
	kind     sink.ColumnKind // how the value is rendered
	nullable bool
	n        int // Column.Size
	// schema is only read when the table's schemas are built: behind a
	// pointer it keeps the columns the payload loop walks small. A copy of
	// a column that changes it (the column mappers) copies it first.
	schema *sink.ConnectSchema
}

// jsonCols copies the planner's column views into JSON's columns.
func jsonCols(cs []sink.Column) []jsonCol {
	if len(cs) == 0 {
		return nil
	}
	out := make([]jsonCol, len(cs))
	schemas := make([]sink.ConnectSchema, len(cs))
	for i, c := range cs {
		schemas[i] = c.Connect()
		out[i] = jsonCol{
			col: c, idx: c.Index(), name: c.Name(), key: c.KeyPrefix(), kind: c.Kind(), nullable: c.Nullable(), n: c.Size(),
			schema: &schemas[i],
		}
	}
	return out
}

// appendValue appends the JSON of *v as the type mapping renders it (v
// points into the row: see sink.Column.AppendJSON).
func (c *jsonCol) appendValue(dst []byte, v *event.Value) ([]byte, error) {
	return c.col.AppendJSON(dst, v)
}

// optional: the field's schema is optional.
func (c *jsonCol) optional() bool { return c.nullable }
