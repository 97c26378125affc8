package schema

import (
	"strings"
)

// DDL is one statement-carrying Query event of the binlog that is not a
// transaction boundary or row change, as the binlog reader hands it over.
type DDL struct {
	// DB is the session's default database (the event's schema, set by USE).
	DB string
	// SQL is the statement text as logged.
	SQL string
	// SQLMode is the Q_SQL_MODE_CODE status variable (MySQL's sql_mode
	// bits); only HasSQLMode tells whether it was present.
	SQLMode    uint64
	HasSQLMode bool
	// CollationServer is the collation id of collation_server from the
	// Q_CHARSET_CODE status variable, 0 when absent: the default charset of a
	// CREATE DATABASE that names none.
	CollationServer uint16
	// Pos names the binlog position for error messages ("file:pos (gtid ...)").
	Pos string
	// File and NextPos locate the end of the event in the binlog ("" and 0
	// when not read from a binlog): the reload fallback checks what follows.
	File    string
	NextPos uint64
	// fromServer marks SHOW CREATE TABLE output read by the tracker itself:
	// if it cannot be applied, reloading from the server is no fallback.
	fromServer bool
}

// ChangeType is the kind of a TableChange, as Debezium's
// TableChanges.TableChangeType spells it.
type ChangeType string

// Table change types.
const (
	ChangeCreate ChangeType = "CREATE"
	ChangeAlter  ChangeType = "ALTER"
	ChangeDrop   ChangeType = "DROP"
)

// TableChange is the effect of a DDL statement on one table: Debezium's
// tableChanges item.
type TableChange struct {
	Type ChangeType
	ID   TableID
	// PreviousID is the old name of a renamed table (zero otherwise).
	PreviousID TableID
	// Def is the table's new definition; for ChangeDrop the last one.
	Def *TableDef
}

// Change is what one DDL statement did to the tracked model: one schema
// history record. Tables is empty for statements that change no table
// (CREATE DATABASE, a DROP TABLE IF EXISTS of nothing).
type Change struct {
	// DB is the database the statement applies to (Debezium's databaseName):
	// the one of its first table, or the session database.
	DB string
	// DDL is the statement text.
	DDL string
	// Tables lists the tables changed, in statement order.
	Tables []TableChange
}

// stmtClass is what Classify makes of a statement.
type stmtClass uint8

const (
	classTable    stmtClass = iota // table or database DDL: parse and apply
	classIgnore                    // no effect on table definitions: skip without parsing
	classDML                       // a row change logged as a statement
	classTxn                       // BEGIN, COMMIT, ROLLBACK, SAVEPOINT, XA
	classTruncate                  // TRUNCATE TABLE
)

// ignoredObjects are the objects of CREATE/ALTER/DROP that define no table
// (RELIABILITY.md §4.1): their DDL is recognised and skipped without parsing.
var ignoredObjects = map[string]bool{
	"FUNCTION": true, "PROCEDURE": true, "TRIGGER": true, "EVENT": true, "VIEW": true,
	"USER": true, "ROLE": true, "SERVER": true, "PACKAGE": true, "SEQUENCE": true,
	"LOGFILE": true, "TABLESPACE": true, "SPATIAL": false, "RESOURCE": true, "AGGREGATE": true,
	"SQL": true, "DEFINER": true, "ALGORITHM": true, "INSTANCE": true, "UNDO": true, "SYNONYM": true,
}

// ignoredFirst are statements that never change a table definition.
var ignoredFirst = map[string]bool{
	"GRANT": true, "REVOKE": true, "SET": true, "FLUSH": true, "ANALYZE": true, "OPTIMIZE": true,
	"REPAIR": true, "CHECK": true, "CHECKSUM": true, "INSTALL": true, "UNINSTALL": true, "RESET": true,
	"PURGE": true, "CHANGE": true, "KILL": true, "LOCK": true, "UNLOCK": true, "HANDLER": true, "DO": true,
	"CALL": true, "SHOW": true, "SELECT": true, "USE": true, "PREPARE": true, "EXECUTE": true,
	"DEALLOCATE": true, "BINLOG": true, "STOP": true, "CACHE": true, "LOAD": false, "SIGNAL": true,
	"SHUTDOWN": true, "HELP": true, "EXPLAIN": true, "DESCRIBE": true, "DESC": true,
}

// Classify tells what a Query event's statement is, looking through comments,
// MySQL and MariaDB executable comments (/*!NNNNN ... */, /*M!NNNNN ... */),
// MariaDB's SET STATEMENT ... FOR and CREATE options (OR REPLACE, DEFINER=,
// ALGORITHM=, SQL SECURITY). Only the words are looked at: nothing is parsed.
func classify(sql string) stmtClass {
	w := words(sql, 8)
	if len(w) == 0 {
		return classIgnore // empty, or MariaDB's "# Dummy event ..."
	}
	// MariaDB: SET STATEMENT var=value[, ...] FOR <statement>.
	if w[0] == "SET" && len(w) > 1 && w[1] == "STATEMENT" {
		if i := indexWord(sql, "FOR"); i >= 0 {
			return classify(sql[i+3:])
		}
		return classIgnore
	}
	switch w[0] {
	case "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "XA", "START":
		return classTxn
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD":
		return classDML
	case "TRUNCATE":
		return classTruncate
	case "RENAME":
		if len(w) > 1 && (w[1] == "TABLE" || w[1] == "TABLES") {
			return classTable
		}
		return classIgnore // RENAME USER
	case "CREATE", "ALTER", "DROP":
		for _, x := range w[1:] {
			switch x {
			case "OR", "REPLACE", "ONLINE", "OFFLINE", "IGNORE", "TEMPORARY", "UNIQUE", "FULLTEXT", "SPATIAL", "GLOBAL", "LOCAL":
				continue
			case "TABLE", "DATABASE", "SCHEMA", "INDEX", "KEY":
				return classTable
			}
			if ignoredObjects[x] {
				return classIgnore
			}
			return classIgnore // e.g. CREATE SYNONYM, ALTER SYSTEM: nothing we model
		}
		return classIgnore
	}
	return classIgnore
}

// words returns up to n leading words of sql in upper case, skipping blanks,
// comments and executable-comment markers. A word is a run of letters,
// digits and underscores; other characters end the scan.
func words(sql string, n int) []string {
	out := make([]string, 0, n)
	s := sql
	for len(out) < n {
		s = skipNoise(s)
		if s == "" {
			break
		}
		j := 0
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		if j == 0 {
			if s[0] == '=' || s[0] == '@' || s[0] == '`' || s[0] == '\'' || s[0] == '"' || s[0] == ',' || s[0] == '.' || s[0] == '%' {
				// DEFINER=`u`@`h`: skip the value.
				s = skipValue(s)
				continue
			}
			break
		}
		out = append(out, strings.ToUpper(s[:j]))
		s = s[j:]
	}
	return out
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$'
}

// skipValue skips one non-word token: a quoted string or identifier, or one byte.
func skipValue(s string) string {
	switch q := s[0]; q {
	case '`', '\'', '"':
		for i := 1; i < len(s); i++ {
			if s[i] == '\\' && q != '`' {
				i++
				continue
			}
			if s[i] == q {
				if i+1 < len(s) && s[i+1] == q {
					i++
					continue
				}
				return s[i+1:]
			}
		}
		return ""
	}
	return s[1:]
}

// skipNoise skips blanks, comments and the opening/closing markers of
// executable comments.
func skipNoise(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n\f;")
		switch {
		case strings.HasPrefix(s, "/*!") || strings.HasPrefix(s, "/*M!"):
			i := 3
			if s[2] == 'M' {
				i = 4
			}
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			s = s[i:]
		case strings.HasPrefix(s, "*/"):
			s = s[2:]
		case strings.HasPrefix(s, "/*"):
			end := strings.Index(s[2:], "*/")
			if end < 0 {
				return ""
			}
			s = s[end+4:]
		case strings.HasPrefix(s, "-- ") || strings.HasPrefix(s, "#"):
			end := strings.IndexByte(s, '\n')
			if end < 0 {
				return ""
			}
			s = s[end+1:]
		default:
			return s
		}
	}
}

// indexWord finds the first occurrence of word w (upper case) as a whole
// word outside quotes, or -1.
func indexWord(s, w string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\'', '"', '`':
			rest := skipValue(s[i:])
			i = len(s) - len(rest) - 1
			continue
		}
		if i+len(w) <= len(s) && strings.EqualFold(s[i:i+len(w)], w) &&
			(i == 0 || !isWordByte(s[i-1])) && (i+len(w) == len(s) || !isWordByte(s[i+len(w)])) {
			return i
		}
	}
	return -1
}
