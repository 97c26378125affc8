package schema

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// FilterConfig holds Debezium's capture filter properties, each the raw
// property value: a comma-separated list of regular expressions. A comma that
// belongs to an expression is written "\," as in Debezium; surrounding blanks
// of each expression are trimmed and empty entries ignored.
//
// Expressions are matched case-insensitively against the whole identifier
// (Java's Matcher.matches, so "inventory" does not match "inventory2"):
// database names for the database lists, "db.table" for the table lists and
// "db.table.column" for the column lists.
//
// Setting both the include and the exclude list of one level is a
// configuration error that package config reports; should it reach NewFilter
// anyway, the include list wins, as in Debezium's Selectors.
type FilterConfig struct {
	DatabaseIncludeList string // database.include.list
	DatabaseExcludeList string // database.exclude.list
	TableIncludeList    string // table.include.list
	TableExcludeList    string // table.exclude.list
	ColumnIncludeList   string // column.include.list
	ColumnExcludeList   string // column.exclude.list
	// MessageKeyColumns is message.key.columns: "<table regex>:<col>,<col>"
	// entries separated by ';', e.g. "inv.customers:email;(.*).orders:ref".
	MessageKeyColumns string
	// IncludeBuiltin is table.ignore.builtin=false: the server's own
	// databases (mysql, sys, performance_schema, information_schema) are
	// filtered like any other instead of never captured.
	IncludeBuiltin bool
}

// Filter decides which databases, tables and columns are captured. It is
// immutable and safe for concurrent use. A nil *Filter captures every table
// outside the system databases.
type Filter struct {
	dbInclude, dbExclude         []*regexp.Regexp
	tableInclude, tableExclude   []*regexp.Regexp
	columnInclude, columnExclude []*regexp.Regexp
	// keyColumns are message.key.columns as "table regex.column" patterns,
	// in the order given (Debezium's CustomKeyMapper).
	keyColumns []*regexp.Regexp
	// builtin: table.ignore.builtin=false.
	builtin bool
}

// systemDatabases are never captured (Debezium's BUILT_IN_DB_NAMES with
// table.ignore.builtin=true, the default).
var systemDatabases = [...]string{"mysql", "sys", "performance_schema", "information_schema"}

// IsSystemDatabase reports whether db is one of the server's own databases
// (mysql, sys, performance_schema, information_schema), which are never
// captured.
func IsSystemDatabase(db string) bool {
	for _, s := range systemDatabases {
		if strings.EqualFold(db, s) {
			return true
		}
	}
	return false
}

// NewFilter compiles the lists of c. An expression that does not compile is
// reported as an error wrapping ErrInvalidFilter that names the property and
// the expression. Expressions use Go's RE2 syntax, which covers what include
// lists use in practice (alternation, classes, quantifiers) but not Java's
// look-arounds, back-references or possessive quantifiers.
func NewFilter(c FilterConfig) (*Filter, error) {
	f := &Filter{builtin: c.IncludeBuiltin}
	lists := []struct {
		key string
		val string
		dst *[]*regexp.Regexp
	}{
		{"database.include.list", c.DatabaseIncludeList, &f.dbInclude},
		{"database.exclude.list", c.DatabaseExcludeList, &f.dbExclude},
		{"table.include.list", c.TableIncludeList, &f.tableInclude},
		{"table.exclude.list", c.TableExcludeList, &f.tableExclude},
		{"column.include.list", c.ColumnIncludeList, &f.columnInclude},
		{"column.exclude.list", c.ColumnExcludeList, &f.columnExclude},
	}
	for _, l := range lists {
		res, err := compileList(l.key, l.val)
		if err != nil {
			return nil, err
		}
		*l.dst = res
	}
	keys, err := compileKeyColumns(c.MessageKeyColumns)
	if err != nil {
		return nil, err
	}
	f.keyColumns = keys
	return f, nil
}

// compileKeyColumns turns message.key.columns into one anchored,
// case-insensitive pattern per column, "<table regex>.<column>", as
// Debezium's CustomKeyMapper does.
func compileKeyColumns(v string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, entry := range strings.Split(v, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		table, cols, ok := strings.Cut(entry, ":")
		if !ok || table == "" || cols == "" || strings.ContainsAny(entry, " \t") || strings.Contains(cols, ":") {
			return nil, fmt.Errorf("%w: message.key.columns entry %q is not <db>.<table>:<column>[,<column>...]", ErrInvalidFilter, entry)
		}
		for _, col := range strings.Split(cols, ",") {
			if col == "" {
				return nil, fmt.Errorf("%w: message.key.columns entry %q has an empty column name", ErrInvalidFilter, entry)
			}
			re, err := regexp.Compile("(?i)^(?:" + table + "." + col + ")$")
			if err != nil {
				return nil, fmt.Errorf("%w: message.key.columns entry %q: %v", ErrInvalidFilter, entry, err)
			}
			out = append(out, re)
		}
	}
	return out, nil
}

// MessageKey returns the key columns message.key.columns gives t (indexes
// into t.Columns: for each pattern in order, the matching columns in table
// order), or nil when no pattern matches a column of t, which keeps the
// primary key.
func (f *Filter) MessageKey(t *Table) []int {
	if f == nil || len(f.keyColumns) == 0 {
		return nil
	}
	var key []int
	prefix := t.DB + "." + t.Name + "."
	for _, re := range f.keyColumns {
		for i := range t.Columns {
			if re.MatchString(prefix + t.Columns[i].Name) {
				key = append(key, i)
			}
		}
	}
	return key
}

// compileList splits a Debezium regular-expression list and compiles each
// entry anchored at both ends, case-insensitive.
func compileList(key, list string) ([]*regexp.Regexp, error) {
	parts, err := splitRegexList(list)
	if err != nil {
		return nil, fmt.Errorf("%s \"%s\": %w: %w", key, list, ErrInvalidFilter, err)
	}
	var res []*regexp.Regexp
	for _, p := range parts {
		re, err := regexp.Compile(`(?i)^(?:` + p + `)$`)
		if err != nil {
			return nil, fmt.Errorf("%s pattern \"%s\": %w: %w", key, p, ErrInvalidFilter, err)
		}
		res = append(res, re)
	}
	return res, nil
}

// splitRegexList splits s at commas not preceded by a backslash, the way
// Debezium's Strings.RegExSplitter does: a backslash escapes the next
// character, "\," becomes ",", other escapes are kept for the regular
// expression, entries are trimmed and empty ones dropped.
func splitRegexList(s string) ([]string, error) {
	var parts []string
	add := func(p string) {
		p = strings.TrimSpace(strings.ReplaceAll(p, `\,`, ","))
		if p != "" {
			parts = append(parts, p)
		}
	}
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 == len(s) {
				return nil, errors.New("unterminated escape sequence at the end")
			}
			i++
		case ',':
			add(s[start:i])
			start = i + 1
		}
	}
	add(s[start:])
	return parts, nil
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// included applies an include/exclude pair: include wins when both are set;
// neither set means everything is included.
func included(include, exclude []*regexp.Regexp, id string) bool {
	switch {
	case include != nil:
		return matchAny(include, id)
	case exclude != nil:
		return !matchAny(exclude, id)
	default:
		return true
	}
}

// Database reports whether tables of database db may be captured: db is not
// a system database and passes database.include.list/exclude.list.
func (f *Filter) Database(db string) bool {
	if IsSystemDatabase(db) && (f == nil || !f.builtin) {
		return false
	}
	if f == nil {
		return true
	}
	return included(f.dbInclude, f.dbExclude, db)
}

// Table reports whether table db.table is captured: its database passes
// Database and "db.table" passes table.include.list/exclude.list.
func (f *Filter) Table(db, table string) bool {
	if !f.Database(db) {
		return false
	}
	if f == nil || (f.tableInclude == nil && f.tableExclude == nil) {
		return true
	}
	return included(f.tableInclude, f.tableExclude, db+"."+table)
}

// Column reports whether column db.table.column is emitted, by
// column.include.list/exclude.list alone: callers check Table first (as
// Debezium's column filter is independent of the table filter).
func (f *Filter) Column(db, table, column string) bool {
	if f == nil || (f.columnInclude == nil && f.columnExclude == nil) {
		return true
	}
	return included(f.columnInclude, f.columnExclude, db+"."+table+"."+column)
}
