package schema

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// ApplyDDL moves the model past one DDL Query event and returns what it
// changed: nil for statements that change no table definition and are not
// recorded (functions, triggers, views, users, grants, ...), else the Change
// to record in the schema history. Table and database DDL is parsed with the
// TiDB parser under the event's sql_mode; d.DB qualifies unqualified names.
//
// A statement that cannot be parsed or applied is an error wrapping
// ErrUnparseableDDL (a *DDLError naming position, statement and tables); the
// model is then unchanged. Such a statement is skipped instead (nil, nil,
// after TrackerConfig.OnSkip) when it names no captured table or when
// TrackerConfig.SkipUnparseableDDL is set: nothing is skipped silently.
func (tr *Tracker) ApplyDDL(ctx context.Context, d DDL) (*Change, error) {
	c, err := tr.applyDDL(ctx, d)
	if err == nil {
		return tr.storeRule(c), nil
	}
	var de *DDLError
	if !errors.As(err, &de) {
		return nil, err
	}
	if c, ok := tr.neutralChange(d); ok {
		// A statement that cannot change columns never stops the
		// pipeline: it is recorded as Debezium records it (an ALTER of the
		// table as it stands), logged and counted.
		if tr.cfg.OnNeutral != nil {
			tr.cfg.OnNeutral(d, de)
		}
		return c, nil
	}
	captured := len(de.Tables) == 0 // unknown tables: assume captured
	for _, id := range de.Tables {
		if tr.cfg.Filter.Table(id.DB, id.Name) {
			captured = true
		}
	}
	if captured && !tr.cfg.SkipUnparseableDDL {
		if tr.cfg.Reload == nil || d.fromServer {
			return nil, err
		}
		c, ferr := tr.fallback(ctx, d, de)
		if ferr != nil {
			return nil, fmt.Errorf("%w; no fallback holds: %w", err, ferr)
		}
		return tr.storeRule(c), nil
	}
	if tr.cfg.OnSkip != nil {
		tr.cfg.OnSkip(d, de, captured)
	}
	return nil, nil
}

func (tr *Tracker) applyDDL(_ context.Context, d DDL) (c *Change, err error) {
	defer func() {
		// Defensive: an AST shape the applier did not foresee must not take
		// the process down; the statement is reported like a parse failure.
		if r := recover(); r != nil {
			c, err = nil, &DDLError{Pos: d.Pos, SQL: d.SQL, Tables: guessTables(d.SQL, d.DB), Err: fmt.Errorf("apply: %v", r)}
		}
	}()
	switch classify(d.SQL) {
	case classIgnore, classTxn:
		return nil, nil
	case classDML:
		return nil, &DDLError{Pos: d.Pos, SQL: d.SQL, Tables: guessTables(d.SQL, d.DB),
			Err: errors.New("a row change logged as a statement (binlog_format is not ROW)")}
	case classTruncate:
		// Debezium's default schema.history.internal.ddl.filter leaves
		// TRUNCATE out of the history; it changes no definition.
		return nil, nil
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	stmts, err := tr.parser.parse(d.SQL, d.SQLMode, d.HasSQLMode)
	if err != nil {
		return nil, &DDLError{Pos: d.Pos, SQL: d.SQL, Tables: guessTables(d.SQL, d.DB), Err: err}
	}
	a := &applier{tr: tr, ddl: d, overlay: make(map[tableKey]*TableDef), dbs: make(map[string]*string)}
	for _, st := range stmts {
		if err := a.stmt(st); err != nil {
			return nil, &DDLError{Pos: d.Pos, SQL: d.SQL, Tables: a.named, Err: err}
		}
	}
	// Commit the statement's effect at once.
	for k, cs := range a.dbs {
		if cs == nil {
			delete(tr.dbs, k)
			delete(tr.dbName, k)
			continue
		}
		tr.dbs[k] = *cs
		if _, ok := tr.dbName[k]; !ok || a.dbNames[k] != "" {
			tr.dbName[k] = a.dbNames[k]
		}
	}
	for k, def := range a.overlay {
		if def == nil {
			delete(tr.tables, k)
		} else {
			tr.tables[k] = def
		}
	}
	tr.moveStale(a.changes)
	c = &Change{DB: a.db, DDL: d.SQL, Tables: a.changes}
	if c.DB == "" {
		c.DB = d.DB
	}
	if len(c.Tables) == 0 && (a.temporary || c.DB != "" && !tr.tracked(c.DB)) {
		// Temporary tables, and databases that are not captured
		// (store.only.captured.databases.ddl=true): nothing to record.
		return nil, nil
	}
	return c, nil
}

// applier applies the statements of one event to an overlay of the model.
type applier struct {
	tr        *Tracker
	ddl       DDL
	overlay   map[tableKey]*TableDef // nil value: dropped
	dbs       map[string]*string     // lower-case name -> charset; nil: dropped
	dbNames   map[string]string
	changes   []TableChange
	named     []TableID
	db        string                 // databaseName of the record
	temporary bool                   // a temporary table statement
	bools     map[string]bool        // boolColumns of the statement, once needed
	written   map[string]writtenType // writtenTypes of the statement, once needed
}

// markBoolean names c BOOLEAN when the statement declared it BOOL or
// BOOLEAN: the TiDB parser folds both into TINYINT(1), Debezium's DDL parser
// keeps them as JDBC BOOLEAN (a boolean field). From SHOW CREATE TABLE, which
// prints tinyint(1), both give INT16. It also records the type as the
// statement wrote it (Column.Declared).
func (a *applier) markBoolean(c *Column) {
	if a.written == nil {
		a.written = writtenTypes(a.ddl.SQL)
	}
	markWritten(c, a.written)
	if c.Type != TypeTinyInt || c.Length != 1 {
		return
	}
	if a.bools == nil {
		a.bools = boolColumns(a.ddl.SQL)
	}
	if a.bools[strings.ToLower(c.Name)] {
		c.TypeName = "BOOLEAN"
	}
}

func (a *applier) get(db, name string) *TableDef {
	k := a.tr.keyOf(db, name)
	if d, ok := a.overlay[k]; ok {
		return d
	}
	return a.tr.tables[k]
}

func (a *applier) put(db, name string, d *TableDef) { a.overlay[a.tr.keyOf(db, name)] = d }

func (a *applier) dbCharset(db string) string {
	k := a.tr.fold(db)
	if cs, ok := a.dbs[k]; ok && cs != nil {
		return *cs
	}
	if cs, ok := a.tr.dbs[k]; ok {
		return cs
	}
	return a.tr.cfg.ServerCharset
}

func (a *applier) dbExists(db string) bool {
	k := a.tr.fold(db)
	if cs, ok := a.dbs[k]; ok {
		return cs != nil
	}
	_, ok := a.tr.dbs[k]
	return ok
}

// id resolves a table name against the session database.
func (a *applier) id(tn *ast.TableName) (TableID, error) {
	db := tn.Schema.O
	if db == "" {
		db = a.ddl.DB
	}
	if db == "" {
		return TableID{}, fmt.Errorf("table %s has no database and the session has none selected", tn.Name.O)
	}
	id := TableID{DB: db, Name: tn.Name.O}
	a.named = append(a.named, id)
	if a.db == "" {
		a.db = db
	}
	return id, nil
}

func (a *applier) record(tc TableChange) {
	if tc.Def != nil {
		if a.tr.cfg.MariaDB && tc.Def.Table != nil {
			tc.Def.Table.HashColumns = markLongUnique(tc.Def)
		}
		tc.Def = a.tr.withFilter(tc.Def)
		if tc.Type != ChangeDrop {
			a.put(tc.ID.DB, tc.ID.Name, tc.Def)
		}
	}
	a.changes = append(a.changes, tc)
}

func (a *applier) stmt(st ast.StmtNode) error {
	switch s := st.(type) {
	case *ast.CreateTableStmt:
		return a.createTable(s)
	case *ast.AlterTableStmt:
		return a.alterTable(s)
	case *ast.DropTableStmt:
		return a.dropTable(s)
	case *ast.RenameTableStmt:
		return a.renameTable(s)
	case *ast.TruncateTableStmt:
		return nil
	case *ast.CreateIndexStmt:
		return a.createIndex(s)
	case *ast.DropIndexStmt:
		return a.dropIndex(s)
	case *ast.CreateDatabaseStmt:
		k := a.tr.fold(s.Name.O)
		if a.dbExists(s.Name.O) && s.IfNotExists {
			return nil
		}
		if orReplaceDatabase(a.ddl.SQL) {
			// MariaDB CREATE OR REPLACE DATABASE drops the old one first.
			a.dropDatabaseTables(k)
		}
		cs := dbOptionsCharset(s.Options)
		if cs == "" {
			cs = collationIDCharset(uint64(a.ddl.CollationServer))
		}
		if cs == "" {
			cs = a.tr.cfg.ServerCharset
		}
		cs = normCharset(cs)
		a.dbs[k] = &cs
		a.setDBName(k, s.Name.O)
		a.db = s.Name.O
		return nil
	case *ast.AlterDatabaseStmt:
		name := s.Name.O
		if s.AlterDefaultDatabase || name == "" {
			name = a.ddl.DB
		}
		if cs := dbOptionsCharset(s.Options); cs != "" {
			cs = normCharset(cs)
			a.dbs[a.tr.fold(name)] = &cs
			a.setDBName(a.tr.fold(name), name)
		}
		a.db = name
		return nil
	case *ast.DropDatabaseStmt:
		k := a.tr.fold(s.Name.O)
		a.dbs[k] = nil
		a.db = s.Name.O
		a.dropDatabaseTables(k)
		return nil
	}
	return nil // other statements (SET, views in a multi-statement event): no table change
}

// dropDatabaseTables drops every table of database k (lower case) from the
// model, recording each drop.
func (a *applier) dropDatabaseTables(k string) {
	{
		var drop []*TableDef
		for tk, d := range a.tr.tables {
			if tk.db == k {
				if _, ok := a.overlay[tk]; !ok {
					drop = append(drop, d)
				}
			}
		}
		for tk, d := range a.overlay {
			if tk.db == k && d != nil {
				drop = append(drop, d)
			}
		}
		slices.SortFunc(drop, func(x, y *TableDef) int { return strings.Compare(x.Table.Name, y.Table.Name) })
		for _, d := range drop {
			a.put(d.Table.DB, d.Table.Name, nil)
			a.changes = append(a.changes, TableChange{Type: ChangeDrop, ID: TableID{d.Table.DB, d.Table.Name}, Def: d})
		}
	}
}

func (a *applier) setDBName(k, name string) {
	if a.dbNames == nil {
		a.dbNames = make(map[string]string)
	}
	a.dbNames[k] = name
}

func dbOptionsCharset(opts []*ast.DatabaseOption) string {
	cs := ""
	for _, o := range opts {
		switch o.Tp {
		case ast.DatabaseOptionCharset:
			cs = o.Value
		case ast.DatabaseOptionCollate:
			if cs == "" {
				cs = charsetOfCollation(o.Value)
			}
		}
	}
	return cs
}

// editTable is a table definition being changed.
type editTable struct {
	db, name                    string
	versioned                   bool // WITH SYSTEM VERSIONING in this statement
	cols                        []Column
	xs                          []ColumnDef
	idx                         []Index
	charset, collation, comment string
	engine                      string
	// orig holds, beside cols, each column's name before this ALTER TABLE
	// ("" for columns it added): CHANGE, MODIFY, RENAME COLUMN, DROP and
	// ALTER COLUMN name the columns of the table as it was, so that
	// "RENAME COLUMN a TO b, RENAME COLUMN b TO a" swaps them as the
	// server does. Nil outside ALTER TABLE.
	orig []string
}

func (d *TableDef) edit() *editTable {
	e := &editTable{
		db: d.Table.DB, name: d.Table.Name,
		cols:    slices.Clone(d.Table.Columns),
		xs:      slices.Clone(d.Columns),
		idx:     make([]Index, len(d.Indexes)),
		charset: d.Charset, collation: d.Collation, comment: d.Comment, engine: d.Engine,
	}
	for i, ix := range d.Indexes {
		ix.Columns = slices.Clone(ix.Columns)
		ix.Lengths = slices.Clone(ix.Lengths)
		e.idx[i] = ix
	}
	return e
}

// oldIndex finds a column by the name it had before this ALTER TABLE,
// else by its current name.
func (e *editTable) oldIndex(name string) int {
	for i, n := range e.orig {
		if n != "" && strings.EqualFold(n, name) {
			return i
		}
	}
	return e.colIndex(name)
}

// implicitPeriod adds MariaDB's implicit period columns row_start and
// row_end (invisible, but in every row image) when the statement makes the
// table system-versioned without explicit period columns.
func (e *editTable) implicitPeriod() {
	explicit := false
	for _, x := range e.xs {
		explicit = explicit || x.PeriodColumn
	}
	if e.versioned && !explicit && e.colIndex("row_start") < 0 {
		for _, n := range []string{"row_start", "row_end"} {
			e.insertCol(len(e.cols), Column{Name: n, Type: TypeTimestamp, TypeName: "TIMESTAMP", FSP: 6},
				ColumnDef{Generated: true, TypeExpression: "timestamp(6)"}, "")
		}
	}
}

// unversion drops MariaDB's implicit row_start and row_end (ALTER TABLE
// ... DROP SYSTEM VERSIONING).
func (e *editTable) unversion() {
	e.versioned = false
	if n := len(e.cols); n >= 2 && e.appendAt() == n-2 {
		e.deleteCol(n - 1)
		e.deleteCol(n - 2)
	}
}

// nameBefore is column i's name before this ALTER TABLE (its current
// name when it was added or outside ALTER TABLE).
func (e *editTable) nameBefore(i int) string {
	if i < len(e.orig) && e.orig[i] != "" {
		return e.orig[i]
	}
	return e.cols[i].Name
}

// rebindIndexes ends an ALTER TABLE as the server does
// (mysql_prepare_alter_table): a key part names the column that had that
// name before the statement (under its new name when CHANGE or RENAME
// COLUMN renamed it), else a column of that name added or renamed by the
// statement; key parts of columns gone are dropped, and indexes left
// without parts disappear. So "DROP i, ADD i ..." keeps the keys on i.
func (e *editTable) rebindIndexes() {
	for j := range e.idx {
		parts := e.idx[j].Columns[:0]
		lens := e.idx[j].Lengths[:0]
		keep := func(k int, name string) {
			parts = append(parts, name)
			if e.idx[j].Lengths != nil {
				lens = append(lens, e.idx[j].Lengths[k])
			}
		}
		for k, p := range e.idx[j].Columns {
			if p == "" { // an expression part
				keep(k, p)
				continue
			}
			name := ""
			for i, o := range e.orig {
				if o != "" && strings.EqualFold(o, p) {
					name = e.cols[i].Name
					break
				}
			}
			if name == "" {
				if i := e.colIndex(p); i >= 0 {
					name = e.cols[i].Name
				}
			}
			if name != "" {
				keep(k, name)
			}
		}
		e.idx[j].Columns = parts
		if e.idx[j].Lengths != nil {
			e.idx[j].Lengths = lens
		}
	}
	e.idx = slices.DeleteFunc(e.idx, func(ix Index) bool { return len(ix.Columns) == 0 })
}

// insertCol and deleteCol keep cols, xs and orig aligned.
func (e *editTable) insertCol(at int, c Column, x ColumnDef, orig string) {
	e.cols = slices.Insert(e.cols, at, c)
	e.xs = slices.Insert(e.xs, at, x)
	if e.orig != nil {
		e.orig = slices.Insert(e.orig, at, orig)
	}
}

func (e *editTable) deleteCol(i int) {
	e.cols = slices.Delete(e.cols, i, i+1)
	e.xs = slices.Delete(e.xs, i, i+1)
	if e.orig != nil {
		e.orig = slices.Delete(e.orig, i, i+1)
	}
}

func (e *editTable) colIndex(name string) int {
	for i := range e.cols {
		if strings.EqualFold(e.cols[i].Name, name) {
			return i
		}
	}
	return -1
}

// keyNotNull makes column i, part of the primary key, NOT NULL. The DEFAULT
// NULL of a nullable column goes, as the server drops it (SHOW CREATE
// TABLE's, then ADD PRIMARY KEY: main/subselect_sj_nonmerged).
func (e *editTable) keyNotNull(i int) {
	if e.cols[i].Nullable && i < len(e.xs) && e.xs[i].HasDefault && strings.EqualFold(e.xs[i].Default, "NULL") {
		e.xs[i].HasDefault, e.xs[i].Default = false, ""
	}
	e.cols[i].Nullable = false
}

// def publishes the edited table, computing the key: the primary key, else
// the first unique index whose columns are all NOT NULL.
func (e *editTable) def() *TableDef {
	// Primary key columns are NOT NULL, also when the statement names the
	// key before the column it renames or adds ("ADD PRIMARY KEY (b),
	// CHANGE a b INT": the server applies keys after the columns).
	for _, ix := range e.idx {
		if ix.Primary {
			for _, c := range ix.Columns {
				if i := e.colIndex(c); c != "" && i >= 0 {
					e.keyNotNull(i)
				}
			}
		}
	}
	// A system-versioned table's explicit ROW END column ends the primary
	// key and every unique key (PRIMARY KEY (id) is PRIMARY KEY (id, en) in
	// SHOW CREATE TABLE and information_schema; suite/period alter,
	// suite/versioning alter).
	for i, x := range e.xs {
		if !x.PeriodEnd || i >= len(e.cols) {
			continue
		}
		end := e.cols[i].Name
		for k := range e.idx {
			ix := &e.idx[k]
			if !ix.Primary && !ix.Unique || slices.ContainsFunc(ix.Columns, func(c string) bool { return strings.EqualFold(c, end) }) {
				continue
			}
			ix.Columns = append(ix.Columns, end)
			if ix.Lengths != nil {
				ix.Lengths = append(ix.Lengths, 0)
			}
		}
	}
	for i := range e.cols {
		// Debezium's hasDefaultValue: a DEFAULT clause, or nullable (an
		// implicit DEFAULT NULL, ColumnEditorImpl.optional).
		if i < len(e.xs) {
			e.cols[i].HasDefault = e.xs[i].HasDefault || e.cols[i].Nullable
		}
	}
	t := &Table{DB: e.db, Name: e.name, Columns: e.cols}
	pick := func(ix Index, notNull bool) []int {
		key := make([]int, 0, len(ix.Columns))
		for _, c := range ix.Columns {
			i := t.ColumnIndex(c)
			if c == "" || i < 0 || notNull && t.Columns[i].Nullable {
				return nil
			}
			key = append(key, i)
		}
		return key
	}
	for _, ix := range e.idx {
		if ix.Primary {
			t.PrimaryKey = pick(ix, false)
		}
	}
	// The server orders unique NOT NULL keys with a prefix part after the
	// full ones (sort_keys), and SHOW CREATE TABLE prints them in that
	// order, so the first full one wins over an earlier partial one.
	for _, partial := range []bool{false, true} {
		if t.PrimaryKey != nil {
			break
		}
		for _, ix := range e.idx {
			if ix.Unique && !ix.Primary && ix.Partial == partial {
				if k := pick(ix, true); len(k) > 0 {
					t.PrimaryKey = k
					break
				}
			}
		}
	}
	return &TableDef{Table: t, Charset: e.charset, Collation: e.collation, Comment: e.comment, Columns: e.xs, Indexes: e.idx, Engine: e.engine}
}

func (a *applier) createTable(s *ast.CreateTableStmt) error {
	if s.TemporaryKeyword != ast.TemporaryNone {
		a.temporary = true
		return nil // temporary tables never reach the row events of a ROW binlog
	}
	id, err := a.id(s.Table)
	if err != nil {
		return err
	}
	if !a.tr.tracked(id.DB) {
		return nil
	}
	old := a.get(id.DB, id.Name)
	if old != nil && s.IfNotExists {
		return nil
	}
	if s.ReferTable != nil {
		rid, err := a.id(s.ReferTable)
		if err != nil {
			return err
		}
		src := a.get(rid.DB, rid.Name)
		if src == nil {
			return fmt.Errorf("CREATE TABLE %s LIKE %s: %w: %s is not tracked", id, rid, ErrTableNotFound, rid)
		}
		e := src.edit()
		e.db, e.name = id.DB, id.Name
		a.record(TableChange{Type: ChangeCreate, ID: id, Def: e.def()})
		return nil
	}
	if s.Select != nil {
		return fmt.Errorf("CREATE TABLE %s ... SELECT: the column types come from the query, which Rivulet does not evaluate", id)
	}
	e := &editTable{db: id.DB, name: id.Name, charset: a.dbCharset(id.DB)}
	a.tableOptions(e, s.Options, false)
	for _, cd := range s.Cols {
		if err := a.addColumn(e, cd, nil); err != nil {
			return err
		}
	}
	for _, c := range s.Constraints {
		if err := e.addConstraint(c); err != nil {
			return err
		}
	}
	e.implicitPeriod()
	a.record(TableChange{Type: ChangeCreate, ID: id, Def: e.def()})
	return nil
}

// tableOptions applies CHARSET, COLLATE and COMMENT table options; convert
// is CONVERT TO CHARACTER SET, which also changes every string column.
func (a *applier) tableOptions(e *editTable, opts []*ast.TableOption, alter bool) {
	for _, o := range opts {
		switch o.Tp {
		case ast.TableOptionCharset:
			cs := normCharset(o.StrValue)
			if o.Default || cs == "default" || cs == dbDefaultCharset {
				cs = a.dbCharset(e.db)
			}
			if alter && o.UintValue == ast.TableOptionCharsetWithConvertTo {
				e.convertTo(cs)
			}
			if cs != e.charset {
				e.collation = ""
			}
			e.charset = cs
		case ast.TableOptionCollate:
			e.collation = strings.ToLower(o.StrValue)
			if cs := charsetOfCollation(o.StrValue); cs != "" {
				e.charset = cs
			}
		case ast.TableOptionEngine:
			e.engine = strings.ToLower(o.StrValue)
		case ast.TableOptionComment:
			if o.StrValue == versionedMarker {
				e.versioned = true
				continue
			}
			if o.StrValue == unversionedMarker {
				e.unversion()
				continue
			}
			e.comment = o.StrValue
		}
	}
}

// convertTo changes every character column to charset cs, growing TEXT
// types the way the server does so that they keep their capacity in
// characters.
func (e *editTable) convertTo(cs string) {
	for i := range e.cols {
		c := &e.cols[i]
		switch c.Type {
		case TypeEnum, TypeSet:
			c.Charset = cs
		case TypeChar, TypeVarchar:
			// Outside strict mode a column the new character set makes
			// too long changes type as in CREATE TABLE: a CHAR over 1020
			// bytes is a VARCHAR, a VARCHAR over 65532 bytes the smallest
			// TEXT holding it (main/ctype_filename: CHAR(205) latin1
			// CONVERT TO CHARACTER SET filename is varchar(205)).
			c.Charset = cs
			n := c.Length * maxLen(cs)
			if c.Type == TypeChar && n > 1020 {
				c.Type, c.TypeName = TypeVarchar, "VARCHAR"
			}
			if c.Type == TypeVarchar && n > 65532 {
				c.Type, c.TypeName, c.Length = TypeText, blobName(n, true), 0
			}
		case TypeText:
			chars := blobBytes(c.TypeName) / maxLen(c.Charset)
			c.Charset = cs
			c.TypeName = blobName(min(chars*maxLen(cs), 1<<32-1), true)
		default:
			continue
		}
		e.xs[i].Collation = ""
	}
}

// addColumn adds cd at pos (nil: last) along with its inline keys.
func (a *applier) addColumn(e *editTable, cd *ast.ColumnDef, pos *ast.ColumnPosition) error {
	c, x, err := buildDefColumn(cd, e.charset, e.collation, a.tr.cfg.MariaDB)
	if err != nil {
		return err
	}
	a.markBoolean(&c)
	if e.colIndex(c.Name) >= 0 {
		return fmt.Errorf("duplicate column %s", c.Name)
	}
	at, err := e.position(pos, e.appendAt())
	if err != nil {
		return err
	}
	e.insertCol(at, c, x, "")
	e.inlineKeys(cd)
	return nil
}

// inlineKeys adds PRIMARY KEY and UNIQUE declared on a column.
func (e *editTable) inlineKeys(cd *ast.ColumnDef) {
	for _, o := range cd.Options {
		switch o.Tp {
		case ast.ColumnOptionPrimaryKey:
			e.dropPrimary()
			e.idx = append(e.idx, Index{Name: "PRIMARY", Primary: true, Unique: true, Columns: []string{cd.Name.Name.O}})
		case ast.ColumnOptionUniqKey:
			e.idx = append(e.idx, Index{Name: e.indexName(cd.Name.Name.O), Unique: true, Columns: []string{cd.Name.Name.O}})
		}
	}
}

func (e *editTable) dropPrimary() {
	e.idx = slices.DeleteFunc(e.idx, func(ix Index) bool { return ix.Primary })
}

// indexName names an unnamed index after its first column, as the server
// does (col, col_2, col_3, ...).
func (e *editTable) indexName(col string) string {
	name := col
	for n := 2; e.hasIndex(name); n++ {
		name = fmt.Sprintf("%s_%d", col, n)
	}
	return name
}

func (e *editTable) hasIndex(name string) bool {
	for _, ix := range e.idx {
		if strings.EqualFold(ix.Name, name) {
			return true
		}
	}
	return false
}

// position resolves FIRST / AFTER col into an insertion index; none is def.
func (e *editTable) position(pos *ast.ColumnPosition, def int) (int, error) {
	if pos == nil {
		return def, nil
	}
	switch pos.Tp {
	case ast.ColumnPositionFirst:
		return 0, nil
	case ast.ColumnPositionAfter:
		i := e.colIndex(pos.RelativeColumn.Name.O)
		if i < 0 {
			return 0, fmt.Errorf("AFTER %s: no such column", pos.RelativeColumn.Name.O)
		}
		return i + 1, nil
	}
	return def, nil
}

// partial reports whether a key part is a prefix shorter than its column.
func (e *editTable) partial(keys []*ast.IndexPartSpecification) bool {
	for _, k := range keys {
		if k == nil || k.Column == nil || k.Length <= 0 {
			continue
		}
		i := e.colIndex(k.Column.Name.O)
		if i < 0 || e.cols[i].Length <= 0 || int64(k.Length) < int64(e.cols[i].Length) {
			return true
		}
	}
	return false
}

func (e *editTable) addConstraint(c *ast.Constraint) error {
	cols := make([]string, 0, len(c.Keys))
	var lens []int
	for i, k := range c.Keys {
		if k.Column != nil {
			cols = append(cols, k.Column.Name.O)
		} else {
			cols = append(cols, "")
		}
		if k.Length > 0 {
			if lens == nil {
				lens = make([]int, len(c.Keys))
			}
			lens[i] = k.Length
		}
	}
	hash := c.Option != nil && c.Option.Tp == ast.IndexTypeHash
	switch c.Tp {
	case ast.ConstraintPrimaryKey:
		e.dropPrimary()
		e.idx = append(e.idx, Index{Name: "PRIMARY", Primary: true, Unique: true, Columns: cols})
		for _, name := range cols {
			if i := e.colIndex(name); i >= 0 {
				e.keyNotNull(i)
			}
		}
	case ast.ConstraintUniq, ast.ConstraintUniqKey, ast.ConstraintUniqIndex,
		ast.ConstraintKey, ast.ConstraintIndex, ast.ConstraintFulltext:
		name := c.Name
		if name == periodIndex {
			// PERIOD FOR name (start, end), rewritten: both NOT NULL.
			for _, n := range cols {
				if i := e.colIndex(n); i >= 0 {
					e.cols[i].Nullable = false
				}
			}
			return nil
		}
		if c.IfNotExists && name != "" && e.hasIndex(name) {
			return nil
		}
		if name == "" && len(cols) > 0 && cols[0] != "" {
			name = e.indexName(cols[0])
		}
		unique := c.Tp == ast.ConstraintUniq || c.Tp == ast.ConstraintUniqKey || c.Tp == ast.ConstraintUniqIndex
		e.idx = append(e.idx, Index{Name: name, Unique: unique, Columns: cols, Partial: e.partial(c.Keys), Lengths: lens, Hash: hash})
	case ast.ConstraintCheck:
		if c.Expr != nil {
			if f, ok := c.Expr.(*ast.FuncCallExpr); ok && f.FnName.L == "json_valid" && len(f.Args) == 1 {
				if cn, ok := f.Args[0].(*ast.ColumnNameExpr); ok {
					if i := e.colIndex(cn.Name.Name.O); i >= 0 && e.cols[i].TypeName == "LONGTEXT" {
						e.cols[i].Type, e.cols[i].TypeName = TypeJSON, "JSON"
					}
				}
			}
		}
	}
	return nil
}

func (e *editTable) dropIndex(name string, ifExists bool) error {
	n := len(e.idx)
	e.idx = slices.DeleteFunc(e.idx, func(ix Index) bool { return strings.EqualFold(ix.Name, name) })
	if len(e.idx) == n && !ifExists {
		return fmt.Errorf("DROP INDEX %s: no such index", name)
	}
	return nil
}

// prepareKeys does what MariaDB's ALTER TABLE, CREATE INDEX and DROP
// INDEX do to the keys already there (mysql_prepare_alter_table gives a
// long unique key the default algorithm back): a key long only because
// USING HASH was written becomes a plain unique key, one long by its parts
// stays long (main/long_unique_bugs, MDEV-18798: UNIQUE USING HASH on an
// INT is BTREE after ALTER TABLE ... FORCE; TestLongUniqueAfterAlter_MariaDB).
func (e *editTable) prepareKeys() {
	for i := range e.idx {
		if e.idx[i].Long {
			e.idx[i].Hash = false
		}
	}
}

// alterPreparesKeys reports whether an ALTER TABLE goes through the
// server's full preparation of the table, which renaming the table,
// ENABLE/DISABLE KEYS and DROP COLUMN IF EXISTS of a column not there skip
// (measured against MariaDB 10.11's information_schema).
func alterPreparesKeys(e *editTable, specs []*ast.AlterTableSpec) bool {
	for _, sp := range specs {
		switch sp.Tp {
		case ast.AlterTableRenameTable, ast.AlterTableEnableKeys, ast.AlterTableDisableKeys:
			continue
		case ast.AlterTableDropColumn:
			if sp.IfExists && sp.OldColumnName != nil && e.colIndex(sp.OldColumnName.Name.O) < 0 {
				continue
			}
		}
		return true
	}
	return false
}

// dropColumn removes column i and its key parts; indexes left without
// columns disappear.
func (e *editTable) dropColumn(i int) {
	name := e.cols[i].Name
	e.deleteCol(i)
	if e.orig != nil {
		return // ALTER TABLE: rebindIndexes at the end of the statement
	}
	for j := range e.idx {
		ix := &e.idx[j]
		for k := len(ix.Columns) - 1; k >= 0; k-- {
			if strings.EqualFold(ix.Columns[k], name) {
				ix.Columns = slices.Delete(ix.Columns, k, k+1)
				if ix.Lengths != nil {
					ix.Lengths = slices.Delete(ix.Lengths, k, k+1)
				}
			}
		}
	}
	e.idx = slices.DeleteFunc(e.idx, func(ix Index) bool { return len(ix.Columns) == 0 })
}

func (e *editTable) renameColumnInIndexes(old, name string) {
	if e.orig != nil {
		return // ALTER TABLE: rebindIndexes at the end of the statement
	}
	for j := range e.idx {
		for k, c := range e.idx[j].Columns {
			if strings.EqualFold(c, old) {
				e.idx[j].Columns[k] = name
			}
		}
	}
}

func (a *applier) alterTable(s *ast.AlterTableStmt) error {
	id, err := a.id(s.Table)
	if err != nil {
		return err
	}
	if !a.tr.tracked(id.DB) {
		// A rename into a tracked database would need the definition we do not have.
		for _, sp := range s.Specs {
			if sp.Tp == ast.AlterTableRenameTable && sp.NewTable != nil {
				if nid, err := a.id(sp.NewTable); err == nil && a.tr.tracked(nid.DB) {
					return fmt.Errorf("ALTER TABLE %s RENAME TO %s: %w: the source table is in a database that is not tracked", id, nid, ErrTableNotFound)
				}
			}
		}
		return nil
	}
	old := a.get(id.DB, id.Name)
	if old == nil {
		if alterIfExists(a.ddl.SQL) {
			return nil // MariaDB ALTER TABLE IF EXISTS of a table that is not there
		}
		return fmt.Errorf("ALTER TABLE %s: %w: not in the schema model", id, ErrTableNotFound)
	}
	e := old.edit()
	e.orig = make([]string, len(e.cols))
	for i, c := range e.cols {
		e.orig[i] = c.Name
	}
	if a.tr.cfg.MariaDB && alterPreparesKeys(e, s.Specs) {
		e.prepareKeys()
	}
	newID := id
	// DROP COLUMN names a column of the table as it was, and the server
	// drops before it adds (mysql_prepare_alter_table): "ADD id ..., DROP
	// COLUMN id" replaces the column.
	specs := make([]*ast.AlterTableSpec, 0, len(s.Specs))
	for _, drops := range []bool{true, false} {
		for _, sp := range s.Specs {
			if (sp.Tp == ast.AlterTableDropColumn) == drops {
				specs = append(specs, sp)
			}
		}
	}
	for _, sp := range specs {
		if err := a.alterSpec(e, sp, &newID); err != nil {
			return fmt.Errorf("ALTER TABLE %s: %w", id, err)
		}
	}
	// An explicit CHARACTER SET sets the table's default over a CONVERT
	// TO of the same statement, whatever their order (main/ctype_create).
	for _, sp := range s.Specs {
		if sp.Tp != ast.AlterTableOption {
			continue
		}
		for _, o := range sp.Options {
			if o.Tp == ast.TableOptionCharset && o.UintValue != ast.TableOptionCharsetWithConvertTo {
				a.tableOptions(e, []*ast.TableOption{o}, false)
			}
		}
	}
	e.rebindIndexes()
	e.implicitPeriod()
	for i := range e.cols {
		for j := i + 1; j < len(e.cols); j++ {
			if strings.EqualFold(e.cols[i].Name, e.cols[j].Name) {
				return fmt.Errorf("ALTER TABLE %s: two columns named %s", id, e.cols[i].Name)
			}
		}
	}
	tc := TableChange{Type: ChangeAlter, ID: newID}
	if newID != id {
		if !a.tr.tracked(newID.DB) {
			a.put(id.DB, id.Name, nil)
			a.changes = append(a.changes, TableChange{Type: ChangeDrop, ID: id, Def: old})
			return nil
		}
		tc.PreviousID = id
		a.put(id.DB, id.Name, nil)
		e.db, e.name = newID.DB, newID.Name
	}
	tc.Def = e.def()
	a.record(tc)
	return nil
}

func (a *applier) alterSpec(e *editTable, sp *ast.AlterTableSpec, newID *TableID) error {
	switch sp.Tp {
	case ast.AlterTableOption:
		a.tableOptions(e, sp.Options, true)
	case ast.AlterTableAddColumns:
		for i, cd := range sp.NewColumns {
			if sp.IfNotExists && e.colIndex(cd.Name.Name.O) >= 0 {
				continue
			}
			pos := sp.Position
			if i > 0 {
				pos = &ast.ColumnPosition{Tp: ast.ColumnPositionAfter, RelativeColumn: sp.NewColumns[i-1].Name}
				if sp.Position == nil || sp.Position.Tp == ast.ColumnPositionNone {
					pos = nil
				}
			}
			if err := a.addColumn(e, cd, pos); err != nil {
				return err
			}
		}
		for _, c := range sp.NewConstraints {
			if err := e.addConstraint(c); err != nil {
				return err
			}
		}
	case ast.AlterTableAddConstraint:
		return e.addConstraint(sp.Constraint)
	case ast.AlterTableDropColumn:
		i := e.oldIndex(sp.OldColumnName.Name.O)
		if i < 0 {
			if sp.IfExists {
				return nil
			}
			return fmt.Errorf("DROP COLUMN %s: no such column", sp.OldColumnName.Name.O)
		}
		e.dropColumn(i)
	case ast.AlterTableDropPrimaryKey:
		e.dropPrimary()
	case ast.AlterTableDropIndex:
		return e.dropIndex(sp.Name, sp.IfExists)
	case ast.AlterTableModifyColumn, ast.AlterTableChangeColumn:
		oldName := ""
		if sp.Tp == ast.AlterTableChangeColumn {
			oldName = sp.OldColumnName.Name.O
		} else if len(sp.NewColumns) > 0 {
			oldName = sp.NewColumns[0].Name.Name.O
		}
		if len(sp.NewColumns) != 1 {
			return fmt.Errorf("MODIFY/CHANGE COLUMN %s without a definition", oldName)
		}
		i := e.oldIndex(oldName)
		if i < 0 {
			if sp.IfExists {
				return nil
			}
			return fmt.Errorf("CHANGE/MODIFY COLUMN %s: no such column", oldName)
		}
		cd := sp.NewColumns[0]
		c, x, err := buildDefColumn(cd, e.charset, e.collation, a.tr.cfg.MariaDB)
		if err != nil {
			return err
		}
		a.markBoolean(&c)
		if inPrimary(e, e.nameBefore(i)) {
			c.Nullable = false
		}
		e.renameColumnInIndexes(e.cols[i].Name, c.Name)
		if sp.Position == nil || sp.Position.Tp == ast.ColumnPositionNone {
			e.cols[i], e.xs[i] = c, x
		} else {
			orig := ""
			if e.orig != nil {
				orig = e.orig[i]
			}
			e.deleteCol(i)
			at, err := e.position(sp.Position, i)
			if err != nil {
				return err
			}
			e.insertCol(at, c, x, orig)
		}
		e.inlineKeys(cd)
	case ast.AlterTableRenameColumn:
		i := e.oldIndex(sp.OldColumnName.Name.O)
		if i < 0 && renameIfExists(a.ddl.SQL) {
			return nil
		}
		if i < 0 {
			return fmt.Errorf("RENAME COLUMN %s: no such column", sp.OldColumnName.Name.O)
		}
		e.renameColumnInIndexes(e.cols[i].Name, sp.NewColumnName.Name.O)
		e.cols[i].Name = sp.NewColumnName.Name.O
	case ast.AlterTableRenameTable:
		nid, err := a.id(sp.NewTable)
		if err != nil {
			return err
		}
		if nid != *newID && a.get(nid.DB, nid.Name) != nil && !strings.EqualFold(nid.String(), newID.String()) {
			return fmt.Errorf("RENAME TO %s: the table exists", nid)
		}
		*newID = nid
	case ast.AlterTableAlterColumn:
		if len(sp.NewColumns) == 0 {
			return nil
		}
		cd := sp.NewColumns[0]
		i := e.oldIndex(cd.Name.Name.O)
		if i < 0 {
			return fmt.Errorf("ALTER COLUMN %s: no such column", cd.Name.Name.O)
		}
		e.xs[i].HasDefault, e.xs[i].Default = false, ""
		e.cols[i].HasDefault, e.cols[i].Default = false, nil
		for _, o := range cd.Options {
			// The parser gives SET DEFAULT's option no type (Tp 0).
			if o.Tp == ast.ColumnOptionDefaultValue || o.Expr != nil {
				e.xs[i].HasDefault, e.xs[i].Default = true, restoreExpr(o.Expr)
				e.cols[i].HasDefault, e.cols[i].Default = true, debeziumDefault(o.Expr)
			}
		}
	case ast.AlterTableRenameIndex:
		for j := range e.idx {
			if strings.EqualFold(e.idx[j].Name, sp.FromKey.O) {
				e.idx[j].Name = sp.ToKey.O
			}
		}
	}
	return nil
}

func inPrimary(e *editTable, col string) bool {
	for _, ix := range e.idx {
		if ix.Primary && slices.ContainsFunc(ix.Columns, func(c string) bool { return strings.EqualFold(c, col) }) {
			return true
		}
	}
	return false
}

func (a *applier) dropTable(s *ast.DropTableStmt) error {
	if s.IsView || s.TemporaryKeyword != ast.TemporaryNone {
		a.temporary = true
		return nil
	}
	for _, tn := range s.Tables {
		id, err := a.id(tn)
		if err != nil {
			return err
		}
		if !a.tr.tracked(id.DB) {
			continue
		}
		old := a.get(id.DB, id.Name)
		if old == nil {
			continue // IF EXISTS, or a table we never knew: nothing to drop
		}
		a.put(id.DB, id.Name, nil)
		a.changes = append(a.changes, TableChange{Type: ChangeDrop, ID: id, Def: old})
	}
	return nil
}

func (a *applier) renameTable(s *ast.RenameTableStmt) error {
	for _, tt := range s.TableToTables {
		from, err := a.id(tt.OldTable)
		if err != nil {
			return err
		}
		to, err := a.id(tt.NewTable)
		if err != nil {
			return err
		}
		old := a.get(from.DB, from.Name)
		switch {
		case !a.tr.tracked(from.DB) && !a.tr.tracked(to.DB):
			continue
		case old == nil && a.tr.tracked(to.DB):
			if !a.tr.tracked(from.DB) {
				return fmt.Errorf("RENAME TABLE %s TO %s: %w: the source table is in a database that is not tracked", from, to, ErrTableNotFound)
			}
			return fmt.Errorf("RENAME TABLE %s TO %s: %w: not in the schema model", from, to, ErrTableNotFound)
		case old == nil:
			continue
		}
		a.put(from.DB, from.Name, nil)
		if !a.tr.tracked(to.DB) {
			a.changes = append(a.changes, TableChange{Type: ChangeDrop, ID: from, Def: old})
			continue
		}
		e := old.edit()
		e.db, e.name = to.DB, to.Name
		a.record(TableChange{Type: ChangeAlter, ID: to, PreviousID: from, Def: e.def()})
	}
	return nil
}

func (a *applier) createIndex(s *ast.CreateIndexStmt) error {
	id, err := a.id(s.Table)
	if err != nil {
		return err
	}
	if !a.tr.tracked(id.DB) {
		return nil
	}
	old := a.get(id.DB, id.Name)
	if old == nil {
		return fmt.Errorf("CREATE INDEX on %s: %w: not in the schema model", id, ErrTableNotFound)
	}
	e := old.edit()
	if s.IfNotExists && e.hasIndex(s.IndexName) {
		return nil
	}
	if a.tr.cfg.MariaDB {
		e.prepareKeys()
	}
	tp := ast.ConstraintIndex
	if s.KeyType == ast.IndexKeyTypeUnique {
		tp = ast.ConstraintUniq
	}
	if err := e.addConstraint(&ast.Constraint{Tp: tp, Name: s.IndexName, Keys: s.IndexPartSpecifications}); err != nil {
		return err
	}
	a.record(TableChange{Type: ChangeAlter, ID: id, Def: e.def()})
	return nil
}

func (a *applier) dropIndex(s *ast.DropIndexStmt) error {
	id, err := a.id(s.Table)
	if err != nil {
		return err
	}
	if !a.tr.tracked(id.DB) {
		return nil
	}
	old := a.get(id.DB, id.Name)
	if old == nil {
		return fmt.Errorf("DROP INDEX on %s: %w: not in the schema model", id, ErrTableNotFound)
	}
	e := old.edit()
	if a.tr.cfg.MariaDB && (!s.IfExists || e.hasIndex(s.IndexName)) {
		e.prepareKeys()
	}
	if strings.EqualFold(s.IndexName, "PRIMARY") {
		e.dropPrimary()
	} else if err := e.dropIndex(s.IndexName, s.IfExists); err != nil {
		return err
	}
	a.record(TableChange{Type: ChangeAlter, ID: id, Def: e.def()})
	return nil
}

// neutralChange returns the record of a column-neutral statement the
// parser could not read (ClassifyNeutral), and whether it is one. A
// statement that adds a UNIQUE index, or drops a UNIQUE one, to a table
// without a primary key is not neutral: Debezium's key for such a table is
// its first UNIQUE index of NOT NULL columns.
func (tr *Tracker) neutralChange(d DDL) (*Change, bool) {
	n, ok := ClassifyNeutral(d.SQL, d.DB)
	if !ok {
		return nil, false
	}
	def := tr.Def(n.Table.DB, n.Table.Name)
	if def != nil && (n.AddsUnique || len(n.DropsIndexes) > 0) && !hasPrimary(def) {
		if n.AddsUnique {
			return nil, false
		}
		for _, name := range n.DropsIndexes {
			for _, ix := range def.Indexes {
				if ix.Unique && strings.EqualFold(ix.Name, name) {
					return nil, false
				}
			}
		}
	}
	if def != nil && tr.cfg.MariaDB && mayChangeHashColumns(def, n, d.SQL) {
		return nil, false
	}
	if !tr.tracked(n.Table.DB) {
		return nil, true
	}
	c := &Change{DB: n.Table.DB, DDL: d.SQL}
	if def != nil {
		c.Tables = []TableChange{{Type: ChangeAlter, ID: TableID{DB: def.Table.DB, Name: def.Table.Name}, Def: def}}
	}
	return tr.storeRule(c), true
}

func hasPrimary(d *TableDef) bool {
	for _, ix := range d.Indexes {
		if ix.Primary {
			return true
		}
	}
	return false
}

// storeRule applies schema.history.internal.store.only.captured.tables.ddl:
// when set, a change is recorded only if it touches a captured table
// (Debezium's BinlogDatabaseSchema: ddlChanges.anyMatch(filters)), or is a
// SET statement without a database. The model has moved either way.
func (tr *Tracker) storeRule(c *Change) *Change {
	if c == nil || !tr.cfg.StoreOnlyCapturedTablesDDL {
		return c
	}
	if tr.Captured(c) {
		return c
	}
	if c.DB == "" {
		if w := words(c.DDL, 1); len(w) == 1 && w[0] == "SET" {
			return c
		}
	}
	return nil
}

// orReplaceDatabase reports whether sql is MariaDB's CREATE OR REPLACE
// DATABASE|SCHEMA (the rewrite drops OR REPLACE before the parse).
func orReplaceDatabase(sql string) bool {
	t := sigTokens(stripSetStatement(sql), 0)
	return len(t) > 3 && strings.EqualFold(t[0], "CREATE") && strings.EqualFold(t[1], "OR") &&
		strings.EqualFold(t[2], "REPLACE") && (strings.EqualFold(t[3], "DATABASE") || strings.EqualFold(t[3], "SCHEMA"))
}

// renameIfExists reports whether sql holds MariaDB's RENAME COLUMN IF
// EXISTS (the rewrite drops IF EXISTS before the parse).
func renameIfExists(sql string) bool {
	t := sigTokens(stripSetStatement(sql), 0)
	for i := 0; i+3 < len(t); i++ {
		if strings.EqualFold(t[i], "RENAME") && strings.EqualFold(t[i+1], "COLUMN") &&
			strings.EqualFold(t[i+2], "IF") && strings.EqualFold(t[i+3], "EXISTS") {
			return true
		}
	}
	return false
}

// alterIfExists reports whether sql is MariaDB's ALTER TABLE IF EXISTS.
func alterIfExists(sql string) bool {
	t := sigTokens(stripSetStatement(sql), 0)
	for i := 0; i+3 < len(t) && i < 4; i++ {
		if strings.EqualFold(t[i], "TABLE") {
			return strings.EqualFold(t[i+1], "IF") && strings.EqualFold(t[i+2], "EXISTS")
		}
	}
	return false
}

// appendAt is where a column added without FIRST/AFTER goes: the end, but
// before MariaDB's implicit system-versioning columns row_start and row_end
// (the server keeps them last, as the row images show).
func (e *editTable) appendAt() int {
	n := len(e.cols)
	if n >= 2 && strings.EqualFold(e.cols[n-2].Name, "row_start") && strings.EqualFold(e.cols[n-1].Name, "row_end") &&
		e.xs[n-2].Generated && e.xs[n-1].Generated {
		return n - 2
	}
	return n
}
