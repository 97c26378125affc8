package binlog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	tidbcharset "github.com/pingcap/tidb/pkg/parser/charset"

	"github.com/rivulet-cdc/rivulet/schema"
)

// TableFromMap builds the table a TABLE_MAP event describes from its
// optional metadata, which the server writes in full only with
// binlog_row_metadata=FULL (MySQL 8.0.1+, MariaDB 10.5+): column names,
// types and their binlog metadata, signedness, character sets (collation
// ids), ENUM/SET members, geometry subtypes, nullability and the primary key.
// It is the fallback for a table whose DDL the history does not hold or
// could not parse (DESIGN.md, "the binlog itself is a second source of
// truth").
//
// The result decodes every row of the event exactly (planTable accepts it):
// invisible columns (MySQL 8.0.23+) are part of the row image and therefore
// of the table; InvisibleColumns tells which they are. What the binlog does
// not carry is left at its zero value: defaults, AUTO_INCREMENT, comments,
// the declared display width of integers (MySQL 8.0.19+ has none; on MariaDB
// the server's default width is filled in), FLOAT(M,D), secondary indexes,
// and the dimension of a VECTOR column (go-mysql v1.16.0 drops the
// VECTOR_DIMENSIONALITY field). A MariaDB JSON column is logged as LONGTEXT
// and comes back as LONGTEXT.
//
// Without full metadata (binlog_row_metadata=MINIMAL, the default) the event
// has no column names: TableFromMap returns an error wrapping
// ErrNoRowMetadata that names the setting to change.
func TableFromMap(e *replication.TableMapEvent, mariadb bool) (*schema.TableDef, error) {
	id := string(e.Schema) + "." + string(e.Table)
	n := int(e.ColumnCount)
	if len(e.ColumnName) != n || n == 0 {
		return nil, &Error{Kind: ErrNoRowMetadata,
			Msg:  fmt.Sprintf("table map of %s carries no column names (the server logs minimal row metadata)", id),
			Hint: "SET GLOBAL binlog_row_metadata=FULL on the server (and in its configuration file) so that table maps describe the table, or let the schema history hold the table's DDL"}
	}
	if len(e.ColumnType) != n || len(e.ColumnMeta) != n {
		return nil, corrupt("table map of %s: %d columns but %d types and %d metadata entries", id, n, len(e.ColumnType), len(e.ColumnMeta))
	}
	unsigned := e.UnsignedMap()
	colls := collationMap(e, mariadb)
	esColls := e.EnumSetCollationMap()
	enums := e.EnumStrValueMap()
	sets := e.SetStrValueMap()
	geoms := e.GeometryTypeMap()

	t := &schema.Table{DB: string(e.Schema), Name: string(e.Table), Columns: make([]schema.Column, n)}
	def := &schema.TableDef{Table: t, Columns: make([]schema.ColumnDef, n)}
	for i := 0; i < n; i++ {
		c := &t.Columns[i]
		x := &def.Columns[i]
		c.Name = string(e.ColumnName[i])
		if ok, null := e.Nullable(i); ok {
			c.Nullable = null
		} else {
			c.Nullable = true
		}
		typ, length := realType(e.ColumnType[i], e.ColumnMeta[i])
		meta := e.ColumnMeta[i]
		intCol := func(st schema.Type, name string) {
			c.Type, c.TypeName, c.Unsigned = st, name, unsigned[i]
			expr := strings.ToLower(name)
			if mariadb {
				c.Length = mariadbIntWidth(st, c.Unsigned)
				expr += "(" + strconv.Itoa(c.Length) + ")"
			}
			if c.Unsigned {
				expr += " unsigned"
			}
			x.TypeExpression = expr
		}
		text := func(coll uint64, ok bool) (cs string, maxLen int, err error) {
			if !ok {
				return "", 0, &Error{Kind: ErrNoRowMetadata,
					Msg:  fmt.Sprintf("table map of %s has no character set for column %s", id, c.Name),
					Hint: "SET GLOBAL binlog_row_metadata=FULL on the server"}
			}
			cs, collName, maxLen, err := collationByID(coll, mariadb)
			if err != nil {
				return "", 0, &Error{Kind: ErrUnsupported, Msg: fmt.Sprintf("table map of %s column %s", id, c.Name), Err: err,
					Hint: "report the collation id; until then keep the table's DDL in the schema history"}
			}
			x.Collation = collName
			return cs, maxLen, nil
		}
		switch typ {
		case mysql.MYSQL_TYPE_TINY:
			intCol(schema.TypeTinyInt, "TINYINT")
		case mysql.MYSQL_TYPE_SHORT:
			intCol(schema.TypeSmallInt, "SMALLINT")
		case mysql.MYSQL_TYPE_INT24:
			intCol(schema.TypeMediumInt, "MEDIUMINT")
		case mysql.MYSQL_TYPE_LONG:
			intCol(schema.TypeInt, "INT")
		case mysql.MYSQL_TYPE_LONGLONG:
			intCol(schema.TypeBigInt, "BIGINT")
		case mysql.MYSQL_TYPE_NEWDECIMAL:
			c.Type, c.TypeName, c.Unsigned = schema.TypeDecimal, "DECIMAL", unsigned[i]
			c.Length, c.Scale = int(meta>>8), int(meta&0xFF)
			x.TypeExpression = fmt.Sprintf("decimal(%d,%d)", c.Length, c.Scale)
		case mysql.MYSQL_TYPE_FLOAT:
			c.Type, c.TypeName, c.Unsigned, x.TypeExpression = schema.TypeFloat, "FLOAT", unsigned[i], "float"
		case mysql.MYSQL_TYPE_DOUBLE:
			c.Type, c.TypeName, c.Unsigned, x.TypeExpression = schema.TypeDouble, "DOUBLE", unsigned[i], "double"
		case mysql.MYSQL_TYPE_BIT:
			// Metadata: bits in the low byte, whole bytes in the high byte.
			c.Type, c.TypeName, c.Length = schema.TypeBit, "BIT", int(meta>>8)*8+int(meta&0xFF)
			x.TypeExpression = fmt.Sprintf("bit(%d)", c.Length)
		case mysql.MYSQL_TYPE_YEAR:
			c.Type, c.TypeName, x.TypeExpression = schema.TypeYear, "YEAR", "year"
		case mysql.MYSQL_TYPE_DATE:
			c.Type, c.TypeName, x.TypeExpression = schema.TypeDate, "DATE", "date"
		case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2,
			mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2,
			mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
			switch typ {
			case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
				c.Type, c.TypeName = schema.TypeTime, "TIME"
			case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2:
				c.Type, c.TypeName = schema.TypeDateTime, "DATETIME"
			default:
				c.Type, c.TypeName = schema.TypeTimestamp, "TIMESTAMP"
			}
			x.TypeExpression = strings.ToLower(c.TypeName)
			if typ == mysql.MYSQL_TYPE_TIME2 || typ == mysql.MYSQL_TYPE_DATETIME2 || typ == mysql.MYSQL_TYPE_TIMESTAMP2 {
				c.FSP = int(meta)
				if c.FSP > 6 {
					return nil, corrupt("table map of %s column %s: fractional seconds precision %d", id, c.Name, c.FSP)
				}
				if c.FSP > 0 {
					x.TypeExpression += "(" + strconv.Itoa(c.FSP) + ")"
				}
			}
		case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING:
			coll, ok := colls[i]
			cs, maxLen, err := text(coll, ok)
			if err != nil {
				return nil, err
			}
			varying := typ != mysql.MYSQL_TYPE_STRING
			if cs == "binary" {
				c.Type, c.TypeName, c.Charset, c.Length = schema.TypeBinary, "BINARY", "binary", length
				if varying {
					c.Type, c.TypeName = schema.TypeVarbinary, "VARBINARY"
				}
				x.Collation = ""
			} else {
				c.Type, c.TypeName, c.Charset, c.Length = schema.TypeChar, "CHAR", cs, length/maxLen
				if varying {
					c.Type, c.TypeName = schema.TypeVarchar, "VARCHAR"
				}
			}
			x.TypeExpression = fmt.Sprintf("%s(%d)", strings.ToLower(c.TypeName), c.Length)
		case mysql.MYSQL_TYPE_BLOB:
			if meta < 1 || meta > 4 {
				return nil, corrupt("table map of %s column %s: blob length width %d", id, c.Name, meta)
			}
			coll, ok := colls[i]
			cs, _, err := text(coll, ok)
			if err != nil {
				return nil, err
			}
			size := [...]string{"TINY", "", "MEDIUM", "LONG"}[meta-1]
			if cs == "binary" {
				c.Type, c.TypeName, c.Charset = schema.TypeBlob, size+"BLOB", "binary"
				x.Collation = ""
			} else {
				c.Type, c.TypeName, c.Charset = schema.TypeText, size+"TEXT", cs
			}
			x.TypeExpression = strings.ToLower(c.TypeName)
		case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET:
			coll, ok := esColls[i]
			cs, _, err := text(coll, ok)
			if err != nil {
				return nil, err
			}
			c.Charset = cs
			var vals []string
			if typ == mysql.MYSQL_TYPE_ENUM {
				c.Type, c.TypeName, vals, ok = schema.TypeEnum, "ENUM", enums[i], enums != nil
			} else {
				c.Type, c.TypeName, vals, ok = schema.TypeSet, "SET", sets[i], sets != nil
			}
			if !ok {
				return nil, &Error{Kind: ErrNoRowMetadata,
					Msg:  fmt.Sprintf("table map of %s has no %s members for column %s", id, c.TypeName, c.Name),
					Hint: "SET GLOBAL binlog_row_metadata=FULL on the server"}
			}
			c.Values = append([]string(nil), vals...)
			quoted := make([]string, len(vals))
			for k, v := range vals {
				quoted[k] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
			}
			x.TypeExpression = strings.ToLower(c.TypeName) + "(" + strings.Join(quoted, ",") + ")"
		case mysql.MYSQL_TYPE_JSON:
			c.Type, c.TypeName, x.TypeExpression = schema.TypeJSON, "JSON", "json"
		case mysql.MYSQL_TYPE_GEOMETRY:
			c.Type, c.TypeName = schema.TypeGeometry, "GEOMETRY"
			if g, ok := geoms[i]; ok && g < uint64(len(geometryNames)) {
				c.TypeName = geometryNames[g]
			}
			x.TypeExpression = strings.ToLower(c.TypeName)
		case mysql.MYSQL_TYPE_VECTOR:
			// Not a type Debezium's MySQL schema model knows; decoded as bytes.
			c.Type, c.TypeName, x.TypeExpression = schema.TypeUnknown, "VECTOR", "vector"
		default:
			return nil, &Error{Kind: ErrUnsupported,
				Msg:  fmt.Sprintf("table map of %s column %s: binlog column type %d", id, c.Name, typ),
				Hint: "keep the table's DDL in the schema history, or exclude the table"}
		}
	}
	for i := range t.Columns {
		// A nullable column without a DEFAULT clause defaults to NULL, which
		// Debezium records as hasDefaultValue; a declared default is not in
		// the binlog.
		t.Columns[i].HasDefault = t.Columns[i].Nullable
	}
	if mariadb {
		// MariaDB's long unique keys: hidden BIGINTs after the last column
		// (DB_ROW_HASH_n), not columns of the table.
		h := 0
		for h < n-1 && schema.IsLongUniqueHash(t.Columns[n-1-h].Name) && t.Columns[n-1-h].Type == schema.TypeBigInt {
			h++
		}
		n -= h
		t.Columns, def.Columns, t.HashColumns = t.Columns[:n], def.Columns[:n], h
	}
	implicitPeriod := mariadb && n >= 2 && t.Columns[n-2].Name == "row_start" && t.Columns[n-1].Name == "row_end"
	if implicitPeriod {
		// MariaDB's implicit system-versioning columns: generated and kept
		// last, so a later ADD COLUMN goes before them as the server puts it.
		def.Columns[n-2].Generated, def.Columns[n-1].Generated = true, true
	}
	if len(e.PrimaryKey) > 0 {
		pk := schema.Index{Name: "PRIMARY", Primary: true, Unique: true}
		for _, k := range e.PrimaryKey {
			if k >= uint64(n) {
				return nil, corrupt("table map of %s: primary key column %d of %d", id, k, n)
			}
			if implicitPeriod && k >= uint64(n-2) {
				// The server adds row_end to the keys of a versioned table;
				// the declared key (information_schema, SHOW CREATE TABLE,
				// the DDL) is without it.
				continue
			}
			t.PrimaryKey = append(t.PrimaryKey, int(k))
			pk.Columns = append(pk.Columns, t.Columns[k].Name)
			t.Columns[k].Nullable = false
		}
		def.Indexes = []schema.Index{pk}
	}
	return def, nil
}

// InvisibleColumns returns the indexes of the columns a TABLE_MAP marks
// invisible (MySQL 8.0.23+ with binlog_row_metadata=FULL), nil when none are
// or the event carries no visibility.
func InvisibleColumns(e *replication.TableMapEvent) []int {
	var out []int
	for i, visible := range e.VisibilityMap() {
		if !visible {
			out = append(out, i)
		}
	}
	// map order is random: sort the few indexes
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// collationMap maps the character columns of e to their collation ids. It
// is go-mysql's CollationMap except that MySQL 9 counts VECTOR columns
// among the character columns (they carry the binary collation, 63): the
// DEFAULT_CHARSET field of vector.binlog's table bar, [63 1 255], gives
// collation 255 to the TEXT column after one VECTOR column.
func collationMap(e *replication.TableMapEvent, mariadb bool) map[int]uint64 {
	isChar := func(i int) bool {
		typ, _ := realType(e.ColumnType[i], e.ColumnMeta[i])
		switch typ {
		case mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_BLOB:
			return true
		case mysql.MYSQL_TYPE_VECTOR:
			return !mariadb
		case mysql.MYSQL_TYPE_GEOMETRY:
			return mariadb
		}
		return false
	}
	out := make(map[int]uint64)
	switch {
	case len(e.DefaultCharset) > 0:
		except := make(map[uint64]uint64)
		for k := 1; k+1 < len(e.DefaultCharset); k += 2 {
			except[e.DefaultCharset[k]] = e.DefaultCharset[k+1]
		}
		p := uint64(0)
		for i := range e.ColumnType {
			if !isChar(i) {
				continue
			}
			out[i] = e.DefaultCharset[0]
			if c, ok := except[p]; ok {
				out[i] = c
			}
			p++
		}
	case len(e.ColumnCharset) > 0:
		p := 0
		for i := range e.ColumnType {
			if isChar(i) && p < len(e.ColumnCharset) {
				out[i] = e.ColumnCharset[p]
				p++
			}
		}
	}
	return out
}

// geometryNames are the GEOMETRY_TYPE codes of the table map (Field::geometry_type).
var geometryNames = [...]string{"GEOMETRY", "POINT", "LINESTRING", "POLYGON",
	"MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"}

// mariadbIntWidth is MariaDB's display width of an integer declared without one.
func mariadbIntWidth(t schema.Type, unsigned bool) int {
	w := map[schema.Type][2]int{
		schema.TypeTinyInt: {4, 3}, schema.TypeSmallInt: {6, 5}, schema.TypeMediumInt: {9, 8},
		schema.TypeInt: {11, 10}, schema.TypeBigInt: {20, 20},
	}[t]
	if unsigned {
		return w[1]
	}
	return w[0]
}

// collationByID names the character set and collation of a collation id
// and the set's longest character in bytes. MySQL's ids come from the TiDB
// parser's table (a copy of MySQL's); MariaDB 10.10+'s UCA 14.0 collations
// (ids 2048 and up) carry their character set in the id.
func collationByID(id uint64, mariadb bool) (cs, coll string, maxLen int, err error) {
	if mariadb && id >= 2048 {
		sets := [...]struct {
			name string
			max  int
		}{{"utf8mb3", 3}, {"utf8mb4", 4}, {"ucs2", 2}, {"utf16", 4}, {"utf32", 4}}
		if k := (id - 2048) / 256; k < uint64(len(sets)) {
			return sets[k].name, sets[k].name + "_uca1400", sets[k].max, nil
		}
	}
	c, err := tidbcharset.GetCollationByID(int(id))
	if err != nil || c == nil {
		return "", "", 0, fmt.Errorf("%w: unknown collation id %d", ErrUnsupported, id)
	}
	name := strings.ToLower(c.CharsetName)
	if name == "utf8" {
		name = "utf8mb3"
	}
	// GetCharsetInfo returns the set with an error for sets TiDB does not
	// implement; their Maxlen is still MySQL's.
	info, _ := tidbcharset.GetCharsetInfo(c.CharsetName)
	maxLen = 1
	if info != nil && info.Maxlen > 0 {
		maxLen = info.Maxlen
	}
	return name, strings.ToLower(c.Name), maxLen, nil
}
