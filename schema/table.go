package schema

import "strings"

// Type is a column's MySQL data type, normalised across MySQL and MariaDB.
type Type uint8

// Column types. The names follow MySQL's own type names.
const (
	TypeUnknown Type = iota
	TypeTinyInt
	TypeSmallInt
	TypeMediumInt
	TypeInt
	TypeBigInt
	TypeDecimal
	TypeFloat
	TypeDouble
	TypeBit
	TypeChar
	TypeVarchar
	TypeText // TINYTEXT, TEXT, MEDIUMTEXT, LONGTEXT
	TypeBinary
	TypeVarbinary
	TypeBlob // TINYBLOB, BLOB, MEDIUMBLOB, LONGBLOB
	TypeDate
	TypeTime
	TypeDateTime
	TypeTimestamp
	TypeYear
	TypeEnum
	TypeSet
	TypeJSON
	TypeGeometry
	// MariaDB's fixed-size binary types (10.5+, 10.7+, 10.10+): held as
	// 4 or 16 bytes, emitted as the text the server prints.
	TypeInet4
	TypeInet6
	TypeUUID
)

// Column is one column of a Table version.
type Column struct {
	Name     string
	Type     Type
	TypeName string // as the server spells it, upper case: "VARCHAR", "INT UNSIGNED" is TypeName "INT" + Unsigned
	Unsigned bool
	Nullable bool
	// Length is the declared length: characters for strings, bytes for
	// BINARY/VARBINARY, bits for BIT, digits (precision) for DECIMAL, display width for ints.
	Length int
	// Scale is the DECIMAL scale.
	Scale int
	// FSP is the fractional seconds precision of TIME, DATETIME and TIMESTAMP (0-6).
	FSP int
	// Charset is the column character set for string types ("utf8mb4", "latin1", "binary").
	Charset string
	// Values holds the members of an ENUM or SET in declaration order.
	Values []string
	// Excluded is set for columns dropped by column.exclude.list/include.list:
	// they are still decoded (to walk the row image) but never emitted.
	Excluded bool
	// HasDefault says the column declares a DEFAULT. Default is that
	// default as Debezium's DDL parser records it (tableChanges
	// defaultValueExpression): the literal without quotes or character set
	// introducer ('abc' is "abc", b'101' is "101"), CURRENT_TIMESTAMP and
	// NOW() as "1970-01-01 00:00:00"; nil for DEFAULT NULL and expression
	// defaults. The sink converts it into the field schema's default.
	HasDefault bool
	Default    *string
	// Declared is the length and scale as the column's DDL text wrote them,
	// which is what Debezium's table model keeps (its DDL parser reads the
	// text; a snapshot reads SHOW CREATE TABLE, where the server prints
	// int(11)): tableChanges and column.propagate.source.type show them.
	Declared Declared
}

// Declared holds a column's length and scale as its DDL text wrote them.
type Declared struct {
	// Set marks the fields as taken from a DDL text; unset (a column from
	// information_schema, a table map or a schema history), the model's
	// TypeName, Length and Scale stand in.
	Set bool
	// Name is the type's spelling in the text, upper case ("NUMERIC",
	// "REAL", "FLOAT" for FLOAT(30)); "" when the words were not found.
	Name string
	// Zerofill: the text wrote ZEROFILL (Debezium's type name keeps it).
	Zerofill bool
	// Length and Scale are -1 where the text gave none ("BIGINT"); DECIMAL
	// has Debezium's defaults (10, 0), ENUM length 1 and SET 2n-1.
	Length, Scale int
}

// Table is one version of a table definition. Columns are in table order;
// PrimaryKey holds indexes into Columns (empty for a table without a usable key).
type Table struct {
	DB         string
	Name       string
	Columns    []Column
	PrimaryKey []int
	// MessageKey, when not nil, holds the columns of the change events' key
	// chosen by message.key.columns (indexes into Columns, in the order
	// Debezium's KeyMapper gives them). The schema history keeps PrimaryKey.
	MessageKey []int
}

// Key returns the columns of the change events' key: MessageKey when set,
// else PrimaryKey.
func (t *Table) Key() []int {
	if t.MessageKey != nil {
		return t.MessageKey
	}
	return t.PrimaryKey
}

// ChunkKey returns the columns a snapshot reads the table by and merges
// streamed changes on: PrimaryKey (a primary or non-null unique key), else
// MessageKey, which the user then promises is unique; empty when neither.
func (t *Table) ChunkKey() []int {
	if len(t.PrimaryKey) > 0 {
		return t.PrimaryKey
	}
	return t.MessageKey
}

// ID returns "db.table", the identifier Debezium's include lists match against.
func (t *Table) ID() string { return t.DB + "." + t.Name }

// ColumnIndex returns the index of the named column (case-insensitive) or -1.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return i
		}
	}
	return -1
}
