package schema

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/charset"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // literal values in the AST
)

// ErrUnparseableDDL reports a DDL statement Rivulet could not parse or apply.
var ErrUnparseableDDL = errors.New("unparseable DDL")

// DDLError describes a DDL statement that could not be applied: where it is,
// what it says, and why.
type DDLError struct {
	Pos string
	SQL string
	// Tables are the tables the statement names, as far as its words tell
	// (empty when they could not be found).
	Tables []TableID
	Err    error
}

func (e *DDLError) Error() string {
	return fmt.Sprintf("DDL at %s: %.300q: %v", e.Pos, e.SQL, e.Err)
}

func (e *DDLError) Unwrap() []error { return []error{ErrUnparseableDDL, e.Err} }

// ddlParser wraps the TiDB parser: one instance, never used concurrently
// (Tracker holds its lock while parsing).
type ddlParser struct {
	p *parser.Parser
}

func newDDLParser() *ddlParser {
	p := parser.New()
	p.SetMariaDB(true)
	return &ddlParser{p: p}
}

// sqlModeBits are the sql_mode bits that change how statements parse; the
// binlog's Q_SQL_MODE_CODE uses MySQL's bit numbering, as TiDB does.
const sqlModeBits = mysql.ModeANSIQuotes | mysql.ModeNoBackslashEscapes | mysql.ModeRealAsFloat |
	mysql.ModePipesAsConcat | mysql.ModeIgnoreSpace | mysql.ModeHighNotPrecedence

// parse parses sql after rewriting MariaDB forms the TiDB parser lacks. A
// panic inside the parser becomes an error; so does a statement text that
// parses into nothing. Unknown collations and character sets are registered
// with the parser and the statement parsed again; expression defaults the
// parser does not take are replaced by NULL on a second attempt.
func (dp *ddlParser) parse(sql string, mode uint64, hasMode bool) (stmts []ast.StmtNode, err error) {
	m := mysql.SQLMode(0)
	if hasMode {
		m = mysql.SQLMode(mode) & sqlModeBits
	}
	text := stripSetStatement(sql)
	if m&mysql.ModeANSIQuotes != 0 {
		text = ansiIdents(text, m&mysql.ModeNoBackslashEscapes != 0)
	}
	if hasMode && mode&modeOracle != 0 {
		text = oracleTypes(text)
	}
	if hasMode && mode&modeMaxDB != 0 {
		text = maxdbTypes(text)
	}
	text = rewriteMariaDB(convertPartition(text))
	retriedDefaults := false
	for attempt := 0; attempt < 8; attempt++ {
		stmts, err = dp.parseOnce(text, m)
		if err == nil {
			if len(stmts) == 0 {
				return nil, errors.New("the statement parsed into nothing")
			}
			return stmts, nil
		}
		msg := err.Error()
		switch {
		case strings.Contains(msg, "Unknown collation: '"):
			if !registerCollation(quotedIn(msg, "Unknown collation: '")) {
				return nil, err
			}
		case strings.Contains(msg, "Unknown character set: '"):
			if !registerCharset(quotedIn(msg, "Unknown character set: '")) {
				return nil, err
			}
		case !retriedDefaults:
			retriedDefaults = true
			alt := nullExprDefaults(text)
			if alt == text {
				return nil, err
			}
			if st, err2 := dp.parseOnce(alt, m); err2 == nil && len(st) > 0 {
				return st, nil
			}
			return nil, err
		default:
			return nil, err
		}
	}
	return nil, err
}

func (dp *ddlParser) parseOnce(text string, m mysql.SQLMode) (stmts []ast.StmtNode, err error) {
	defer func() {
		if r := recover(); r != nil {
			stmts, err = nil, fmt.Errorf("parser panic: %v", r)
			dp.p = newDDLParser().p // its state is unknown after a panic
		}
	}()
	registry.RLock()
	defer registry.RUnlock()
	dp.p.SetSQLMode(m)
	stmts, _, err = dp.p.ParseSQL(text)
	return stmts, err
}

// registry guards the parser's global charset and collation tables, which
// registerCollation extends.
var registry sync.RWMutex

var nextCollationID = 4000

func quotedIn(msg, prefix string) string {
	i := strings.Index(msg, prefix)
	rest := msg[i+len(prefix):]
	if j := strings.IndexByte(rest, '\''); j >= 0 {
		return rest[:j]
	}
	return rest
}

// registerCollation teaches the parser a collation it lacks (MariaDB's
// uca1400 family, MySQL's language-specific ones, ...), under the character
// set its name starts with. It reports whether it could.
func registerCollation(name string) bool {
	name = strings.ToLower(name)
	cs := charsetOfCollation(name)
	if name == "" || cs == "" {
		return false
	}
	if !registerCharset(cs) {
		return false
	}
	registry.Lock()
	defer registry.Unlock()
	if _, err := charset.GetCollationByName(name); err == nil {
		return true
	}
	nextCollationID++
	charset.AddCollation(&charset.Collation{ID: nextCollationID, CharsetName: cs, Name: name, Sortlen: 1, PadAttribute: charset.PadSpace})
	return true
}

// registerCharset teaches the parser a character set it lacks (cp1251,
// koi8r, ...), with a binary collation. It reports whether it could.
func registerCharset(name string) bool {
	name = strings.ToLower(name)
	if name == "" || !isWord(name) {
		return false
	}
	registry.Lock()
	defer registry.Unlock()
	if _, err := charset.GetCharsetInfo(name); err == nil {
		return true
	}
	nextCollationID++
	bin := &charset.Collation{ID: nextCollationID, CharsetName: name, Name: name + "_bin", IsDefault: true, Sortlen: 1, PadAttribute: charset.PadSpace}
	charset.AddCharset(&charset.Charset{Name: name, DefaultCollation: bin.Name, Collations: map[string]*charset.Collation{}, Desc: name, Maxlen: maxLen(name)})
	charset.AddCollation(bin)
	return true
}

func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

// nullExprDefaults replaces DEFAULT (expression) by DEFAULT NULL: the
// default does not change how rows decode.
func nullExprDefaults(text string) string {
	toks := tokenize(text)
	var b strings.Builder
	for i := 0; i < len(toks); i++ {
		b.WriteString(toks[i])
		if !strings.EqualFold(toks[i], "DEFAULT") {
			continue
		}
		j := i + 1
		for j < len(toks) && strings.TrimSpace(toks[j]) == "" {
			b.WriteString(toks[j])
			j++
		}
		call := j+1 < len(toks) && toks[j+1] == "(" && isWordByte(toks[j][0]) && !temporalDefaults[strings.ToUpper(toks[j])]
		if call {
			j++ // DEFAULT f(...) without parentheses around it (MariaDB): the call is the expression
		}
		if j < len(toks) && toks[j] == "(" {
			depth := 0
			for ; j < len(toks); j++ {
				if toks[j] == "(" {
					depth++
				} else if toks[j] == ")" {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			b.WriteString("NULL")
			i = j
		} else {
			i = j - 1
		}
	}
	return b.String()
}

// stripSetStatement removes MariaDB's "SET STATEMENT var=value, ... FOR "
// prefix.
func stripSetStatement(sql string) string {
	w := words(sql, 2)
	if len(w) == 2 && w[0] == "SET" && w[1] == "STATEMENT" {
		if i := indexWord(sql, "FOR"); i >= 0 {
			return sql[i+3:]
		}
	}
	return sql
}

// modeOracle is MariaDB's sql_mode=ORACLE bit in Q_SQL_MODE_CODE.
const modeOracle = 1 << 9

// oracleTypes rewrites the data types sql_mode=ORACLE gives other meanings
// (suite/compat/oracle type_*.test, as SHOW CREATE TABLE prints them):
// VARCHAR2 is VARCHAR, NUMBER(p,s) DECIMAL and NUMBER DOUBLE, RAW
// VARBINARY, CLOB LONGTEXT, BLOB without a length LONGBLOB, DATE DATETIME,
// and BYTE after a string type's length CHARACTER SET binary.
func oracleTypes(sql string) string {
	toks := tokenize(sql)
	var b strings.Builder
	b.Grow(len(sql) + 16)
	for i, t := range toks {
		up := strings.ToUpper(t)
		if isTypePosition(toks, i) {
			next := nextWord(toks, i, up)
			switch up {
			case "VARCHAR2":
				t = "VARCHAR"
			case "NUMBER":
				t = "DOUBLE"
				if next == "(" {
					t = "DECIMAL"
				}
			case "RAW":
				t = "VARBINARY"
			case "CLOB":
				t = "LONGTEXT"
			case "BLOB":
				if next != "(" {
					t = "LONGBLOB"
				}
			case "DATE":
				t = "DATETIME"
			}
		} else if up == "BYTE" && i > 0 && prevSig(toks, i) == ")" {
			t = "CHARACTER SET binary"
		}
		b.WriteString(t)
	}
	return b.String()
}

// isTypeAttrPosition reports whether token i is inside a column definition
// (a type word is among the few words before it).
func isTypeAttrPosition(toks []string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && n < 8; j-- {
		s := strings.ToLower(strings.TrimSpace(toks[j]))
		if s == "" {
			continue
		}
		n++
		if _, ok := dataTypes[s]; ok || columnTypeAliases[s] || s == "varchar2" {
			return true
		}
		if s == "," {
			return false
		}
	}
	return false
}

// modeMaxDB is MariaDB's sql_mode=MAXDB bit in Q_SQL_MODE_CODE.
const modeMaxDB = 1 << 12

// maxdbTypes rewrites TIMESTAMP to DATETIME, as sql_mode=MAXDB makes the
// server do (main/type_timestamp, bug #7418).
func maxdbTypes(sql string) string {
	toks := tokenize(sql)
	var b strings.Builder
	b.Grow(len(sql) + 8)
	for i, t := range toks {
		if strings.EqualFold(t, "TIMESTAMP") && isTypePosition(toks, i) {
			t = "DATETIME"
		}
		b.WriteString(t)
	}
	return b.String()
}

// prevSig returns the significant token before i, upper case.
func prevSig(toks []string, i int) string {
	for j := i - 1; j >= 0; j-- {
		if s := strings.TrimSpace(toks[j]); s != "" && !strings.HasPrefix(s, "/*") {
			return strings.ToUpper(s)
		}
	}
	return ""
}

// convertPartition rewrites MariaDB 10.7's partition conversions into the
// statements with the same effect on table definitions: ALTER TABLE t
// CONVERT PARTITION p TO TABLE t2 makes t2 a table with t's columns and
// keys (CREATE TABLE t2 LIKE t; t itself keeps its columns), and ALTER
// TABLE t CONVERT TABLE t2 TO PARTITION ... moves t2's rows into t and t2
// is gone (DROP TABLE t2). Any other statement is returned as it is.
func convertPartition(sql string) string {
	toks := sigTokens(sql, 0)
	up := func(i int) string {
		if i < len(toks) {
			return strings.ToUpper(toks[i])
		}
		return ""
	}
	if up(0) != "ALTER" {
		return sql
	}
	i := 1
	for up(i) == "ONLINE" || up(i) == "IGNORE" {
		i++
	}
	if up(i) != "TABLE" {
		return sql
	}
	i++
	if up(i) == "IF" && up(i+1) == "EXISTS" {
		i += 2
	}
	name := func(i int) (string, int, bool) {
		_, next, ok := tableName(toks, i, "-")
		if !ok {
			return "", i, false
		}
		return strings.Join(toks[i:next], ""), next, true
	}
	src, i, ok := name(i)
	if !ok {
		return sql
	}
	if up(i) == "WAIT" && i+1 < len(toks) && isNumber(toks[i+1]) {
		i += 2
	} else if up(i) == "NOWAIT" {
		i++
	}
	if up(i) != "CONVERT" {
		return sql
	}
	switch up(i + 1) {
	case "PARTITION":
		// CONVERT PARTITION p TO TABLE t2
		if i+2 >= len(toks) || !isIdentToken(toks[i+2]) || up(i+3) != "TO" || up(i+4) != "TABLE" {
			return sql
		}
		dst, next, ok := name(i + 5)
		if !ok || next != len(toks) {
			return sql
		}
		return "CREATE TABLE " + dst + " LIKE " + src
	case "TABLE":
		// CONVERT TABLE t2 TO PARTITION p VALUES ... [WITH|WITHOUT VALIDATION]
		dst, next, ok := name(i + 2)
		if !ok || up(next) != "TO" || up(next+1) != "PARTITION" {
			return sql
		}
		return "DROP TABLE " + dst
	}
	return sql
}

// rewriteMariaDB turns MariaDB syntax the TiDB parser does not know into
// equivalents, token by token (never inside quotes): executable comments
// /*M!NNNNN ... */ are opened, ALTER ONLINE/IGNORE lose the keyword,
// WAIT n / NOWAIT after the table name are dropped, and column attributes
// without effect on the row format (INVISIBLE, COMPRESSED, PERSISTENT as
// STORED) are dropped or translated.
func rewriteMariaDB(sql string) string {
	var b strings.Builder
	b.Grow(len(sql))
	toks := tokenize(sql)
	// CREATE|ALTER DATABASE|SCHEMA ... COMMENT 'x' (MariaDB 10.5): the
	// comment changes no table; the parser lacks it.
	dbStmt := (wordAt(toks, 0, 1) == "CREATE" || wordAt(toks, 0, 1) == "ALTER") &&
		(wordAt(toks, 0, 2) == "DATABASE" || wordAt(toks, 0, 2) == "SCHEMA")
	periods := periodsOf(toks)
	alterTable := wordAt(toks, 0, 1) == "ALTER" && indexWord(sql, "TABLE") >= 0 && !dbStmt
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		up := strings.ToUpper(t)
		if dbStmt && up == "COMMENT" {
			j := i + 1
			for j < len(toks) && (strings.TrimSpace(toks[j]) == "" || toks[j] == "=") {
				j++
			}
			if j < len(toks) && len(toks[j]) >= 2 && (toks[j][0] == '\'' || toks[j][0] == '"') {
				b.WriteString(dbNoopOption)
				i = j
				continue
			}
		}
		if up == "DEFAULT" || up == "CHARSET" || up == "CHARACTER" || up == "COLLATE" {
			// [DEFAULT] CHARACTER SET DEFAULT, COLLATE DEFAULT, COLLATE
			// uca1400_ai_ci (MariaDB 10.9+, a collation of no one character
			// set), for a database, a table or a column: the default they
			// inherit, which is what leaving the clause out gives (the
			// collation is not part of the model). A database keeps an
			// option in its place: ALTER DATABASE needs one.
			k := i
			if up == "DEFAULT" {
				k = skipWords(toks, i, 2)
			}
			if end := dbDefaultClause(toks, k); end > 0 && !convertToDefault(toks, i) && !(up == "DEFAULT" && afterCharsetWords(toks, i)) {
				switch {
				case dbStmt:
					b.WriteString(dbNoopOption)
				case alterTable && up != "COLLATE" && alterSpecStart(toks, i):
					// ALTER TABLE t ..., CHARACTER SET DEFAULT: the table's
					// default becomes the database's (tableOptions).
					b.WriteString(" CHARACTER SET " + dbDefaultCharset + " ")
				default:
					b.WriteString(" ")
				}
				i = end
				continue
			}
		}
		prevWord := func(k int) string {
			for j := i - 1; j >= 0; j-- {
				if s := strings.TrimSpace(toks[j]); s != "" {
					k--
					if k == 0 {
						return strings.ToUpper(s)
					}
				}
			}
			return ""
		}
		if tidbReserved[up] && columnNamePosition(toks, i, prevWord(1), prevWord(2)) {
			// A column named by a word the TiDB parser reserves and
			// MariaDB does not (generated, rank, of, nowait, ...).
			b.WriteString("`" + t + "`")
			continue
		}
		switch {
		case strings.HasPrefix(t, "/*M!"):
			j := 4
			for j < len(t) && t[j] >= '0' && t[j] <= '9' {
				j++
			}
			body := strings.TrimSuffix(t[j:], "*/")
			b.WriteString(" " + rewriteMariaDB(body) + " ")
			continue
		case (up == "ONLINE" || up == "IGNORE") && prevWord(1) == "ALTER":
			continue
		case up == "NOWAIT":
			continue
		case up == "NOCOPY" && (prevWord(1) == "ALGORITHM" || prevWord(1) == "=" && prevWord(2) == "ALGORITHM"):
			// MariaDB ALGORITHM=NOCOPY: how the server rebuilds, not what.
			b.WriteString("INPLACE")
			continue
		case up == "IF" && prevWord(1) == "COLUMN" && prevWord(2) == "RENAME" && nextWord(toks, i, up) == "EXISTS":
			// MariaDB RENAME COLUMN IF EXISTS: the applier treats a column
			// it does not hold as the server did (renameIfExists).
			i = skipWords(toks, i, 2)
			continue
		case up == "SRID" && i+2 < len(toks) && isNumber(strings.TrimSpace(toks[i+2])):
			i += 2 // MySQL 8 spatial reference of a column: no effect on the row image
			continue
		case up == "TABLES" && prevWord(1) == "RENAME":
			b.WriteString("TABLE")
			continue
		case up == "WAIT" && i+2 < len(toks) && isNumber(strings.TrimSpace(toks[i+2])):
			i += 2
			continue
		case up == "INVISIBLE" && !inIndexContext(toks, i):
			continue
		case up == "SPATIAL" && prevWord(1) != "CREATE" && prevWord(1) != "OR" && prevWord(1) != "ONLINE" && prevWord(1) != "OFFLINE":
			// SPATIAL [INDEX|KEY] in a table definition: an index like any
			// other for the model (the parser lacks the keyword there).
			if n := nextWord(toks, i, up); n == "INDEX" || n == "KEY" {
				i = skipWords(toks, i, 2) - 1
				continue
			}
			b.WriteString("INDEX")
			continue
		case up == "IGNORED" && prevWord(1) == "NOT":
			// MariaDB 10.6 NOT IGNORED index: visibility, which the parser
			// knows as VISIBLE ("NOT" was already written: drop it below).
			b.WriteString("VISIBLE")
			continue
		case up == "NOT" && nextWord(toks, i, up) == "IGNORED":
			continue
		case up == "IGNORED" && !ignoredIsName[prevWord(1)] && !ignoredIsName["+"+nextWord(toks, i, up)]:
			// (IGNORED as a name, CREATE TABLE IGNORED(a INT), stays.)
			b.WriteString("INVISIBLE")
			continue
		case up == "IF" && prevWord(1) == "TABLE" && prevWord(2) == "ALTER" && nextWord(toks, i, up) == "EXISTS":
			// MariaDB ALTER TABLE IF EXISTS: the applier treats a table it
			// does not hold as the server did (no change).
			i = skipWords(toks, i, 2)
			continue
		case up == "COMPRESSED" && prevWord(1) != "=" && prevWord(1) != "ROW_FORMAT":
			continue
		case (up == "MARIADB_SCHEMA" || up == "ORACLE_SCHEMA" || up == "MAXDB_SCHEMA") && i+2 < len(toks) && toks[i+1] == "." && isTypePosition(toks, i):
			// A data type qualified by its SQL mode's schema (MariaDB
			// 10.3.21+): oracle_schema.DATE is DATETIME, the others the
			// type itself (suite/compat/oracle type_date).
			if up == "ORACLE_SCHEMA" && strings.EqualFold(toks[i+2], "DATE") {
				b.WriteString("DATETIME")
			} else {
				b.WriteString(toks[i+2])
			}
			i += 2
			continue
		case up == "BYTE" && (prevWord(1) == ")" || prevWord(1) == "COMPRESSED") && isTypeAttrPosition(toks, i):
			// VARCHAR(10) BYTE: the binary character set.
			b.WriteString("CHARACTER SET binary")
			continue
		case (up == "ASCII" || up == "UNICODE") && (stringTypeWords[prevWord(1)] || prevWord(1) == "COMPRESSED") && nextWord(toks, i, up) != "(":
			// CHAR ASCII, VARCHAR(n) UNICODE: the server's shorthands for
			// CHARACTER SET latin1 and ucs2, which the parser lacks.
			if up == "ASCII" {
				b.WriteString("CHARACTER SET latin1")
			} else {
				b.WriteString("CHARACTER SET ucs2")
			}
			continue
		case up == "PERSISTENT":
			b.WriteString("STORED")
			continue
		case up == "OR" && prevWord(1) == "CREATE" && nextWord(toks, i, up) == "REPLACE" &&
			(wordAt(toks, i, 3) == "DATABASE" || wordAt(toks, i, 3) == "SCHEMA"):
			// CREATE OR REPLACE DATABASE: the applier drops the old
			// database's tables (orReplaceDatabase).
			i = skipWords(toks, i, 2)
			continue
		case up == "OR" && prevWord(1) == "CREATE" && nextWord(toks, i, up) == "REPLACE" && nextWord(toks, skipWords(toks, i, 2), "") == "TABLE":
			// CREATE OR REPLACE TABLE replaces the definition, which CREATE
			// TABLE does in the model anyway.
			i = skipWords(toks, i, 2)
			continue
		case up == "NATIONAL" || up == "NCHAR" || up == "NVARCHAR":
			// National character types are utf8mb3 on MySQL and MariaDB.
			j := i
			if up == "NATIONAL" {
				j = skipWords(toks, i, 2)
			}
			for n := nextWord(toks, j, ""); n == "VARYING" || n == "CHARACTER" || n == "CHAR" || n == "VARCHAR"; n = nextWord(toks, j, "") {
				j = skipWords(toks, j, 2)
			}
			word := strings.ToUpper(strings.TrimSpace(toks[j]))
			typ := "CHAR"
			if up == "NVARCHAR" || word == "VARCHAR" || word == "VARYING" || strings.Contains(strings.ToUpper(strings.Join(toks[i:j+1], "")), "VARYING") {
				typ = "VARCHAR"
			}
			b.WriteString(typ)
			if nextWord(toks, j, "") == "(" {
				k := skipWords(toks, j, 2)
				for ; k < len(toks) && toks[k] != ")"; k++ {
					b.WriteString(toks[k])
				}
				if k < len(toks) {
					b.WriteString(")")
				}
				j = k
			}
			b.WriteString(" CHARACTER SET utf8")
			i = j
			continue
		case engineOptions[up] && nextWord(toks, i, up) == "=":
			// Engine-specific table options (MariaDB encryption, page
			// compression, CONNECT, Spider, ...) do not change columns.
			i = skipWords(toks, i, 3)
			continue
		case up == "GENERATED" && wordAt(toks, i, 2) == "ALWAYS" && wordAt(toks, i, 3) == "AS" && wordAt(toks, i, 4) == "ROW" &&
			(wordAt(toks, i, 5) == "START" || wordAt(toks, i, 5) == "END"):
			// An explicit system-time period column: a TIMESTAMP(6) or
			// BIGINT UNSIGNED in every row image like any other column.
			m := periodMarker
			if wordAt(toks, i, 5) == "END" {
				m = periodEndMarker
			}
			i = skipWords(toks, i, 5)
			b.WriteString(" COMMENT '" + m + "' ")
			continue
		case up == "AS" && wordAt(toks, i, 2) == "ROW" && (wordAt(toks, i, 3) == "START" || wordAt(toks, i, 3) == "END"):
			m := periodMarker
			if wordAt(toks, i, 3) == "END" {
				m = periodEndMarker
			}
			i = skipWords(toks, i, 3)
			b.WriteString(" COMMENT '" + m + "' ")
			continue
		case up == "DROP" && nextWord(toks, i, up) == "PERIOD":
			// ALTER TABLE ... DROP PERIOD [IF EXISTS] FOR name: the columns
			// stay as they are; a spec without effect takes its place.
			j := skipWords(toks, i, 2)
			if nextWord(toks, j, "") == "IF" {
				j = skipWords(toks, j, 3)
			}
			i = skipWords(toks, j, 3) // FOR name
			b.WriteString(" ALGORITHM=DEFAULT ")
			continue
		case up == "PERIOD" && periodFor(toks, i) > 0 && (prevWord(1) == "," || prevWord(1) == "ADD"):
			// PERIOD [IF NOT EXISTS] FOR name (start, end) in a table
			// definition: no column of its own, but the server makes both
			// columns NOT NULL. A marker index on them takes its place (the
			// comma before it is written already); addConstraint turns it back.
			j := skipWords(toks, i, periodFor(toks, i)+1) // the period's name
			k := j + 1
			for k < len(toks) && toks[k] != "(" {
				k++
			}
			m := k + 1
			for m < len(toks) && toks[m] != ")" {
				m++
			}
			if k >= len(toks) || m >= len(toks) {
				break
			}
			b.WriteString(" INDEX " + periodIndex + " " + strings.Join(toks[k:m+1], ""))
			i = m
			continue
		case isIdentToken(t) && nextWord(toks, i, up) == "WITHOUT" && wordAt(toks, i, 3) == "OVERLAPS" && periods[strings.ToLower(unquote(t))] != nil:
			// A key part "p WITHOUT OVERLAPS" (MariaDB 10.5 application-time
			// period p of this statement): the key holds the period's end
			// and start columns, in that order (information_schema).
			pc := periods[strings.ToLower(unquote(t))]
			b.WriteString(pc[1] + ", " + pc[0])
			i = skipWords(toks, i, 3)
			continue
		case up == "ADD" && nextWord(toks, i, up) == "SYSTEM" && wordAt(toks, i, 3) == "VERSIONING":
			// ALTER TABLE ... ADD SYSTEM VERSIONING: the table option
			// (the applier adds row_start and row_end unless the table has
			// period columns).
			i = skipWords(toks, i, 3)
			b.WriteString(" COMMENT '" + versionedMarker + "' ")
			continue
		case up == "DROP" && nextWord(toks, i, up) == "SYSTEM" && wordAt(toks, i, 3) == "VERSIONING":
			// ALTER TABLE ... DROP SYSTEM VERSIONING: the applier drops the
			// implicit row_start and row_end (explicit period columns need
			// their own DROP COLUMN, or the server refuses the statement).
			i = skipWords(toks, i, 3)
			b.WriteString(" COMMENT '" + unversionedMarker + "' ")
			continue
		case (up == "WITH" || up == "WITHOUT") && nextWord(toks, i, up) == "SYSTEM":
			// WITH SYSTEM VERSIONING as a table option: the hidden row_start
			// and row_end columns are added by the applier (see versioned).
			i = skipWords(toks, i, 3)
			if up == "WITH" {
				b.WriteString(" COMMENT '" + versionedMarker + "' ")
			}
			continue
		case (prevWord(1) == "(" || prevWord(1) == ",") && nextWord(toks, i, up) == "VALUES" && isIdentToken(t) && up != "PARTITION" && up != "SUBPARTITION":
			// MariaDB lets a partition definition leave out PARTITION
			// ("p1 VALUES LESS THAN (10)").
			b.WriteString("PARTITION " + t)
			continue
		case (up == "ENUM" || up == "SET") && nextWord(toks, i, up) == "(":
			// ENUM/SET values: the parser trims their trailing spaces, which
			// the server keeps for a binary column. They travel as
			// trailingSpace bytes; buildDefColumn decides.
			b.WriteString(t)
			depth := 0
			for i++; i < len(toks); i++ {
				x := toks[i]
				switch {
				case x == "(":
					depth++
				case x == ")":
					depth--
				case len(x) >= 2 && x[0] == '\'' && x[len(x)-1] == '\'':
					body := x[1 : len(x)-1]
					n := len(body) - len(strings.TrimRight(body, " "))
					if n > 0 {
						x = "'" + body[:len(body)-n] + strings.Repeat(string(trailingSpace), n) + "'"
					}
				}
				b.WriteString(x)
				if depth == 0 && x == ")" {
					break
				}
			}
			continue
		case markerTypes[up] != 0 && isTypePosition(toks, i):
			b.WriteString(fmt.Sprintf("VECTOR(%d)", markerTypes[up]))
			continue
		}
		b.WriteString(t)
	}
	return b.String()
}

// engineOptions are table options of storage engines the TiDB parser does
// not know, dropped before parsing (RELIABILITY.md §4.5).
var engineOptions = map[string]bool{
	"ENCRYPTED": true, "ENCRYPTION_KEY_ID": true, "PAGE_COMPRESSED": true, "PAGE_COMPRESSION_LEVEL": true,
	"IETF_QUOTES": true, "TRANSACTIONAL": true, "PAGE_CHECKSUM": true, "TABLE_CHECKSUM": true,
	"SEQUENCE": true, "WITH_SYSTEM_VERSIONING": true, "TABLE_TYPE": true, "FILE_NAME": true, "HUGE": true,
	"READONLY": true, "MAPPED": true, "DATA_CHARSET": true, "SPIDER": true, "CONNECTION_STRING": true,
	"ORIGIN": true, "LATID": true, "DESTID": true, "WEIGHT": true, "BLOCK_SIZE": true, "CLUSTERING": true,
}

// versionedMarker stands for WITH SYSTEM VERSIONING in a rewritten table
// comment, periodMarker for GENERATED ALWAYS AS ROW START (periodEndMarker
// for ROW END) in a rewritten column comment, unversionedMarker for ALTER TABLE ... DROP
// SYSTEM VERSIONING.
const (
	versionedMarker   = "rivulet:system-versioned"
	unversionedMarker = "rivulet:not-system-versioned"
	periodMarker      = "rivulet:period-column"
	periodEndMarker   = "rivulet:period-end-column"
	periodIndex       = "rivulet_period_for"
)

// trailingSpace stands for a trailing space of an ENUM/SET value in the
// rewritten statement.
const trailingSpace = '\x1f'

// tidbReserved are words the TiDB parser reserves, or the rewrites take as
// attributes, that MariaDB takes as column names without quotes (MariaDB's
// own reserved words cannot be column names in a statement the server ran).
var tidbReserved = map[string]bool{
	"GENERATED": true, "RANK": true, "DENSE_RANK": true, "ROW_NUMBER": true, "CUME_DIST": true, "PERCENT_RANK": true,
	"NTILE": true, "LEAD": true, "LAG": true, "FIRST_VALUE": true, "LAST_VALUE": true, "NTH_VALUE": true,
	"OF": true, "NOWAIT": true, "WINDOW": true, "GROUPS": true, "STORED": true, "VIRTUAL": true, "ARRAY": true,
	"LATERAL": true, "TABLESAMPLE": true, "UNTIL": true, "ILIKE": true, "ROW": true, "TIDB_CURRENT_TSO": true,
	// words the rewrites below would take as attributes (main/distinct's
	// "invisible smallint(6)")
	"INVISIBLE": true, "PERSISTENT": true, "COMPRESSED": true, "IGNORED": true,
}

// columnNamePosition reports whether token i names a column being defined:
// it follows "(", ",", ADD, COLUMN, MODIFY, CHANGE or IF [NOT] EXISTS and a
// column type follows it (for CHANGE, the new name and then the type); or
// it names one after DROP [COLUMN] or AFTER.
func columnNamePosition(toks []string, i int, prev, prev2 string) bool {
	isType := func(w string) bool {
		w = strings.ToLower(w)
		_, ok := dataTypes[w]
		return ok || columnTypeAliases[w]
	}
	if prev == "DROP" || prev == "AFTER" || prev == "COLUMN" && prev2 == "DROP" {
		return true // DROP [COLUMN] rank, AFTER rank
	}
	switch prev {
	case "(", ",", "ADD", "COLUMN", "MODIFY", "CHANGE", "EXISTS":
		if isType(wordAt(toks, i, 2)) {
			return true
		}
		return (prev == "CHANGE" || prev == "COLUMN" && prev2 == "CHANGE" || prev == "EXISTS") && isType(wordAt(toks, i, 3))
	}
	// CHANGE [COLUMN] old new type: the new name.
	return (prev2 == "CHANGE" || prev2 == "COLUMN") && isType(wordAt(toks, i, 2))
}

// columnTypeAliases are type words beyond dataTypes' names.
var columnTypeAliases = map[string]bool{
	"integer": true, "bool": true, "boolean": true, "int1": true, "int2": true, "int3": true, "int4": true,
	"int8": true, "middleint": true, "serial": true, "float4": true, "float8": true, "dec": true, "fixed": true,
	"nchar": true, "nvarchar": true, "national": true, "character": true, "long": true, "clob": true,
	"varchar2": true, "number": true, "raw": true, "blob": true,
}

// wordAt is the n-th word from token i (i's own word is the first), upper
// case; "" past the end.
func wordAt(toks []string, i, n int) string {
	for j := i; j < len(toks); j++ {
		if s := strings.TrimSpace(toks[j]); s != "" && !strings.HasPrefix(s, "/*") {
			n--
			if n == 0 {
				return strings.ToUpper(s)
			}
		}
	}
	return ""
}

// markerTypes are column types the TiDB parser lacks; they are rewritten to
// VECTOR(n) with n from this table and turned back by buildDefColumn.
var markerTypes = map[string]int{
	"GEOMETRY": 60001, "POINT": 60002, "LINESTRING": 60003, "POLYGON": 60004, "MULTIPOINT": 60005,
	"MULTILINESTRING": 60006, "MULTIPOLYGON": 60007, "GEOMETRYCOLLECTION": 60008, "GEOMCOLLECTION": 60009,
	"INET4": 60010, "INET6": 60011, "UUID": 60012,
}

// markerName is the type name for a marker length, "" if none.
func markerName(n int) string {
	for k, v := range markerTypes {
		if v == n {
			return k
		}
	}
	return ""
}

// isTypePosition reports whether token i follows a column name (the place
// of a column type): the previous word is an identifier, not a keyword that
// introduces a column name.
func isTypePosition(toks []string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		s := strings.TrimSpace(toks[j])
		if s == "" || strings.HasPrefix(s, "/*") {
			continue
		}
		if s[0] == '`' {
			return true
		}
		if !isWordByte(s[0]) {
			return false
		}
		switch strings.ToUpper(s) {
		case "COLUMN", "ADD", "MODIFY", "CHANGE", "AFTER", "FIRST", "DROP", "RENAME", "TO", "AS", "EXISTS",
			"TABLE", "ON", "BY", "KEY", "INDEX", "SET", "ALTER", "CREATE", "NOT", "NULL", "DEFAULT":
			return false
		}
		return true
	}
	return false
}

// nextWord returns the next non-blank token after i, upper case.
func nextWord(toks []string, i int, _ string) string {
	for j := i + 1; j < len(toks); j++ {
		if s := strings.TrimSpace(toks[j]); s != "" && !strings.HasPrefix(s, "/*") {
			return strings.ToUpper(s)
		}
	}
	return ""
}

// skipWords returns the index of the n-th word token starting at i.
func skipWords(toks []string, i, n int) int {
	for j := i; j < len(toks); j++ {
		if s := strings.TrimSpace(toks[j]); s != "" {
			n--
			if n == 0 {
				return j
			}
		}
	}
	return len(toks) - 1
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// inIndexContext reports whether token i belongs to an index definition
// (INDEX/KEY/UNIQUE/PRIMARY in the same comma-separated clause), where
// INVISIBLE is index visibility, which the parser knows.
func inIndexContext(toks []string, i int) bool {
	depth := 0
	for j := i - 1; j >= 0; j-- {
		switch s := strings.ToUpper(strings.TrimSpace(toks[j])); s {
		case ")":
			depth++
		case "(":
			if depth == 0 {
				return false
			}
			depth--
		case ",":
			if depth == 0 {
				return false
			}
		case "INDEX", "KEY", "UNIQUE", "PRIMARY":
			if depth == 0 {
				return true
			}
		}
	}
	return false
}

// tokenize splits sql into tokens whose concatenation is sql: words,
// quoted strings and identifiers, comments, runs of blanks, single bytes.
func tokenize(sql string) []string {
	var toks []string
	for i := 0; i < len(sql); {
		c := sql[i]
		j := i + 1
		switch {
		case c == '\'' || c == '"' || c == '`':
			rest := skipValue(sql[i:])
			j = len(sql) - len(rest)
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				j = len(sql)
			} else {
				j = i + 2 + end + 2
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			for j < len(sql) && (sql[j] == ' ' || sql[j] == '\t' || sql[j] == '\n' || sql[j] == '\r') {
				j++
			}
		case isWordByte(c):
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
		}
		toks = append(toks, sql[i:j])
		i = j
	}
	return toks
}

// boolColumns returns the lower-case names of the columns a statement
// declares BOOL or BOOLEAN: the word before either type keyword (quotes,
// strings and comments are tokens of their own, so they do not mislead it).
func boolColumns(sql string) map[string]bool {
	out := map[string]bool{}
	prev := ""
	for _, tok := range tokenize(sql) {
		if strings.TrimSpace(tok) == "" || strings.HasPrefix(tok, "/*") {
			continue
		}
		if prev != "" && (strings.EqualFold(tok, "BOOL") || strings.EqualFold(tok, "BOOLEAN")) {
			out[strings.ToLower(unquote(prev))] = true
		}
		prev = tok
	}
	return out
}

// guessTables finds the table names a statement refers to from its words,
// for an error about a statement that did not parse: the name after TABLE
// (ALTER/CREATE/DROP/TRUNCATE/RENAME) or after ON (CREATE/DROP INDEX).
func guessTables(sql, db string) []TableID {
	toks := tokenize(sql)
	var ids []TableID
	next := func(i int) (string, int) {
		for ; i < len(toks); i++ {
			s := strings.TrimSpace(toks[i])
			if s == "" || strings.HasPrefix(s, "/*") {
				continue
			}
			return s, i
		}
		return "", i
	}
	for i := 0; i < len(toks); i++ {
		up := strings.ToUpper(toks[i])
		if up != "TABLE" && up != "ON" {
			continue
		}
		name, k := next(i + 1)
		for strings.EqualFold(name, "IF") || strings.EqualFold(name, "NOT") || strings.EqualFold(name, "EXISTS") {
			name, k = next(k + 1)
		}
		if name == "" || !(isWordByte(name[0]) || name[0] == '`') {
			continue
		}
		id := TableID{DB: db, Name: unquote(name)}
		if dot, k2 := next(k + 1); dot == "." {
			if n2, _ := next(k2 + 1); n2 != "" {
				id = TableID{DB: unquote(name), Name: unquote(n2)}
			}
		}
		ids = append(ids, id)
		break
	}
	return ids
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}

// ansiIdents rewrites the "double-quoted" identifiers of a statement
// written under sql_mode ANSI_QUOTES as `backquoted` ones: inside them
// a doubled "" is one quote and a backslash is itself (the server reads
// identifiers without escapes), which the TiDB lexer does not follow.
// Strings ('...', with backslash escapes unless NO_BACKSLASH_ESCAPES),
// backquoted identifiers and comments are copied as they are.
func ansiIdents(sql string, noBackslash bool) string {
	if !strings.Contains(sql, `"`) {
		return sql
	}
	var b strings.Builder
	b.Grow(len(sql) + 8)
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '`':
			j := i + 1
			for j < len(sql) {
				if sql[j] == '\\' && c == '\'' && !noBackslash {
					j += 2
					continue
				}
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(sql))
			b.WriteString(sql[i:j])
			i = j
		case c == '"':
			var id strings.Builder
			j := i + 1
			for j < len(sql) {
				if sql[j] == '"' {
					if j+1 < len(sql) && sql[j+1] == '"' {
						id.WriteByte('"')
						j += 2
						continue
					}
					break
				}
				id.WriteByte(sql[j])
				j++
			}
			if j >= len(sql) { // unterminated: leave it to the parser
				b.WriteString(sql[i:])
				return b.String()
			}
			b.WriteByte('`')
			b.WriteString(strings.ReplaceAll(id.String(), "`", "``"))
			b.WriteByte('`')
			i = j + 1
		case c == '/' && strings.HasPrefix(sql[i:], "/*") && !strings.HasPrefix(sql[i:], "/*!") && !strings.HasPrefix(sql[i:], "/*M!"):
			end := strings.Index(sql[i+2:], "*/")
			j := len(sql)
			if end >= 0 {
				j = i + 2 + end + 2
			}
			b.WriteString(sql[i:j])
			i = j
		case c == '#' || c == '-' && strings.HasPrefix(sql[i:], "-- "):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			b.WriteString(sql[i : i+j])
			i += j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// periodsOf finds the periods a statement declares, PERIOD FOR p (s, e):
// lower-case name to its start and end column tokens as written.
func periodsOf(toks []string) map[string][]string {
	var out map[string][]string
	for i := 0; i < len(toks); i++ {
		if !strings.EqualFold(toks[i], "PERIOD") || periodFor(toks, i) == 0 {
			continue
		}
		j := skipWords(toks, i, periodFor(toks, i)+1) // the period's name
		if j >= len(toks) {
			break
		}
		var cols []string
		k := j + 1
		for ; k < len(toks) && toks[k] != ")"; k++ {
			if w := strings.TrimSpace(toks[k]); w != "" && w != "(" && w != "," {
				cols = append(cols, w)
			}
		}
		if len(cols) == 2 {
			if out == nil {
				out = map[string][]string{}
			}
			out[strings.ToLower(unquote(toks[j]))] = cols
		}
		i = k
	}
	return out
}

// periodFor returns, for the PERIOD at toks[i], the word count up to and
// including FOR in "PERIOD FOR" (2) or "PERIOD IF NOT EXISTS FOR" (5); 0
// when neither follows.
func periodFor(toks []string, i int) int {
	switch {
	case wordAt(toks, i, 2) == "FOR":
		return 2
	case wordAt(toks, i, 2) == "IF" && wordAt(toks, i, 3) == "NOT" && wordAt(toks, i, 4) == "EXISTS" && wordAt(toks, i, 5) == "FOR":
		return 5
	}
	return 0
}

// dbDefaultClause returns the index of the last token of a database
// option at toks[i] that names no character set of its own (CHARACTER
// SET|CHARSET [=] DEFAULT, COLLATE [=] DEFAULT or a uca1400 collation
// without a character set), 0 when toks[i] starts no such clause.
func dbDefaultClause(toks []string, i int) int {
	if i >= len(toks) {
		return 0
	}
	up := strings.ToUpper(toks[i])
	j := i + 1
	switch up {
	case "CHARACTER":
		if wordAt(toks, i, 2) != "SET" {
			return 0
		}
		j = skipWords(toks, i, 2) + 1
	case "CHARSET", "COLLATE":
	default:
		return 0
	}
	for j < len(toks) && (strings.TrimSpace(toks[j]) == "" || toks[j] == "=") {
		j++
	}
	if j >= len(toks) {
		return 0
	}
	v := strings.ToUpper(unquote(strings.Trim(toks[j], "'\"")))
	if v == "DEFAULT" || up == "COLLATE" && strings.HasPrefix(v, "UCA1400_") {
		return j
	}
	return 0
}

// convertToDefault reports whether token i starts CHARACTER SET DEFAULT
// (or CHARSET DEFAULT) right after CONVERT TO: the parser takes it there,
// and the applier converts to the database's default.
func convertToDefault(toks []string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && n < 2; j-- {
		s := strings.ToUpper(strings.TrimSpace(toks[j]))
		if s == "" || strings.HasPrefix(s, "/*") {
			continue
		}
		if n == 0 && s != "TO" || n == 1 && s != "CONVERT" {
			return false
		}
		n++
	}
	return n == 2
}

// dbDefaultCharset stands for CHARACTER SET DEFAULT as an ALTER TABLE
// option (the parser lacks it there): the database's default.
const dbDefaultCharset = "rivulet_db_default"

// alterSpecStart reports whether token i begins an ALTER TABLE
// specification: it follows a comma or the table name.
func alterSpecStart(toks []string, i int) bool {
	var prev []string
	for j := i - 1; j >= 0 && len(prev) < 3; j-- {
		if s := strings.ToUpper(strings.TrimSpace(toks[j])); s != "" && !strings.HasPrefix(s, "/*") {
			prev = append(prev, s)
		}
	}
	if len(prev) > 0 && prev[0] == "," {
		return true
	}
	return len(prev) == 3 && prev[1] == "TABLE" && prev[2] == "ALTER"
}

// afterCharsetWords reports whether token i follows CHARACTER SET or
// CHARSET: a DEFAULT there is the value, not the prefix of an option.
func afterCharsetWords(toks []string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		s := strings.ToUpper(strings.TrimSpace(toks[j]))
		if s == "" || strings.HasPrefix(s, "/*") || s == "=" {
			continue
		}
		return s == "SET" || s == "CHARSET"
	}
	return false
}

// stringTypeWords are the words ASCII or UNICODE may follow in a column
// type ("CHAR ASCII", "VARCHAR(10) UNICODE", "CHAR BINARY ASCII").
var stringTypeWords = map[string]bool{
	"CHAR": true, "CHARACTER": true, "VARCHAR": true, "TEXT": true, "TINYTEXT": true, "MEDIUMTEXT": true,
	"LONGTEXT": true, ")": true, "BINARY": true,
}

// dbNoopOption takes the place of a database option the parser lacks
// (COMMENT, CHARACTER SET DEFAULT, ...): an option without effect on the
// model, so that ALTER DATABASE keeps the one option it must have.
const dbNoopOption = " DEFAULT ENCRYPTION='N' "

// ignoredIsName lists the words before (and, marked "+", after) an IGNORED
// that make it a table name rather than index visibility.
var ignoredIsName = map[string]bool{"TABLE": true, "TABLES": true, "EXISTS": true, ".": true, "TO": true, "AS": true,
	"LIKE": true, "+(": true, "+.": true, "+TO": true, "+LIKE": true}

// temporalDefaults are the function defaults the parser reads, which a
// DEFAULT f(...) retry keeps.
var temporalDefaults = map[string]bool{"CURRENT_TIMESTAMP": true, "NOW": true, "LOCALTIME": true, "LOCALTIMESTAMP": true,
	"CURRENT_DATE": true, "CURDATE": true, "CURRENT_TIME": true, "CURTIME": true, "UTC_TIMESTAMP": true, "SYSDATE": true}
