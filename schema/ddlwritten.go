package schema

import (
	"strconv"
	"strings"
)

// A column's type as its DDL text wrote it is what Debezium's table model
// keeps (its DDL parser reads the text, and a snapshot reads the text of
// SHOW CREATE TABLE): the type name in the text's spelling (NUMERIC, REAL,
// FLOAT(30), ZEROFILL), the length and scale in parentheses after it, and
// the JDBC type its MySqlDataTypeResolver gives that spelling. The TiDB
// parser folds the spellings (NUMERIC is DECIMAL, FLOAT(30) is DOUBLE), so
// they are read from the statement's words, as boolColumns reads BOOLEAN.
// The schema change topic and column.propagate.source.type show them
// (Column.Declared); the model keeps the server's types for decoding.

// writtenType is one column's type as the statement wrote it.
type writtenType struct {
	name          string // upper case: "NUMERIC", "DOUBLE PRECISION"
	length, scale int    // -1 when not written
	zerofill      bool
}

// writtenTypes returns the types a statement writes after each column name
// (lower case): a word that names a data type, its parenthesised length
// and scale, and a ZEROFILL among the words after it.
func writtenTypes(sql string) map[string]writtenType {
	var toks []string
	for _, t := range tokenize(sql) {
		if s := strings.TrimSpace(t); s != "" && !strings.HasPrefix(s, "/*") && !strings.HasPrefix(s, "--") {
			toks = append(toks, s)
		}
	}
	out := map[string]writtenType{}
	for i := 1; i < len(toks); i++ {
		word := strings.ToUpper(toks[i])
		if !isTypeWord(word) || !isColumnToken(toks[i-1]) {
			continue
		}
		name := strings.ToLower(unquote(toks[i-1]))
		if _, seen := out[name]; seen {
			continue
		}
		w := writtenType{name: word, length: -1, scale: -1}
		j := i + 1
		if word == "DOUBLE" && j < len(toks) && strings.EqualFold(toks[j], "PRECISION") {
			w.name = "DOUBLE PRECISION"
			j++
		}
		if j < len(toks) && toks[j] == "(" && word != "ENUM" && word != "SET" {
			var args []int
			for j++; j < len(toks) && toks[j] != ")"; j++ {
				if n, err := strconv.Atoi(toks[j]); err == nil {
					args = append(args, n)
				}
			}
			if len(args) > 0 {
				w.length = args[0]
			}
			if len(args) > 1 {
				w.scale = args[1]
			}
			j++
		}
	attrs:
		for ; j < len(toks) && j < i+6; j++ {
			switch strings.ToUpper(toks[j]) {
			case "ZEROFILL":
				w.zerofill = true
			case "UNSIGNED", "SIGNED":
			default:
				break attrs
			}
		}
		out[name] = w
	}
	return out
}

// isColumnToken reports whether tok can be a column name: a word that
// names no type, or a back-quoted name.
func isColumnToken(tok string) bool {
	if tok == "" {
		return false
	}
	if tok[0] == '`' {
		return true
	}
	return isWordByte(tok[0]) && !isTypeWord(strings.ToUpper(tok))
}

// isTypeWord reports whether word (upper case) starts a data type.
func isTypeWord(word string) bool {
	if _, ok := debeziumJDBC[word]; ok {
		return true
	}
	switch word {
	case "DATE", "TIME", "DATETIME", "TIMESTAMP", "YEAR", "JSON", "ENUM", "SET", "GEOMETRY", "POINT", "LINESTRING",
		"POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "GEOMCOLLECTION",
		"INET4", "INET6", "UUID":
		return true
	}
	return false
}

// debeziumJDBC are the java.sql.Types codes Debezium's MySqlDataTypeResolver
// gives the numeric spellings that differ from the model's type (TINYINT
// is SMALLINT there, NUMERIC is NUMERIC); the others keep jdbcTypes.
var debeziumJDBC = map[string]int{
	"TINYINT": 5, "INT1": 5, "SMALLINT": 5, "INT2": 5, "MEDIUMINT": 4, "INT3": 4, "MIDDLEINT": 4,
	"INT": 4, "INTEGER": 4, "INT4": 4, "BIGINT": -5, "INT8": -5,
	"REAL": 7, "DOUBLE": 8, "DOUBLE PRECISION": 8, "FLOAT": 6, "FLOAT4": 6, "FLOAT8": 8,
	"DECIMAL": 3, "DEC": 3, "FIXED": 3, "NUMERIC": 2, "BIT": -7, "BOOL": 16, "BOOLEAN": 16,
	"CHAR": 1, "CHARACTER": 1, "NCHAR": 1, "VARCHAR": 12, "NVARCHAR": 12,
	"TINYTEXT": 12, "TEXT": 12, "MEDIUMTEXT": 12, "LONGTEXT": 12,
	"BINARY": -2, "VARBINARY": -3, "TINYBLOB": 2004, "BLOB": 2004, "MEDIUMBLOB": 2004, "LONGBLOB": 2004,
}

// binaryWords are the spellings of byte types, which have no character set
// in Debezium's model (charsetName null).
var binaryWords = map[string]bool{"BINARY": true, "VARBINARY": true, "TINYBLOB": true, "BLOB": true, "MEDIUMBLOB": true, "LONGBLOB": true, "JSON": true}

// markWritten sets c.Declared from the type the statement wrote for it
// (types: writtenTypes of the statement).
func markWritten(c *Column, types map[string]writtenType) {
	if w, ok := types[strings.ToLower(c.Name)]; ok {
		applyWritten(c, w)
	}
}

// declaredFromColumnType sets c.Declared from information_schema's
// COLUMN_TYPE ("int(5) unsigned zerofill"), the type text SHOW CREATE TABLE
// prints and Debezium's snapshot parses.
func declaredFromColumnType(c *Column, columnType string) {
	c.Declared = declared(c, -1, -1)
	if w, ok := writtenTypes("`x` " + columnType)["x"]; ok {
		applyWritten(c, w)
	}
}

func applyWritten(c *Column, w writtenType) {
	c.Declared.Name, c.Declared.Zerofill = w.name, w.zerofill
	switch c.Type {
	case TypeEnum, TypeSet:
		return // the length is the members'
	}
	c.Declared.Length, c.Declared.Scale = w.length, w.scale
	if c.Type == TypeDecimal {
		// Debezium's parser gives DECIMAL its defaults (10, 0).
		if c.Declared.Length < 0 {
			c.Declared.Length = 10
		}
		if c.Declared.Scale < 0 {
			c.Declared.Scale = 0
		}
	}
}

// DebeziumType returns the column's type as Debezium's table model holds it
// (Column.typeName(), length(), scale(); -1 for unset), which its schema
// change topic and column.propagate.source.type show: from Declared when
// set (the type name as the text spelled it, with UNSIGNED and ZEROFILL),
// else from the model (the temporal types' precision is their length).
func (c *Column) DebeziumType() (name string, length, scale int) {
	name = strings.ToUpper(c.TypeName)
	if c.Declared.Set && c.Declared.Name != "" {
		name = c.Declared.Name
	}
	if c.Unsigned {
		name += " UNSIGNED"
	}
	if c.Declared.Zerofill {
		name += " ZEROFILL"
	}
	if c.Declared.Set {
		return name, c.Declared.Length, c.Declared.Scale
	}
	length, scale = c.Length, c.Scale
	switch c.Type {
	case TypeTime, TypeDateTime, TypeTimestamp:
		length = c.FSP
	}
	if length <= 0 {
		length = -1
	}
	if c.Type != TypeDecimal && scale <= 0 {
		scale = -1
	}
	return name, length, scale
}
