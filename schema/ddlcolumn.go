package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/types"
)

// charsetMaxLen is the longest character, in bytes, of each character set
// the server offers; unlisted ones are single-byte.
var charsetMaxLen = map[string]int{
	"utf8mb4": 4, "utf8mb3": 3, "utf8": 3, "ucs2": 2, "utf16": 4, "utf16le": 4, "utf32": 4,
	"big5": 2, "sjis": 2, "cp932": 2, "gbk": 2, "gb2312": 2, "euckr": 2, "ujis": 3, "eucjpms": 3, "gb18030": 4,
	"filename": 5,
}

func maxLen(charset string) int {
	if n := charsetMaxLen[charset]; n > 0 {
		return n
	}
	return 1
}

// normCharset spells a character set as the server reports it in
// information_schema (utf8 is utf8mb3 since MySQL 8.0.30 and MariaDB 10.6).
func normCharset(cs string) string {
	cs = strings.ToLower(cs)
	if cs == "utf8" {
		return "utf8mb3"
	}
	return cs
}

// charsetOfCollation returns the character set of a collation: the part
// before the first underscore ("utf8mb4_0900_ai_ci" is utf8mb4), "binary"
// for binary.
func charsetOfCollation(coll string) string {
	coll = strings.ToLower(coll)
	if coll == "binary" {
		return "binary"
	}
	if cs, _, ok := strings.Cut(coll, "_"); ok {
		if cs == "uca1400" {
			return "" // MariaDB 11: a collation usable with several charsets
		}
		return normCharset(cs)
	}
	return ""
}

// collationCharset maps a collation id of the Q_CHARSET_CODE status variable
// to its character set, for the ids servers use as collation_server.
func collationCharset(id uint16) string {
	switch {
	case id == 8 || id == 5 || id == 15 || id == 31 || id == 47 || id == 48 || id == 49 || id == 94:
		return "latin1"
	case id == 33 || id == 83 || id >= 192 && id <= 223 || id == 76:
		return "utf8mb3"
	case id == 45 || id == 46 || id >= 224 && id <= 247 || id >= 255 && id <= 323:
		return "utf8mb4"
	case id == 63:
		return "binary"
	case id == 11 || id == 65:
		return "ascii"
	}
	return ""
}

// defaultIntWidth is MariaDB's (and MySQL 5.7's) display width of an integer
// declared without one.
func defaultIntWidth(t Type, unsigned bool) int {
	w := map[Type][2]int{
		TypeTinyInt: {4, 3}, TypeSmallInt: {6, 5}, TypeMediumInt: {9, 8}, TypeInt: {11, 10}, TypeBigInt: {20, 20},
	}[t]
	if unsigned {
		return w[1]
	}
	return w[0]
}

// blobName picks the TEXT/BLOB size class that holds n bytes.
func blobName(n int, text bool) string {
	var name string
	switch {
	case n < 256:
		name = "TINY"
	case n < 1<<16:
		name = ""
	case n < 1<<24:
		name = "MEDIUM"
	default:
		name = "LONG"
	}
	if text {
		return name + "TEXT"
	}
	return name + "BLOB"
}

// blobBytes is the byte capacity of a TEXT/BLOB type name.
func blobBytes(typeName string) int {
	switch {
	case strings.HasPrefix(typeName, "TINY"):
		return 255
	case strings.HasPrefix(typeName, "MEDIUM"):
		return 1<<24 - 1
	case strings.HasPrefix(typeName, "LONG"):
		return 1<<32 - 1
	}
	return 1<<16 - 1
}

// buildDefColumn turns a column definition into a Column and its ColumnDef.
// tableCharset is the table's default; mariadb selects MariaDB's spellings.
// notNullKey reports whether the column is part of the primary key.
func buildDefColumn(cd *ast.ColumnDef, tableCharset, tableCollation string, mariadb bool) (Column, ColumnDef, error) {
	tp := cd.Tp
	c := Column{Name: cd.Name.Name.O, Nullable: true}
	var x ColumnDef
	if tp == nil {
		return c, x, fmt.Errorf("column %s has no type", c.Name)
	}
	flen, dec := tp.GetFlen(), tp.GetDecimal()
	charset := normCharset(tp.GetCharset())
	collate := strings.ToLower(tp.GetCollate())
	jsonCheck, otherCheck := false, false
	strDefault, isStrDefault := "", false // the DEFAULT, when a text literal
	for _, o := range cd.Options {
		switch o.Tp {
		case ast.ColumnOptionNotNull, ast.ColumnOptionPrimaryKey:
			c.Nullable = false
		case ast.ColumnOptionNull:
			c.Nullable = true
		case ast.ColumnOptionAutoIncrement:
			x.AutoIncrement = true
			c.Nullable = false
		case ast.ColumnOptionDefaultValue:
			x.HasDefault = true
			x.Default = restoreExpr(o.Expr)
			c.HasDefault, c.Default = true, debeziumDefault(o.Expr)
			strDefault, isStrDefault = "", false
			if v, ok := o.Expr.(ast.ValueExpr); ok {
				strDefault, isStrDefault = v.GetValue().(string)
			}
		case ast.ColumnOptionComment:
			if cm := restoreString(o.Expr); cm == periodMarker || cm == periodEndMarker {
				x.PeriodColumn, x.PeriodEnd = true, cm == periodEndMarker
			} else {
				x.Comment = cm
			}
		case ast.ColumnOptionGenerated:
			x.Generated = true
		case ast.ColumnOptionCollate:
			collate = strings.ToLower(o.StrValue)
		case ast.ColumnOptionCheck:
			if isJSONValid(o.Expr, c.Name) {
				jsonCheck = true
			} else {
				otherCheck = true
			}
		}
	}
	if x.PeriodColumn {
		c.Nullable = false // the server makes system-time period columns NOT NULL
	}
	if charset == "" && collate != "" {
		charset = charsetOfCollation(collate)
	}
	if charset == "" {
		charset = tableCharset
		if collate == "" {
			collate = tableCollation
		}
	}
	unsigned := mysql.HasUnsignedFlag(tp.GetFlag()) || mysql.HasZerofillFlag(tp.GetFlag())
	isInt := func(t Type, name string) {
		c.Type, c.TypeName, c.Unsigned = t, name, unsigned
		switch {
		case flen > 0 && (mariadb || flen == 1 && t == TypeTinyInt || mysql.HasZerofillFlag(tp.GetFlag())):
			c.Length = flen
		case mariadb:
			c.Length = defaultIntWidth(t, unsigned)
		}
	}
	str := func(t Type, name string) {
		c.Type, c.TypeName, c.Charset = t, name, charset
		x.Collation = collate
	}
	switch tp.GetType() {
	case mysql.TypeTiny:
		isInt(TypeTinyInt, "TINYINT")
	case mysql.TypeShort:
		isInt(TypeSmallInt, "SMALLINT")
	case mysql.TypeInt24:
		isInt(TypeMediumInt, "MEDIUMINT")
	case mysql.TypeLong:
		isInt(TypeInt, "INT")
	case mysql.TypeLonglong:
		isInt(TypeBigInt, "BIGINT")
	case mysql.TypeNewDecimal:
		c.Type, c.TypeName, c.Unsigned = TypeDecimal, "DECIMAL", unsigned
		c.Length, c.Scale = 10, 0
		if flen > 0 {
			c.Length = flen
		}
		if dec > 0 {
			c.Scale = dec
		}
	case mysql.TypeFloat, mysql.TypeDouble:
		c.Type, c.TypeName, c.Unsigned = TypeDouble, "DOUBLE", unsigned
		if tp.GetType() == mysql.TypeFloat {
			c.Type, c.TypeName = TypeFloat, "FLOAT"
		}
		if flen > 0 && dec >= 0 {
			c.Length, c.Scale = flen, dec
		}
	case mysql.TypeBit:
		c.Type, c.TypeName, c.Length = TypeBit, "BIT", 1
		if flen > 0 {
			c.Length = flen
		}
	case mysql.TypeYear:
		c.Type, c.TypeName = TypeYear, "YEAR"
	case mysql.TypeDate, mysql.TypeNewDate:
		c.Type, c.TypeName = TypeDate, "DATE"
	case mysql.TypeDuration, mysql.TypeDatetime, mysql.TypeTimestamp:
		c.Type, c.TypeName = TypeTime, "TIME"
		if tp.GetType() == mysql.TypeDatetime {
			c.Type, c.TypeName = TypeDateTime, "DATETIME"
		} else if tp.GetType() == mysql.TypeTimestamp {
			c.Type, c.TypeName = TypeTimestamp, "TIMESTAMP"
		}
		if dec > 0 {
			c.FSP = dec
		}
		if c.FSP > 6 {
			return c, x, fmt.Errorf("column %s: %w: fractional seconds precision %d out of range 0-6", c.Name, ErrInvalidColumnType, c.FSP)
		}
	case mysql.TypeString:
		if charset == "binary" {
			c.Type, c.TypeName, c.Charset = TypeBinary, "BINARY", "binary"
		} else {
			str(TypeChar, "CHAR")
		}
		c.Length = 1
		if flen >= 0 {
			c.Length = flen
		}
		if c.Type == TypeChar && c.Length*maxLen(c.Charset) > 1020 {
			// Longer than a CHAR can be (1020 bytes, 255 characters of
			// utf8mb4; only the filename character set, 5 bytes a
			// character, gets there): outside strict mode the server makes
			// it a VARCHAR ("Converting column 'a' from CHAR to VARCHAR",
			// main/ctype_filename), and its rows carry a VARCHAR.
			c.Type, c.TypeName = TypeVarchar, "VARCHAR"
		}
	case mysql.TypeVarchar, mysql.TypeVarString:
		if charset == "binary" {
			c.Type, c.TypeName, c.Charset = TypeVarbinary, "VARBINARY", "binary"
		} else {
			str(TypeVarchar, "VARCHAR")
		}
		c.Length = max(flen, 0)
		if n := c.Length * maxLen(c.Charset); n > 65532 {
			// Longer than a VARCHAR can be (65532 bytes: the row's 65535
			// less the length and null bytes): outside strict mode the
			// server makes it the smallest TEXT/BLOB holding it (strict
			// mode refuses the statement, which never reaches the binlog).
			text := c.Charset != "binary"
			name := blobName(n, text)
			if text {
				c.Type, c.TypeName = TypeText, name
			} else {
				c.Type, c.TypeName = TypeBlob, name
			}
			c.Length = 0
		}
	case mysql.TypeTinyBlob, mysql.TypeBlob, mysql.TypeMediumBlob, mysql.TypeLongBlob:
		text := charset != "binary"
		var name string
		switch tp.GetType() {
		case mysql.TypeTinyBlob:
			name = blobName(255, text)
		case mysql.TypeMediumBlob:
			name = blobName(1<<24-1, text)
		case mysql.TypeLongBlob:
			name = blobName(1<<32-1, text)
		default:
			n := 1<<16 - 1
			if flen > 0 { // TEXT(n), BLOB(n): the smallest type holding n characters
				n = flen
				if text {
					n *= maxLen(charset)
				}
			}
			name = blobName(n, text)
		}
		if text {
			str(TypeText, name)
			if jsonCheck && name == "LONGTEXT" {
				c.Type, c.TypeName = TypeJSON, "JSON"
			}
		} else {
			c.Type, c.TypeName, c.Charset = TypeBlob, name, "binary"
		}
	case mysql.TypeEnum, mysql.TypeSet:
		if tp.GetType() == mysql.TypeEnum {
			str(TypeEnum, "ENUM")
		} else {
			str(TypeSet, "SET")
		}
		c.Values = append([]string(nil), tp.GetElems()...)
		for i, v := range c.Values {
			v = memberText(c.Charset, v)
			c.Values[i] = v
			if strings.IndexByte(v, trailingSpace) >= 0 {
				if c.Charset == "binary" {
					c.Values[i] = strings.ReplaceAll(v, string(trailingSpace), " ")
				} else {
					c.Values[i] = strings.TrimRight(v, string(trailingSpace))
				}
			}
		}
		// The server stores ENUM/SET values and their default without
		// trailing spaces (the parser trims the values already).
		if c.Default != nil && c.Charset != "binary" {
			d := strings.TrimRight(*c.Default, " ")
			c.Default = &d
		}
	case mysql.TypeJSON:
		c.Type, c.TypeName = TypeJSON, "JSON"
		if mariadb && otherCheck && !jsonCheck {
			// MariaDB adds its CHECK (json_valid(col)) to a JSON column
			// only when the column has no CHECK of its own: with one, the
			// column is a plain LONGTEXT (main/type_json).
			c.Type, c.TypeName, c.Charset = TypeText, "LONGTEXT", "utf8mb4"
			x.Collation = "utf8mb4_bin"
		} else if mariadb {
			c.Charset = "utf8mb4" // MariaDB: LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
			x.Collation = "utf8mb4_bin"
		}
	case mysql.TypeGeometry:
		c.Type, c.TypeName = TypeGeometry, "GEOMETRY"
	case mysql.TypeTiDBVectorFloat32:
		c.Type, c.TypeName = TypeUnknown, "VECTOR"
		if name := markerName(flen); name != "" {
			c.TypeName = name
			if markerTypes[name] < markerTypes["INET4"] {
				c.Type = TypeGeometry
				if name == "GEOMCOLLECTION" {
					c.TypeName = "GEOMETRYCOLLECTION"
				}
			} else {
				c.Type = dataTypes[strings.ToLower(name)] // MariaDB INET4, INET6, UUID
			}
		}
	default:
		c.Type, c.TypeName = TypeUnknown, strings.ToUpper(types.TypeToStr(tp.GetType(), tp.GetCharset()))
	}
	x.TypeExpression = tp.CompactStr()
	c.Declared = declared(&c, flen, dec)
	if (c.Type == TypeDateTime || c.Type == TypeTimestamp) && c.Default != nil && *c.Default == "0" {
		d := "0000-00-00" // DEFAULT 0 is the zero date, as the server stores it
		c.Default = &d
	}
	if c.Type == TypeBinary && isStrDefault && c.Default != nil && len(strDefault) < c.Length {
		// BINARY(n) pads its DEFAULT with zero bytes to n, as the server
		// stores it (main/ctype_many: CHAR(1) BYTE DEFAULT '' is '\0').
		d := escapeDefault(strDefault + strings.Repeat("\x00", c.Length-len(strDefault)))
		c.Default = &d
	}
	if c.Type == TypeBit && c.Default != nil && *c.Default == "" {
		d := "0" // b'' (no digits) is the value 0, as the server stores it (main/type_bit)
		c.Default = &d
	}
	if c.Type == TypeDecimal && c.Default != nil && c.Scale > 0 {
		// The server stores a DECIMAL default with the column's scale
		// ('3.141592' in DECIMAL(10,8) is '3.14159200').
		if d := *c.Default; isPlainDecimal(d) {
			frac := 0
			if k := strings.IndexByte(d, '.'); k >= 0 {
				frac = len(d) - k - 1
			} else {
				d += "."
			}
			if frac < c.Scale {
				d += strings.Repeat("0", c.Scale-frac)
				c.Default = &d
			}
		}
	}
	if (c.Type == TypeDateTime || c.Type == TypeTimestamp) && c.Default != nil && isDateOnly(*c.Default) {
		// The server stores a date-only DEFAULT of a DATETIME/TIMESTAMP
		// with its time ('2002-02-02' is '2002-02-02 00:00:00', with the
		// column's fractional digits), as information_schema and SHOW
		// CREATE TABLE print it; the value converted is the same.
		d := *c.Default + " 00:00:00"
		if c.FSP > 0 {
			d += "." + strings.Repeat("0", c.FSP)
		}
		c.Default = &d
	}
	return c, x, nil
}

// isJSONValid recognises CHECK (json_valid(`col`)), MariaDB's JSON marker.
func isJSONValid(e ast.ExprNode, col string) bool {
	f, ok := e.(*ast.FuncCallExpr)
	if !ok || f.FnName.L != "json_valid" || len(f.Args) != 1 {
		return false
	}
	cn, ok := f.Args[0].(*ast.ColumnNameExpr)
	return ok && strings.EqualFold(cn.Name.Name.O, col)
}

// restoreExpr renders an expression back to SQL (DEFAULT values).
func restoreExpr(e ast.ExprNode) string {
	if e == nil {
		return ""
	}
	var sb strings.Builder
	if err := e.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &sb)); err != nil {
		return ""
	}
	return sb.String()
}

// restoreString returns the value of a string literal expression (COMMENT).
func restoreString(e ast.ExprNode) string {
	if v, ok := e.(ast.ValueExpr); ok {
		if s, ok := v.GetValue().(string); ok {
			return s
		}
	}
	s := restoreExpr(e)
	return strings.Trim(s, "'")
}

// debeziumDefault returns a DEFAULT as Debezium's MySQL DDL parser records
// it (antlr/listener/DefaultValueParserListener): a text literal without
// its quotes and character set introducer, numbers and signed numbers as
// written, b'…' and x'…' as their digits, NOW()/CURRENT_TIMESTAMP (any
// precision) as "1970-01-01 00:00:00", TRUE/FALSE as 1/0; nil for NULL and
// for expressions. Debezium keeps the escapes of a text literal as they
// are written; the parser has unescaped them, so they are written back the
// way SHOW CREATE TABLE prints them (a quote doubled, \\, \0, \n, \r, \Z).
func debeziumDefault(e ast.ExprNode) *string {
	s, ok := "", false
	switch x := e.(type) {
	case ast.ValueExpr:
		s, ok = defaultLiteral(x, restoreExpr(e))
	case *ast.UnaryOperationExpr:
		if v, isV := x.V.(ast.ValueExpr); isV && (x.Op == opcode.Minus || x.Op == opcode.Plus) {
			if s, ok = defaultLiteral(v, restoreExpr(x.V)); ok {
				sign := "-"
				if x.Op == opcode.Plus {
					sign = "+"
				}
				s = sign + s
			}
		}
	case *ast.FuncCallExpr:
		switch x.FnName.L {
		case "current_timestamp", "now", "localtime", "localtimestamp":
			s, ok = "1970-01-01 00:00:00", true
		}
	}
	if !ok {
		return nil
	}
	return &s
}

// defaultLiteral renders one literal of a DEFAULT; restored is its SQL text.
func defaultLiteral(v ast.ValueExpr, restored string) (string, bool) {
	switch x := v.GetValue().(type) {
	case nil:
		return "", false
	case string:
		return escapeDefault(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), true
	case fmt.Stringer:
		// decimals, b'…' and x'…' literals
		r := restored
		if len(r) > 3 && (r[0] == 'b' || r[0] == 'x' || r[0] == 'B' || r[0] == 'X') && r[1] == '\'' && r[len(r)-1] == '\'' {
			return r[2 : len(r)-1], true
		}
		return x.String(), true
	}
	return "", false
}

// escapeDefault writes a text default back as SHOW CREATE TABLE quotes it
// (without the quotes).
func escapeDefault(s string) string {
	if !strings.ContainsAny(s, "'\\\x00\n\r\x1a") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0x1a:
			b.WriteString(`\Z`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isDateOnly reports whether s is a YYYY-MM-DD literal.
func isDateOnly(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, b := range []byte(s) {
		if i != 4 && i != 7 && (b < '0' || b > '9') {
			return false
		}
	}
	return true
}

// isPlainDecimal reports whether s is [-]digits[.digits].
func isPlainDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	dot := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '.' && !dot && i > 0 && i < len(s)-1:
			dot = true
		case s[i] < '0' || s[i] > '9':
			return false
		}
	}
	return s != ""
}

// declared is the length and scale the DDL text gave c (flen and dec as the
// parser read them, -1 when absent), as Debezium's DDL parser records them
// (MySqlAntlrDdlParser's column definition listener): the temporal types'
// precision is their length, an ENUM's length is 1 and a SET's its members
// as one-character words joined by commas (2n-1), whatever the members'
// lengths (seen by the differential suite).
func declared(c *Column, flen, dec int) Declared {
	d := Declared{Set: true, Length: -1, Scale: -1}
	switch c.Type {
	case TypeEnum:
		d.Length = 1
		return d
	case TypeSet:
		d.Length = max(2*len(c.Values)-1, 1)
		return d
	case TypeTime, TypeDateTime, TypeTimestamp:
		if dec >= 0 {
			d.Length = dec
		}
		return d
	case TypeJSON, TypeGeometry, TypeDate:
		return d
	}
	if flen > 0 {
		d.Length = flen
	}
	if dec >= 0 && (c.Type == TypeDecimal || c.Type == TypeFloat || c.Type == TypeDouble) {
		d.Scale = dec
	}
	return d
}
