package schema

import (
	"fmt"
	"strings"
)

// columnInfo is one row of information_schema.COLUMNS, the input of
// buildColumn. NULLs arrive as "" and 0.
type columnInfo struct {
	Name         string
	DataType     string // DATA_TYPE: "int", "varchar", "longtext", ...
	ColumnType   string // COLUMN_TYPE: "int(10) unsigned", "enum('a','b')", ...
	Nullable     bool   // IS_NULLABLE = 'YES'
	Charset      string // CHARACTER_SET_NAME
	MaxLength    int64  // CHARACTER_MAXIMUM_LENGTH
	Precision    int64  // NUMERIC_PRECISION
	Scale        int64  // NUMERIC_SCALE
	DatetimePrec int64  // DATETIME_PRECISION
	// JSONCheck is set for a MariaDB LONGTEXT column with a
	// CHECK (json_valid(col)) constraint: MariaDB's JSON type.
	JSONCheck bool
	// Default is COLUMN_DEFAULT (DefaultNull when SQL NULL), Extra EXTRA.
	Default     string
	DefaultNull bool
	Extra       string
}

// dataTypes maps information_schema DATA_TYPE (lower case) to Type. The
// server normalises aliases before they reach information_schema (BOOLEAN is
// tinyint, INTEGER int, NUMERIC decimal, REAL double, SERIAL bigint, LONG
// VARCHAR mediumtext), so only canonical names appear.
var dataTypes = map[string]Type{
	"tinyint":    TypeTinyInt,
	"smallint":   TypeSmallInt,
	"mediumint":  TypeMediumInt,
	"int":        TypeInt,
	"integer":    TypeInt,
	"bigint":     TypeBigInt,
	"decimal":    TypeDecimal,
	"numeric":    TypeDecimal,
	"float":      TypeFloat,
	"double":     TypeDouble,
	"real":       TypeDouble,
	"bit":        TypeBit,
	"char":       TypeChar,
	"varchar":    TypeVarchar,
	"tinytext":   TypeText,
	"text":       TypeText,
	"mediumtext": TypeText,
	"longtext":   TypeText,
	"binary":     TypeBinary,
	"varbinary":  TypeVarbinary,
	"tinyblob":   TypeBlob,
	"blob":       TypeBlob,
	"mediumblob": TypeBlob,
	"longblob":   TypeBlob,
	"date":       TypeDate,
	"time":       TypeTime,
	"datetime":   TypeDateTime,
	"timestamp":  TypeTimestamp,
	"year":       TypeYear,
	"enum":       TypeEnum,
	"set":        TypeSet,
	"json":       TypeJSON,
	// Spatial types; MySQL 8 spells the collection "geomcollection".
	"geometry":           TypeGeometry,
	"point":              TypeGeometry,
	"linestring":         TypeGeometry,
	"polygon":            TypeGeometry,
	"multipoint":         TypeGeometry,
	"multilinestring":    TypeGeometry,
	"multipolygon":       TypeGeometry,
	"geometrycollection": TypeGeometry,
	"geomcollection":     TypeGeometry,
	// MariaDB's fixed-size binary types.
	"inet4": TypeInet4,
	"inet6": TypeInet6,
	"uuid":  TypeUUID,
	// Anything else (MariaDB and MySQL VECTOR) is TypeUnknown: loaded with
	// its name so it can be reported, not decoded.
}

// buildColumn turns one information_schema.COLUMNS row into a Column.
//
// Length follows the Column doc: the declared display width of integers
// (absent on MySQL 8.0.19+ except TINYINT(1)), DECIMAL precision, the (M,D)
// of FLOAT/DOUBLE when declared, BIT width, characters of CHAR/VARCHAR, bytes
// of BINARY/VARBINARY; 0 for TEXT/BLOB, temporal, ENUM/SET, JSON and spatial
// types, which declare none that survives in the server's metadata.
func buildColumn(in columnInfo) (Column, error) {
	ct, err := parseColumnType(in.ColumnType)
	if err != nil {
		return Column{}, fmt.Errorf("column %s: %w", in.Name, err)
	}
	dataType := strings.ToLower(strings.TrimSpace(in.DataType))
	if dataType == "" {
		dataType = ct.base
	}
	c := Column{
		Name:     in.Name,
		Type:     dataTypes[dataType],
		TypeName: strings.ToUpper(dataType),
		Nullable: in.Nullable,
	}
	if in.JSONCheck && dataType == "longtext" {
		// MariaDB's JSON is an alias of LONGTEXT with a json_valid CHECK.
		// It stays text in the binlog, so the charset is kept: a decoder
		// tells MariaDB JSON (text, Charset set) from MySQL JSON (binary
		// format, Charset empty) by it.
		c.Type, c.TypeName = TypeJSON, "JSON"
	}
	m, d, n, numOK := ct.numbers()
	switch c.Type {
	case TypeTinyInt, TypeSmallInt, TypeMediumInt, TypeInt, TypeBigInt:
		c.Unsigned = ct.unsigned
		if numOK && n == 1 {
			c.Length = m
		}
	case TypeDecimal:
		c.Unsigned = ct.unsigned
		c.Length, c.Scale = int(in.Precision), int(in.Scale)
		if numOK && n >= 1 {
			c.Length, c.Scale = m, d
		}
	case TypeFloat, TypeDouble:
		c.Unsigned = ct.unsigned
		if numOK && n == 2 {
			c.Length, c.Scale = m, d
		}
	case TypeBit:
		c.Length = int(in.Precision)
		if numOK && n == 1 {
			c.Length = m
		}
		if c.Length == 0 {
			c.Length = 1 // BIT is BIT(1)
		}
	case TypeChar, TypeVarchar:
		c.Charset = in.Charset
		c.Length = int(in.MaxLength)
		if numOK && n == 1 {
			c.Length = m
		}
	case TypeText:
		c.Charset = in.Charset
	case TypeBinary, TypeVarbinary:
		c.Charset = "binary"
		c.Length = int(in.MaxLength)
		if numOK && n == 1 {
			c.Length = m
		}
	case TypeBlob:
		c.Charset = "binary"
	case TypeTime, TypeDateTime, TypeTimestamp:
		c.FSP = int(in.DatetimePrec)
		if numOK && n == 1 {
			c.FSP = m
		}
		if c.FSP < 0 || c.FSP > 6 {
			return Column{}, fmt.Errorf("column %s: %w: %q: fractional seconds precision %d out of range 0-6",
				in.Name, ErrInvalidColumnType, in.ColumnType, c.FSP)
		}
	case TypeEnum, TypeSet:
		c.Charset = in.Charset
		values, err := parseValueList(ct.args)
		if err != nil {
			return Column{}, fmt.Errorf("column %s: %w", in.Name, err)
		}
		c.Values = values
	case TypeJSON:
		c.Charset = in.Charset // empty on MySQL, the LONGTEXT charset on MariaDB
	}
	return c, nil
}

// normalizeDefault turns a column default written as SQL (MariaDB's
// information_schema.COLUMNS.COLUMN_DEFAULT: 'abc', NULL, 5,
// current_timestamp(), b'101'; or the restored DDL text older Rivulet
// histories recorded) into Debezium's defaultValueExpression (see
// Column.Default). Text that is none of these is kept as it is when keep is
// set (a history written by Debezium holds the expression already) and
// taken for an expression default (nil) otherwise.
func normalizeDefault(s string, keep bool) *string {
	t := strings.TrimSpace(s)
	out := func(v string) *string { return &v }
	if strings.EqualFold(t, "NULL") {
		if keep && t != s {
			return out(s)
		}
		return nil
	}
	// character set introducer: _utf8mb4'abc'
	if len(t) > 1 && t[0] == '_' {
		if q := strings.IndexByte(t, '\''); q > 1 && t[len(t)-1] == '\'' && isWord(t[1:q]) {
			t = t[q:]
		}
	}
	if len(t) >= 2 && t[0] == '\'' && t[len(t)-1] == '\'' {
		return out(t[1 : len(t)-1])
	}
	if len(t) >= 3 && strings.ContainsRune("bBxX", rune(t[0])) && t[1] == '\'' && t[len(t)-1] == '\'' {
		return out(t[2 : len(t)-1])
	}
	low := strings.ToLower(t)
	for _, fn := range []string{"current_timestamp", "now", "localtime", "localtimestamp"} {
		if rest, ok := strings.CutPrefix(low, fn); ok && (rest == "" || rest[0] == '(' && strings.HasSuffix(rest, ")")) {
			if fn == "now" && rest == "" {
				break // a bare word now is text
			}
			return out("1970-01-01 00:00:00")
		}
	}
	if isNumberText(t) || keep {
		return out(s)
	}
	return nil
}

// isNumberText reports a signed decimal or floating-point literal.
func isNumberText(s string) bool {
	s = strings.TrimLeft(s, "+-")
	digits, dot, exp := 0, false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && !exp:
			dot = true
		case (c == 'e' || c == 'E') && digits > 0 && !exp:
			exp = true
			if i+1 < len(s) && (s[i+1] == '+' || s[i+1] == '-') {
				i++
			}
		default:
			return false
		}
	}
	return digits > 0
}

// mysqlColumnDefault turns MySQL's information_schema.COLUMNS.COLUMN_DEFAULT
// (the value unquoted; SQL NULL for none or DEFAULT NULL) and EXTRA
// (DEFAULT_GENERATED for expression defaults) into Column.HasDefault and
// Column.Default; isNull says COLUMN_DEFAULT was NULL.
func mysqlColumnDefault(c *Column, def string, isNull bool, extra string) {
	if isNull {
		c.HasDefault = c.Nullable
		return
	}
	c.HasDefault = true
	if strings.Contains(strings.ToUpper(extra), "DEFAULT_GENERATED") {
		low := strings.ToLower(strings.TrimSpace(def))
		if strings.HasPrefix(low, "current_timestamp") || strings.HasPrefix(low, "now(") {
			v := "1970-01-01 00:00:00"
			c.Default = &v
		}
		return
	}
	if c.Type == TypeBit {
		if d := normalizeDefault(def, false); d != nil {
			c.Default = d
			return
		}
	}
	v := escapeDefault(def)
	c.Default = &v
}

// columnDefault fills Column.HasDefault and Column.Default from
// information_schema: MariaDB (10.2.7+) quotes text defaults and reports
// the string NULL for a nullable column without one; MySQL gives the bare
// value and SQL NULL.
func columnDefault(c *Column, in columnInfo, mariadb bool) {
	if !mariadb {
		mysqlColumnDefault(c, in.Default, in.DefaultNull, in.Extra)
		return
	}
	if in.DefaultNull {
		c.HasDefault = c.Nullable
		return
	}
	c.HasDefault = true
	c.Default = normalizeDefault(in.Default, false)
}
