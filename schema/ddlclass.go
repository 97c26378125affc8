package schema

import (
	"strings"
)

// Neutral is what the token classifier makes of a statement that cannot
// change the columns of any table: which table it names and what kind of
// statement it is. It is decided from the statement's words alone, before
// and independently of the full parse, so that a statement the parser
// cannot read never stops the pipeline when it could not have changed how
// rows decode (issue 17).
type Neutral struct {
	// Table is the table the statement names (zero when it names none, for
	// example ALTER TABLE without a database selected).
	Table TableID
	// Kind names the statement for logs and metrics: "index", "constraint",
	// "partition", "table_options", "maintenance", "database_options" (then
	// Table names only the database).
	Kind string
	// AddsUnique is set when a UNIQUE index is added, and DropsIndexes lists
	// the indexes dropped: either may change the key Debezium derives for a
	// table without a primary key (its first UNIQUE index of NOT NULL
	// columns), so the tracker treats them as neutral only when the table
	// has a primary key or none of the dropped indexes is unique.
	AddsUnique   bool
	DropsIndexes []string
}

// ClassifyNeutral reports whether sql, run with default database db, cannot
// change any table's columns (names, types, order, nullability, character
// sets, defaults or primary key): index and key changes (including SPATIAL,
// FULLTEXT, DESC and functional key parts), constraints and foreign keys,
// partition maintenance, table options other than the default character
// set, and no-op rebuilds. Statements that define no table at all (views,
// routines, users, ...) are handled before parsing by classify and are not
// reported here. It never panics and reads only words.
func ClassifyNeutral(sql, db string) (Neutral, bool) {
	toks := sigTokens(stripSetStatement(sql), 0)
	if len(toks) < 2 {
		return Neutral{}, false
	}
	up := func(i int) string {
		if i < len(toks) {
			return strings.ToUpper(toks[i])
		}
		return ""
	}
	i := 0
	if up(0) == "ALTER" && (up(1) == "DATABASE" || up(1) == "SCHEMA") {
		// ALTER DATABASE [name] COMMENT [=] 'x': a comment only.
		i = 2
		n := Neutral{Table: TableID{DB: db}, Kind: "database_options"}
		if up(i) != "COMMENT" && i < len(toks) && isIdentToken(toks[i]) {
			n.Table.DB = unquote(toks[i])
			i++
		}
		seen := false
		for i < len(toks) {
			if up(i) != "COMMENT" {
				return Neutral{}, false
			}
			i++
			if i < len(toks) && toks[i] == "=" {
				i++
			}
			if i >= len(toks) || len(toks[i]) < 2 || (toks[i][0] != '\'' && toks[i][0] != '"') {
				return Neutral{}, false
			}
			i++
			seen = true
		}
		return n, seen && n.Table.DB != ""
	}
	switch up(0) {
	case "ALTER":
		i = 1
		for up(i) == "ONLINE" || up(i) == "OFFLINE" || up(i) == "IGNORE" {
			i++
		}
		if up(i) != "TABLE" {
			return Neutral{}, false
		}
		i++
		if up(i) == "IF" && up(i+1) == "EXISTS" {
			i += 2
		}
		id, next, ok := tableName(toks, i, db)
		if !ok {
			return Neutral{}, false
		}
		i = next
		if up(i) == "WAIT" && i+1 < len(toks) && isNumber(toks[i+1]) {
			i += 2
		} else if up(i) == "NOWAIT" {
			i++
		}
		n := Neutral{Table: id, Kind: "maintenance"}
		specs := splitSpecs(toks[i:])
		for k, sp := range specs {
			if k > 0 && len(sp) == 1 && isIdentToken(sp[0]) && n.Kind == "partition" {
				continue // DROP PARTITION p0, p1: the list goes on
			}
			kind, uniq, drop, ok := specNeutral(sp)
			if !ok {
				return Neutral{}, false
			}
			if k == 0 || n.Kind == "maintenance" {
				n.Kind = kind
			}
			n.AddsUnique = n.AddsUnique || uniq
			if drop != "" {
				n.DropsIndexes = append(n.DropsIndexes, drop)
			}
		}
		return n, true
	case "CREATE":
		i = 1
		if up(i) == "OR" && up(i+1) == "REPLACE" {
			i += 2
		}
		for up(i) == "ONLINE" || up(i) == "OFFLINE" {
			i++
		}
		uniq := false
		switch up(i) {
		case "UNIQUE":
			uniq = true
			i++
		case "FULLTEXT", "SPATIAL", "VECTOR":
			i++
		}
		if up(i) != "INDEX" && up(i) != "KEY" {
			return Neutral{}, false
		}
		i++
		if up(i) == "IF" && up(i+1) == "NOT" && up(i+2) == "EXISTS" {
			i += 3
		}
		if i >= len(toks) || !isIdentToken(toks[i]) {
			return Neutral{}, false
		}
		name := unquote(toks[i])
		for i < len(toks) && up(i) != "ON" {
			i++
		}
		id, _, ok := tableName(toks, i+1, db)
		if !ok || strings.EqualFold(name, "PRIMARY") {
			return Neutral{}, false
		}
		n := Neutral{Table: id, Kind: "index", AddsUnique: uniq}
		if toks[1] == "OR" || strings.EqualFold(toks[1], "OR") {
			n.DropsIndexes = []string{name} // OR REPLACE drops an index of that name first
		}
		return n, true
	case "DROP":
		i = 1
		for up(i) == "ONLINE" || up(i) == "OFFLINE" {
			i++
		}
		if up(i) != "INDEX" && up(i) != "KEY" {
			return Neutral{}, false
		}
		i++
		if up(i) == "IF" && up(i+1) == "EXISTS" {
			i += 2
		}
		if i >= len(toks) || !isIdentToken(toks[i]) {
			return Neutral{}, false
		}
		name := unquote(toks[i])
		if strings.EqualFold(name, "PRIMARY") || up(i+1) != "ON" {
			return Neutral{}, false
		}
		id, _, ok := tableName(toks, i+2, db)
		if !ok {
			return Neutral{}, false
		}
		return Neutral{Table: id, Kind: "index", DropsIndexes: []string{name}}, true
	}
	return Neutral{}, false
}

// neutralTableOptions are the table options that change neither columns nor
// the table's default character set (MySQL 8 and MariaDB create_table_option).
var neutralTableOptions = map[string]bool{
	"ENGINE": true, "TYPE": true, "AUTO_INCREMENT": true, "AVG_ROW_LENGTH": true, "CHECKSUM": true,
	"TABLE_CHECKSUM": true, "PAGE_CHECKSUM": true, "COMMENT": true, "COMPRESSION": true, "CONNECTION": true,
	"DATA": true, "INDEX": true, "DELAY_KEY_WRITE": true, "ENCRYPTION": true, "INSERT_METHOD": true,
	"KEY_BLOCK_SIZE": true, "MAX_ROWS": true, "MIN_ROWS": true, "PACK_KEYS": true, "PASSWORD": true,
	"ROW_FORMAT": true, "STATS_AUTO_RECALC": true, "STATS_PERSISTENT": true, "STATS_SAMPLE_PAGES": true,
	"TABLESPACE": true, "UNION": true, "SECONDARY_ENGINE": true, "SECONDARY_ENGINE_ATTRIBUTE": true,
	"ENGINE_ATTRIBUTE": true, "AUTOEXTEND_SIZE": true, "STORAGE": true, "START": true,
}

// specNeutral classifies one ALTER TABLE specification (its significant
// tokens). It returns the kind, whether it adds a UNIQUE index, the name of
// an index it drops, and whether it is column-neutral.
func specNeutral(sp []string) (kind string, uniq bool, drop string, ok bool) {
	if len(sp) == 0 {
		return "maintenance", false, "", true
	}
	up := func(i int) string {
		if i < len(sp) {
			return strings.ToUpper(sp[i])
		}
		return ""
	}
	switch up(0) {
	case "ADD":
		i := 1
		if up(i) == "CONSTRAINT" {
			i++
			switch up(i) {
			case "PRIMARY", "UNIQUE", "FOREIGN", "CHECK":
			default:
				if up(i) == "IF" && up(i+1) == "NOT" && up(i+2) == "EXISTS" {
					i += 3
				}
				i++ // the constraint's name
			}
		}
		switch up(i) {
		case "INDEX", "KEY", "FULLTEXT", "SPATIAL", "VECTOR":
			return "index", false, "", true
		case "UNIQUE":
			return "index", true, "", true
		case "FOREIGN", "CHECK":
			return "constraint", false, "", true
		case "PARTITION":
			return "partition", false, "", true
		}
		// ADD PERIOD FOR makes its columns NOT NULL: not neutral.
		return "", false, "", false
	case "DROP":
		switch up(1) {
		case "INDEX", "KEY", "CONSTRAINT":
			i := 2
			if up(i) == "IF" && up(i+1) == "EXISTS" {
				i += 2
			}
			if i >= len(sp) || !isIdentToken(sp[i]) || strings.EqualFold(unquote(sp[i]), "PRIMARY") {
				return "", false, "", false
			}
			k := "index"
			if up(1) == "CONSTRAINT" {
				k = "constraint"
			}
			return k, false, unquote(sp[i]), true
		case "FOREIGN", "CHECK", "PERIOD":
			return "constraint", false, "", true
		case "PARTITION":
			return "partition", false, "", true
		}
		return "", false, "", false
	case "RENAME":
		if up(1) == "INDEX" || up(1) == "KEY" {
			return "index", false, "", true
		}
		return "", false, "", false
	case "ALTER":
		switch up(1) {
		case "INDEX", "KEY":
			return "index", false, "", true
		case "CHECK", "CONSTRAINT":
			return "constraint", false, "", true
		}
		// ALTER [COLUMN] c SET VISIBLE|INVISIBLE (MySQL 8.0.23): invisible
		// columns stay in the row image and in information_schema.
		if n := len(sp); n >= 4 && n <= 5 && up(n-2) == "SET" && (up(n-1) == "VISIBLE" || up(n-1) == "INVISIBLE") {
			return "column_visibility", false, "", true
		}
		return "", false, "", false
	case "ENABLE", "DISABLE":
		if up(1) == "KEYS" {
			return "index", false, "", true
		}
		return "", false, "", false
	case "FORCE":
		return "maintenance", false, "", len(sp) == 1
	case "ORDER":
		return "maintenance", false, "", up(1) == "BY"
	case "DISCARD", "IMPORT":
		if up(1) == "TABLESPACE" {
			return "maintenance", false, "", true
		}
		if up(1) == "PARTITION" {
			return "partition", false, "", true
		}
		return "", false, "", false
	case "ALGORITHM", "LOCK":
		return "maintenance", false, "", len(sp) <= 3
	case "WITH", "WITHOUT":
		return "maintenance", false, "", up(1) == "VALIDATION" && len(sp) == 2
	case "COALESCE", "REORGANIZE", "EXCHANGE", "ANALYZE", "CHECK", "OPTIMIZE", "REBUILD", "REPAIR", "TRUNCATE":
		return "partition", false, "", up(1) == "PARTITION"
	case "REMOVE", "UPGRADE":
		return "partition", false, "", up(1) == "PARTITIONING"
	case "PARTITION":
		// PARTITION BY ...: splitSpecs keeps the rest of the statement in
		// this one spec.
		return "partition", false, "", up(1) == "BY"
	}
	// Table options, space-separated: every option word must be neutral.
	if !neutralTableOptions[up(0)] && !engineOptions[up(0)] {
		return "", false, "", false
	}
	for i := 0; i < len(sp); i++ {
		switch up(i) {
		case "CHARACTER", "CHARSET", "COLLATE", "CONVERT", "ADD", "DROP", "MODIFY", "CHANGE", "RENAME",
			"ALTER", "SEQUENCE", "SYSTEM":
			return "", false, "", false
		}
	}
	return "table_options", false, "", true
}

// splitSpecs splits the tokens after ALTER TABLE name at the commas outside
// parentheses. PARTITION BY (and a partition definition list) runs to the
// end of the statement.
func splitSpecs(toks []string) [][]string {
	var out [][]string
	depth, start := 0, 0
	for i := 0; i < len(toks); i++ {
		switch toks[i] {
		case "(":
			depth++
		case ")":
			depth--
		case ",":
			if depth == 0 {
				out = append(out, toks[start:i])
				start = i + 1
			}
		}
		if depth == 0 && i == start && strings.EqualFold(toks[i], "PARTITION") && i+1 < len(toks) && strings.EqualFold(toks[i+1], "BY") {
			out = append(out, toks[start:])
			return out
		}
	}
	if start < len(toks) {
		out = append(out, toks[start:])
	}
	return out
}

// tableName reads [db.]name at toks[i], resolving an unqualified name
// against db; it returns the index after the name.
func tableName(toks []string, i int, db string) (TableID, int, bool) {
	if i >= len(toks) || !isIdentToken(toks[i]) {
		return TableID{}, i, false
	}
	id := TableID{DB: db, Name: unquote(toks[i])}
	i++
	if i+1 < len(toks) && toks[i] == "." && isIdentToken(toks[i+1]) {
		id = TableID{DB: id.Name, Name: unquote(toks[i+1])}
		i += 2
	}
	return id, i, id.DB != ""
}

// isIdentToken reports whether tok can be an identifier: a word or a
// backquoted name.
func isIdentToken(tok string) bool {
	return tok != "" && (isWordByte(tok[0]) || tok[0] >= 0x80 || tok[0] == '`' && len(tok) >= 2 && tok[len(tok)-1] == '`')
}

// sigTokens returns the significant tokens of sql: no blanks, no plain
// comments; executable comments (/*!NNNNN ... */, /*M!NNNNN ... */) are
// opened and their bodies tokenized. Runs of bytes >= 0x80 (unquoted
// non-ASCII identifiers) join the word they are part of.
func sigTokens(sql string, depth int) []string {
	var out []string
	toks := tokenize(sql)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case strings.TrimSpace(t) == "":
			continue
		case strings.HasPrefix(t, "/*!") || strings.HasPrefix(t, "/*M!"):
			if depth > 4 {
				continue
			}
			j := 3
			if strings.HasPrefix(t, "/*M!") {
				j = 4
			}
			for j < len(t) && t[j] >= '0' && t[j] <= '9' {
				j++
			}
			out = append(out, sigTokens(strings.TrimSuffix(t[j:], "*/"), depth+1)...)
			continue
		case strings.HasPrefix(t, "/*"):
			continue
		case t == "#" || t == "-" && i+1 < len(toks) && toks[i+1] == "-" && i+2 < len(toks) && strings.HasPrefix(toks[i+2], " "):
			// A line comment: skip to the end of the line.
			for i < len(toks) && !strings.Contains(toks[i], "\n") {
				i++
			}
			continue
		case t == ";":
			continue
		}
		if (isWordByte(t[0]) || t[0] >= 0x80) && len(out) > 0 && i > 0 && strings.TrimSpace(toks[i-1]) != "" {
			if p := out[len(out)-1]; p != "" && (isWordByte(p[len(p)-1]) || p[len(p)-1] >= 0x80) && (isWordByte(toks[i-1][len(toks[i-1])-1]) || toks[i-1][len(toks[i-1])-1] >= 0x80) {
				out[len(out)-1] += t
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// NeedsParse reports whether a Query event's statement is table or
// database DDL that the tracker parses; false for what it recognises from
// its first words and passes over without parsing (transaction control,
// views, routines, triggers, users, grants, maintenance, TRUNCATE, ...).
// The DDL corpus counts statements by it.
func NeedsParse(sql string) bool { return classify(sql) == classTable }
