package schema

import (
	"errors"
	"fmt"
	"strings"

	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/pingcap/tidb/pkg/parser/charset"
)

// ErrNoRowMetadata reports a TABLE_MAP event without the full row metadata
// (binlog_row_metadata=FULL) a table could be built from.
var ErrNoRowMetadata = errors.New("the table map carries no full row metadata (binlog_row_metadata is not FULL)")

// TableFromMap builds a table definition from a TABLE_MAP event's full row
// metadata (binlog_row_metadata=FULL, MySQL 8.0.1+, MariaDB 10.5+): column
// names, types with their lengths, signedness, nullability, character sets,
// ENUM/SET values, geometry types and the primary key. It is the first
// fallback for a DDL statement the parser cannot read: the table as the
// server wrote the rows that follow the statement. What the metadata lacks
// is left out: defaults, comments, integer display widths (MariaDB's
// defaults are used), indexes other than the primary key. mariadb selects
// MariaDB's spelling of the model.
func TableFromMap(e *replication.TableMapEvent, mariadb bool) (*TableDef, error) {
	n := int(e.ColumnCount)
	if len(e.ColumnName) != n || len(e.ColumnType) != n || len(e.ColumnMeta) != n {
		return nil, ErrNoRowMetadata
	}
	unsigned := e.UnsignedMap()
	colls := e.CollationMap()
	esColls := e.EnumSetCollationMap()
	enums := e.EnumStrValueMap()
	sets := e.SetStrValueMap()
	geoms := e.GeometryTypeMap()
	t := &Table{DB: string(e.Schema), Name: string(e.Table), Columns: make([]Column, n)}
	def := &TableDef{Table: t, Columns: make([]ColumnDef, n)}
	if len(e.DefaultCharset) > 0 {
		def.Charset = collationIDCharset(e.DefaultCharset[0])
		def.Collation = collationIDName(e.DefaultCharset[0])
	}
	for i := range n {
		c := Column{Name: string(e.ColumnName[i]), Unsigned: unsigned[i]}
		if ok, null := e.Nullable(i); ok {
			c.Nullable = null
		}
		typ, meta := e.ColumnType[i], e.ColumnMeta[i]
		if typ == gmysql.MYSQL_TYPE_STRING && meta >= 256 {
			b0 := byte(meta >> 8)
			if b0&0x30 != 0x30 {
				typ, meta = b0|0x30, uint16(meta&0xff)|uint16((b0&0x30)^0x30)<<4
			} else {
				typ, meta = b0, meta&0xff
			}
		}
		coll, hasColl := colls[i]
		if es, ok := esColls[i]; ok {
			coll, hasColl = es, true
		}
		cs := ""
		if hasColl {
			cs = collationIDCharset(coll)
			def.Columns[i].Collation = collationIDName(coll)
		}
		chars := func(bytes int) int {
			if m := maxLen(cs); m > 1 {
				return bytes / m
			}
			return bytes
		}
		switch typ {
		case gmysql.MYSQL_TYPE_TINY:
			c.Type, c.TypeName = TypeTinyInt, "TINYINT"
		case gmysql.MYSQL_TYPE_SHORT:
			c.Type, c.TypeName = TypeSmallInt, "SMALLINT"
		case gmysql.MYSQL_TYPE_INT24:
			c.Type, c.TypeName = TypeMediumInt, "MEDIUMINT"
		case gmysql.MYSQL_TYPE_LONG:
			c.Type, c.TypeName = TypeInt, "INT"
		case gmysql.MYSQL_TYPE_LONGLONG:
			c.Type, c.TypeName = TypeBigInt, "BIGINT"
		case gmysql.MYSQL_TYPE_NEWDECIMAL:
			c.Type, c.TypeName, c.Length, c.Scale = TypeDecimal, "DECIMAL", int(meta>>8), int(meta&0xff)
		case gmysql.MYSQL_TYPE_FLOAT:
			c.Type, c.TypeName = TypeFloat, "FLOAT"
		case gmysql.MYSQL_TYPE_DOUBLE:
			c.Type, c.TypeName = TypeDouble, "DOUBLE"
		case gmysql.MYSQL_TYPE_BIT:
			c.Type, c.TypeName, c.Length = TypeBit, "BIT", int(meta>>8)*8+int(meta&0xff)
		case gmysql.MYSQL_TYPE_YEAR:
			c.Type, c.TypeName = TypeYear, "YEAR"
		case gmysql.MYSQL_TYPE_DATE, gmysql.MYSQL_TYPE_NEWDATE:
			c.Type, c.TypeName = TypeDate, "DATE"
		case gmysql.MYSQL_TYPE_TIME, gmysql.MYSQL_TYPE_TIME2:
			c.Type, c.TypeName = TypeTime, "TIME"
		case gmysql.MYSQL_TYPE_DATETIME, gmysql.MYSQL_TYPE_DATETIME2:
			c.Type, c.TypeName = TypeDateTime, "DATETIME"
		case gmysql.MYSQL_TYPE_TIMESTAMP, gmysql.MYSQL_TYPE_TIMESTAMP2:
			c.Type, c.TypeName = TypeTimestamp, "TIMESTAMP"
		case gmysql.MYSQL_TYPE_VARCHAR, gmysql.MYSQL_TYPE_VAR_STRING:
			if cs == "binary" || !hasColl {
				c.Type, c.TypeName, c.Charset, c.Length = TypeVarbinary, "VARBINARY", "binary", int(meta)
			} else {
				c.Type, c.TypeName, c.Charset, c.Length = TypeVarchar, "VARCHAR", cs, chars(int(meta))
			}
		case gmysql.MYSQL_TYPE_STRING:
			if cs == "binary" || !hasColl {
				c.Type, c.TypeName, c.Charset, c.Length = TypeBinary, "BINARY", "binary", int(meta)
			} else {
				c.Type, c.TypeName, c.Charset, c.Length = TypeChar, "CHAR", cs, chars(int(meta))
			}
		case gmysql.MYSQL_TYPE_ENUM:
			c.Type, c.TypeName, c.Charset, c.Values = TypeEnum, "ENUM", cs, enums[i]
		case gmysql.MYSQL_TYPE_SET:
			c.Type, c.TypeName, c.Charset, c.Values = TypeSet, "SET", cs, sets[i]
		case gmysql.MYSQL_TYPE_BLOB:
			size := [...]int{0, 255, 1<<16 - 1, 1<<24 - 1, 1<<32 - 1}[min(int(meta), 4)]
			if cs == "binary" || !hasColl {
				c.Type, c.TypeName, c.Charset = TypeBlob, blobName(size, false), "binary"
			} else {
				c.Type, c.TypeName, c.Charset = TypeText, blobName(size, true), cs
			}
		case gmysql.MYSQL_TYPE_JSON:
			c.Type, c.TypeName = TypeJSON, "JSON"
		case gmysql.MYSQL_TYPE_GEOMETRY:
			c.Type, c.TypeName = TypeGeometry, geometryName(geoms[i])
		default:
			return nil, fmt.Errorf("%s.%s column %s: binlog type %d has no model type", t.DB, t.Name, c.Name, typ)
		}
		if mariadb && c.Type >= TypeTinyInt && c.Type <= TypeBigInt {
			c.Length = defaultIntWidth(c.Type, c.Unsigned)
		}
		def.Columns[i].TypeExpression = strings.ToLower(c.TypeName)
		t.Columns[i] = c
	}
	if mariadb && n >= 2 && t.Columns[n-2].Name == "row_start" && t.Columns[n-1].Name == "row_end" {
		// MariaDB's implicit system-versioning columns, kept last.
		def.Columns[n-2].Generated, def.Columns[n-1].Generated = true, true
	}
	if len(e.PrimaryKey) > 0 {
		pk := Index{Name: "PRIMARY", Primary: true, Unique: true}
		for _, k := range e.PrimaryKey {
			if int(k) >= n {
				return nil, fmt.Errorf("%s.%s: primary key column %d out of range", t.DB, t.Name, k)
			}
			t.PrimaryKey = append(t.PrimaryKey, int(k))
			pk.Columns = append(pk.Columns, t.Columns[k].Name)
		}
		def.Indexes = []Index{pk}
	}
	return def, nil
}

var geometryNames = [...]string{"GEOMETRY", "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"}

func geometryName(g uint64) string {
	if g < uint64(len(geometryNames)) {
		return geometryNames[g]
	}
	return "GEOMETRY"
}

// collationIDCharset is the character set of a collation id ("" when
// unknown): the parser's table of MySQL collations, then the ids servers
// use as collation_server.
func collationIDCharset(id uint64) string {
	if c, err := charset.GetCollationByID(int(id)); err == nil && c != nil {
		return normCharset(c.CharsetName)
	}
	return collationCharset(uint16(id))
}

// CollationCharset returns the character set of a collation id, "" when
// unknown (binlog reads a Query event's character_set_client with it).
func CollationCharset(id uint64) string { return collationIDCharset(id) }

func collationIDName(id uint64) string {
	if c, err := charset.GetCollationByID(int(id)); err == nil && c != nil {
		return c.Name
	}
	return ""
}
