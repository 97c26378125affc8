package schema

import "strings"

// markLongUnique marks the long unique keys of a MariaDB table (Index.Long)
// and returns how many there are: each has a hidden DB_ROW_HASH_n BIGINT
// column at the end of the row (10.4+, sql_table.cc add_hash_field), which
// every row image and TABLE_MAP carries but information_schema and SHOW
// CREATE TABLE leave out.
//
// A UNIQUE key (never the primary key) is long when it is USING HASH, has
// a BLOB/TEXT part without a prefix, or its parts take more bytes than the
// engine's key limit (InnoDB 3072, MyISAM 1000; length bytes not counted).
// MEMORY's hash keys are native. Measured against MariaDB 10.11's row
// images (TestLongUniqueHashColumns, TestLongUniqueHashColumns_MariaDB).
func markLongUnique(d *TableDef) int {
	n := 0
	for i := range d.Indexes {
		d.Indexes[i].Long = isLongUnique(d, &d.Indexes[i])
		if d.Indexes[i].Long {
			n++
		}
	}
	return n
}

// isLongUnique reports whether index ix of a MariaDB table is a long
// unique key.
func isLongUnique(d *TableDef, ix *Index) bool {
	limit := 3072
	switch d.Engine {
	case "memory", "heap":
		return false
	case "myisam", "mrg_myisam":
		limit = 1000
	case "aria":
		limit = 2300
	}
	t := d.Table
	if !ix.Unique || ix.Primary {
		return false
	}
	if ix.Hash {
		return true
	}
	total := 0
	for k, name := range ix.Columns {
		i := t.ColumnIndex(name)
		if name == "" || i < 0 {
			continue // an expression part
		}
		prefix := 0
		if k < len(ix.Lengths) {
			prefix = ix.Lengths[k]
		}
		b, whole := keyPartBytes(&t.Columns[i], prefix)
		if whole || b > limit {
			return true
		}
		total += b
	}
	return total > limit
}

// keyPartBytes is the bytes a key part takes in the key (without length
// bytes): prefix characters or the whole column, times the character set's
// longest character. whole is set for a BLOB/TEXT-like part without a
// prefix, which only a hash can index.
func keyPartBytes(c *Column, prefix int) (n int, whole bool) {
	switch c.Type {
	case TypeGeometry:
		if c.TypeName == "POINT" && prefix <= 0 {
			return 25, false // a fixed-size POINT takes a BTREE key
		}
		if prefix <= 0 {
			return 0, true
		}
		return prefix, false
	case TypeText, TypeBlob, TypeJSON:
		if prefix <= 0 {
			return 0, true
		}
		if c.Type == TypeText || c.Type == TypeJSON {
			return prefix * maxLen(c.Charset), false
		}
		return prefix, false
	case TypeChar, TypeVarchar:
		l := c.Length
		if prefix > 0 && prefix < l {
			l = prefix
		}
		return l * maxLen(c.Charset), false
	case TypeBinary, TypeVarbinary:
		l := c.Length
		if prefix > 0 && prefix < l {
			l = prefix
		}
		return l, false
	case TypeTinyInt, TypeYear, TypeEnum:
		return 1, false
	case TypeSmallInt:
		return 2, false
	case TypeMediumInt, TypeDate, TypeTime:
		return 3, false
	case TypeInt, TypeFloat, TypeTimestamp, TypeInet4:
		return 4, false
	case TypeBigInt, TypeDouble, TypeDateTime, TypeSet:
		return 8, false
	case TypeDecimal:
		return c.Length/2 + 1, false
	case TypeBit:
		return (c.Length + 7) / 8, false
	case TypeInet6, TypeUUID:
		return 16, false
	}
	return 8, false
}

// IsLongUniqueHash reports whether a column name is one MariaDB gives the
// hidden column of a long unique key (DB_ROW_HASH_1, DB_ROW_HASH_2, ...).
func IsLongUniqueHash(name string) bool {
	rest, ok := strings.CutPrefix(name, "DB_ROW_HASH_")
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// mayChangeHashColumns reports whether an unparsed index statement may add
// or remove a MariaDB long unique key, and so a hidden column of every row
// image: a UNIQUE index added USING HASH or on columns that could pass
// the smallest engine limit (a BLOB/TEXT column, or more than 1000 bytes
// together; the columns named anywhere in the statement stand for the
// key's), or an index dropped from a table that has long unique keys.
func mayChangeHashColumns(def *TableDef, n Neutral, sql string) bool {
	if len(n.DropsIndexes) > 0 && def.Table.HashColumns > 0 {
		return true
	}
	if !n.AddsUnique {
		return false
	}
	if strings.Contains(strings.ToUpper(sql), "HASH") {
		return true
	}
	// The key's columns are among the words of the statement.
	words := map[string]bool{}
	for _, tok := range tokenize(sql) {
		words[strings.ToLower(unquote(strings.TrimSpace(tok)))] = true
	}
	total := 0
	for i := range def.Table.Columns {
		if !words[strings.ToLower(def.Table.Columns[i].Name)] {
			continue
		}
		b, whole := keyPartBytes(&def.Table.Columns[i], 0)
		if whole {
			return true
		}
		total += b
	}
	return total > 1000
}
