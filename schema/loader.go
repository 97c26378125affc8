package schema

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// LoaderConfig configures a Loader.
type LoaderConfig struct {
	Host     string // database.hostname
	Port     int    // database.port; 0 means 3306
	User     string // database.user
	Password string // database.password; never logged
	// Connector, when set, opens the connection instead (TLS per
	// database.ssl.mode, IAM tokens); Host, User and Password then only name
	// the server in messages. Default: PlainConnector{Host:Port, User, Password}.
	Connector Connector
	// Filter selects the captured tables and columns; nil captures every
	// table outside the system databases.
	Filter *Filter
	// Logger receives debug messages (reconnects); nil discards them.
	Logger *slog.Logger
}

// TableID names a table.
type TableID struct {
	DB   string
	Name string
}

// String returns "db.table", the form Debezium's filters match.
func (id TableID) String() string { return id.DB + "." + id.Name }

// Loader reads table definitions from the live server's information_schema.
// It keeps one connection, opened on first use and reopened after a failure,
// and caches each loaded table until Invalidate. It is safe for concurrent use
// (queries are serialised on the one connection). Close it when done.
type Loader struct {
	filter *Filter
	conn   conn

	mu    sync.RWMutex
	cache map[TableID]*Table
}

// NewLoader returns a Loader for c. It does not connect: the first Table or
// Tables call does.
func NewLoader(c LoaderConfig) *Loader {
	port := c.Port
	if port == 0 {
		port = 3306
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if c.Connector == nil {
		c.Connector = PlainConnector{Addr: hostPort(c.Host, port), User: c.User, Password: c.Password}
	}
	l := &Loader{
		filter: c.Filter,
		conn: conn{
			connector: c.Connector,
			addr:      hostPort(c.Host, port),
			user:      c.User,
			log:       log.With("component", "schema"),
		},
		cache: make(map[TableID]*Table),
	}
	return l
}

// Close closes the connection. The Loader may not be used afterwards.
func (l *Loader) Close() error {
	if err := l.conn.close(); err != nil {
		return fmt.Errorf("close schema connection: %w", err)
	}
	return nil
}

// Invalidate drops the cached definition of db.table, so that the next Table
// call reads it again (after DDL).
func (l *Loader) Invalidate(db, table string) {
	l.mu.Lock()
	delete(l.cache, TableID{db, table})
	l.mu.Unlock()
}

// InvalidateAll drops every cached definition.
func (l *Loader) InvalidateAll() {
	l.mu.Lock()
	clear(l.cache)
	l.mu.Unlock()
}

// Table returns the current definition of db.table, or nil and no error when
// the filter excludes the table. Columns are in table order with
// Column.Excluded set per column.include.list/exclude.list. The key is the
// primary key or, for a table without one, a unique index whose columns are
// all NOT NULL (see primaryKey). A table the server does not have is an
// error wrapping ErrTableNotFound. The returned Table is shared: callers must
// not modify it.
func (l *Loader) Table(ctx context.Context, db, name string) (*Table, error) {
	if !l.filter.Table(db, name) {
		return nil, nil
	}
	id := TableID{db, name}
	l.mu.RLock()
	t := l.cache[id]
	l.mu.RUnlock()
	if t != nil {
		return t, nil
	}
	t, err := l.load(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load table %s: %w", id, err)
	}
	l.mu.Lock()
	if cached := l.cache[id]; cached != nil {
		t = cached // a concurrent load won; keep one version per table
	} else {
		l.cache[id] = t
	}
	l.mu.Unlock()
	return t, nil
}

const columnsQuery = `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME,
CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, COLUMN_DEFAULT, EXTRA
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`

// mariaDBChecksQuery reads CHECK constraints to recognise MariaDB's JSON
// columns. MariaDB's CHECK_CONSTRAINTS has TABLE_NAME (MySQL's does not).
const mariaDBChecksQuery = `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`

func (l *Loader) load(ctx context.Context, id TableID) (*Table, error) {
	res, err := l.conn.execute(ctx, columnsQuery, id.DB, id.Name)
	if err != nil {
		return nil, fmt.Errorf("read information_schema.COLUMNS: %w", err)
	}
	infos, err := readColumnInfos(res)
	res.Close()
	if err != nil {
		return nil, fmt.Errorf("read information_schema.COLUMNS: %w", err)
	}
	if len(infos) == 0 {
		return nil, ErrTableNotFound
	}
	if l.isMariaDB() && hasLongText(infos) {
		if err := l.markMariaDBJSON(ctx, id, infos); err != nil {
			return nil, err
		}
	}
	t := &Table{DB: id.DB, Name: id.Name, Columns: make([]Column, len(infos))}
	for i, in := range infos {
		c, err := buildColumn(in)
		if err != nil {
			return nil, err
		}
		columnDefault(&c, in, l.isMariaDB())
		declaredFromColumnType(&c, in.ColumnType)
		c.Excluded = !l.filter.Column(id.DB, id.Name, c.Name)
		t.Columns[i] = c
	}
	idx, err := l.indexes(ctx, id)
	if err != nil {
		return nil, err
	}
	t.PrimaryKey = primaryKey(t, idx)
	t.MessageKey = l.filter.MessageKey(t)
	return t, nil
}

func readColumnInfos(res *mysql.Result) ([]columnInfo, error) {
	if res.Resultset == nil {
		return nil, nil
	}
	rs := res.Resultset
	infos := make([]columnInfo, rs.RowNumber())
	for r := range infos {
		var (
			nullable string
			err      error
		)
		in := &infos[r]
		str := func(col int, dst *string) {
			if err == nil {
				*dst, err = cloned(rs.GetString(r, col))
			}
		}
		num := func(col int, dst *int64) {
			if err == nil {
				*dst, err = rs.GetInt(r, col)
			}
		}
		str(0, &in.Name)
		str(1, &in.DataType)
		str(2, &in.ColumnType)
		str(3, &nullable)
		str(4, &in.Charset)
		num(5, &in.MaxLength)
		num(6, &in.Precision)
		num(7, &in.Scale)
		num(8, &in.DatetimePrec)
		str(9, &in.Default)
		str(10, &in.Extra)
		if err == nil {
			in.DefaultNull, err = rs.IsNull(r, 9)
		}
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", r, err)
		}
		in.Nullable = strings.EqualFold(nullable, "YES")
		// Strings alias the result buffer, which returns to a pool on Close.
		in.Name = strings.Clone(in.Name)
		in.DataType = strings.Clone(in.DataType)
		in.ColumnType = strings.Clone(in.ColumnType)
		in.Charset = strings.Clone(in.Charset)
		in.Default, in.Extra = strings.Clone(in.Default), strings.Clone(in.Extra)
	}
	return infos, nil
}

func hasLongText(infos []columnInfo) bool {
	for _, in := range infos {
		if strings.EqualFold(in.DataType, "longtext") {
			return true
		}
	}
	return false
}

// markMariaDBJSON sets JSONCheck on LONGTEXT columns constrained by
// json_valid(col): MariaDB stores JSON as LONGTEXT with such a CHECK, named
// after the column (SHOW CREATE TABLE prints it as
// "`j` longtext ... CHECK (json_valid(`j`))").
func (l *Loader) markMariaDBJSON(ctx context.Context, id TableID, infos []columnInfo) error {
	res, err := l.conn.execute(ctx, mariaDBChecksQuery, id.DB, id.Name)
	if err != nil {
		if serverErrorCode(err) == mysql.ER_BAD_FIELD_ERROR || serverErrorCode(err) == mysql.ER_UNKNOWN_TABLE {
			return nil // before MariaDB 10.2.22: no CHECK_CONSTRAINTS, so no JSON to find
		}
		return fmt.Errorf("read information_schema.CHECK_CONSTRAINTS: %w", err)
	}
	defer res.Close()
	if res.Resultset == nil {
		return nil
	}
	for r := range res.RowNumber() {
		clause, err := cloned(res.GetString(r, 0))
		if err != nil {
			return fmt.Errorf("read information_schema.CHECK_CONSTRAINTS: %w", err)
		}
		col, ok := jsonValidColumn(clause)
		if !ok {
			continue
		}
		for i := range infos {
			if strings.EqualFold(infos[i].Name, col) && strings.EqualFold(infos[i].DataType, "longtext") {
				infos[i].JSONCheck = true
			}
		}
	}
	return nil
}

// jsonValidColumn recognises a check clause "json_valid(`col`)" and returns
// col. Blanks and case of the function name do not matter.
func jsonValidColumn(clause string) (string, bool) {
	s := strings.TrimSpace(clause)
	for strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	const fn = "json_valid"
	if len(s) < len(fn) || !strings.EqualFold(s[:len(fn)], fn) {
		return "", false
	}
	s = strings.TrimSpace(s[len(fn):])
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		return "", false
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`"), true
	}
	if s == "" || strings.ContainsAny(s, "`(), ") {
		return "", false
	}
	return s, true
}

// isMariaDB reports whether the server is MariaDB, from the version in the
// handshake ("5.5.5-10.11.6-MariaDB-..."). A query must have run before.
func (l *Loader) isMariaDB() bool {
	return strings.Contains(strings.ToLower(l.conn.serverVersion()), "mariadb")
}

// index is one index of a table as SHOW INDEX lists it.
type index struct {
	name    string
	unique  bool
	columns []string // in SEQ_IN_INDEX order; "" for an expression part
	partial bool     // a key part is a column prefix (Sub_part set)
}

// indexes returns the table's indexes in the server's key order, which is
// the order SHOW CREATE TABLE prints them in (both walk the table's key list:
// PRIMARY first, then unique keys, then the rest, each group in definition
// order).
func (l *Loader) indexes(ctx context.Context, id TableID) ([]index, error) {
	res, err := l.conn.execute(ctx, "SHOW INDEX FROM "+quoteIdent(id.DB)+"."+quoteIdent(id.Name))
	if err != nil {
		if serverErrorCode(err) == mysql.ER_NO_SUCH_TABLE {
			return nil, fmt.Errorf("%w: %w", ErrTableNotFound, err)
		}
		return nil, fmt.Errorf("show index: %w", err)
	}
	defer res.Close()
	if res.Resultset == nil {
		return nil, nil
	}
	keyCol, err1 := res.NameIndex("Key_name")
	nonUniqueCol, err2 := res.NameIndex("Non_unique")
	columnCol, err3 := res.NameIndex("Column_name")
	subCol, subErr := res.NameIndex("Sub_part")
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("show index: unexpected result columns %v", res.FieldNames)
	}
	var out []index
	for r := range res.RowNumber() {
		name, err := cloned(res.GetString(r, keyCol))
		if err != nil {
			return nil, fmt.Errorf("show index: %w", err)
		}
		nonUnique, err := res.GetInt(r, nonUniqueCol)
		if err != nil {
			return nil, fmt.Errorf("show index: %w", err)
		}
		column, err := cloned(res.GetString(r, columnCol)) // NULL for a functional key part (MySQL 8)
		if err != nil {
			return nil, fmt.Errorf("show index: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].name != name {
			out = append(out, index{name: strings.Clone(name), unique: nonUnique == 0})
		}
		last := &out[len(out)-1]
		last.columns = append(last.columns, strings.Clone(column))
		if subErr == nil {
			if sub, err := res.GetInt(r, subCol); err == nil && sub > 0 {
				last.partial = true
			}
		}
	}
	return out, nil
}

// primaryKey returns the key columns (indexes into t.Columns, in key order):
// the PRIMARY KEY if there is one; otherwise, as Debezium's MySQL DDL parser
// does (MySqlAntlrDdlParser parseUniqueIndexColumnNames), the first UNIQUE
// index whose columns are all NOT NULL, "first" being the order SHOW CREATE
// TABLE prints the keys in, which is what Debezium parses at snapshot time;
// otherwise none. Indexes with an expression part are skipped.
func primaryKey(t *Table, idx []index) []int {
	pick := func(ix index, requireNotNull bool) []int {
		key := make([]int, 0, len(ix.columns))
		for _, name := range ix.columns {
			i := t.ColumnIndex(name)
			if name == "" || i < 0 || (requireNotNull && t.Columns[i].Nullable) {
				return nil
			}
			key = append(key, i)
		}
		return key
	}
	for _, ix := range idx {
		if ix.name == "PRIMARY" {
			if key := pick(ix, false); key != nil {
				return key
			}
		}
	}
	for _, ix := range idx {
		if ix.unique && ix.name != "PRIMARY" {
			if key := pick(ix, true); len(key) > 0 {
				return key
			}
		}
	}
	return nil
}

// quoteIdent quotes a MySQL identifier with backticks.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// Tables lists the captured tables: base tables (and MariaDB system-versioned
// tables) of every database the filter admits, sorted by database and name.
// Views and sequences are never captured. Like Debezium, it reads SHOW
// DATABASES and SHOW FULL TABLES per database, so excluded databases cost
// nothing.
func (l *Loader) Tables(ctx context.Context) ([]TableID, error) {
	res, err := l.conn.execute(ctx, "SHOW DATABASES")
	if err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	var dbs []string
	if res.Resultset != nil {
		for r := range res.RowNumber() {
			db, err := cloned(res.GetString(r, 0))
			if err != nil {
				res.Close()
				return nil, fmt.Errorf("list databases: %w", err)
			}
			if l.filter.Database(db) {
				dbs = append(dbs, strings.Clone(db))
			}
		}
	}
	res.Close()

	var ids []TableID
	for _, db := range dbs {
		res, err := l.conn.execute(ctx, "SHOW FULL TABLES FROM "+quoteIdent(db))
		if err != nil {
			if code := serverErrorCode(err); code == mysql.ER_BAD_DB_ERROR || code == mysql.ER_DBACCESS_DENIED_ERROR {
				// Dropped since SHOW DATABASES, or listed but not readable.
				l.conn.log.DebugContext(ctx, "skipping database", "db", db, "error", err)
				continue
			}
			return nil, fmt.Errorf("list tables of %s: %w", db, err)
		}
		if res.Resultset == nil {
			res.Close()
			continue
		}
		for r := range res.RowNumber() {
			name, err1 := cloned(res.GetString(r, 0))
			kind, err2 := cloned(res.GetString(r, 1))
			if err1 != nil || err2 != nil {
				res.Close()
				return nil, fmt.Errorf("list tables of %s: unexpected SHOW FULL TABLES result", db)
			}
			if (kind == "BASE TABLE" || kind == "SYSTEM VERSIONED") && l.filter.Table(db, name) {
				ids = append(ids, TableID{DB: db, Name: strings.Clone(name)})
			}
		}
		res.Close()
	}
	slices.SortFunc(ids, func(a, b TableID) int {
		return cmp.Or(strings.Compare(a.DB, b.DB), strings.Compare(a.Name, b.Name))
	})
	return ids, nil
}
