package debeziumjson

import (
	"strconv"

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
	schema *jsonSchema
}

// jsonSchema is a column's Connect schema as JsonConverter writes it.
type jsonSchema struct {
	typ     string
	fields  string // the raw `"fields":[…]` member of a struct, or ""
	name    string
	version int // 0: none
	doc     string
	params  [][2]string
	def     []byte // the "default" member's JSON value, or nil
}

// jsonCols copies the planner's column views into JSON's columns.
func jsonCols(cs []sink.Column) []jsonCol {
	if len(cs) == 0 {
		return nil
	}
	out := make([]jsonCol, len(cs))
	for i, c := range cs {
		out[i] = jsonCol{
			col: c, idx: c.Index(), name: c.Name(), key: c.KeyPrefix(), kind: c.Kind(), nullable: c.Nullable(), n: c.Size(),
			schema: &jsonSchema{
				typ: c.ConnectType(), fields: c.ConnectFields(), name: c.ConnectName(), version: c.ConnectVersion(),
				doc: c.ConnectDoc(), params: c.ConnectParams(), def: c.Default(),
			},
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

// appendJSON writes the schema of a field (field "" for none) as
// JsonConverter.asJsonSchema does.
func (s *jsonSchema) appendJSON(dst []byte, optional bool, field string) []byte {
	dst = append(dst, `{"type":`...)
	dst = sink.AppendJSONString(dst, s.typ)
	if s.fields != "" {
		dst = append(dst, ',')
		dst = append(dst, s.fields...)
	}
	dst = append(dst, `,"optional":`...)
	dst = strconv.AppendBool(dst, optional)
	if s.name != "" {
		dst = append(dst, `,"name":`...)
		dst = sink.AppendJSONString(dst, s.name)
	}
	if s.version != 0 {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, int64(s.version), 10)
	}
	if s.doc != "" {
		dst = append(dst, `,"doc":`...)
		dst = sink.AppendJSONString(dst, s.doc)
	}
	if len(s.params) > 0 {
		dst = append(dst, `,"parameters":{`...)
		for i, p := range s.params {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = sink.AppendJSONString(dst, p[0])
			dst = append(dst, ':')
			dst = sink.AppendJSONString(dst, p[1])
		}
		dst = append(dst, '}')
	}
	if s.def != nil {
		dst = append(dst, `,"default":`...)
		dst = append(dst, s.def...)
	}
	if field != "" {
		dst = append(dst, `,"field":`...)
		dst = sink.AppendJSONString(dst, field)
	}
	return append(dst, '}')
}
