package schema

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// TableDef is one version of a table as the schema history records it: the
// decoding model (Table) plus what DDL needs to apply the next statement
// (indexes, charsets) and what Debezium's tableChanges carry (defaults,
// auto-increment, comments). Immutable once published.
type TableDef struct {
	Table     *Table
	Charset   string // table default character set
	Collation string // table default collation, "" when unknown
	Comment   string
	Columns   []ColumnDef // parallel to Table.Columns
	Indexes   []Index
	// Engine is the ENGINE table option, lower case; "" when the
	// statements never named one (the server's default, InnoDB).
	Engine string
}

// ColumnDef holds a column's attributes that do not affect decoding.
type ColumnDef struct {
	Collation     string
	AutoIncrement bool
	Generated     bool
	HasDefault    bool
	Default       string // the DEFAULT expression as written (restored), when HasDefault
	Comment       string
	// TypeExpression is the type as declared ("varchar(10)", "int(10) unsigned").
	TypeExpression string
	// PeriodColumn marks MariaDB's explicit system-time period columns
	// (GENERATED ALWAYS AS ROW START|END).
	PeriodColumn bool
	// PeriodEnd marks the ROW END one: the server appends it to the
	// primary key and every unique key.
	PeriodEnd bool
}

// Index is one index of a table. Columns are names ("" for an expression part).
type Index struct {
	Name    string
	Primary bool
	Unique  bool
	Columns []string
	// Partial is set when a key part is a prefix shorter than its column
	// (b(1) of a CHAR(10)): the server sorts such unique keys after the
	// full ones, and takes the first full UNIQUE NOT NULL key as the
	// table's implicit primary key (MariaDB sql_table.cc sort_keys).
	Partial bool
	// Lengths holds each key part's prefix length in characters (0: the
	// whole column); nil when no part has one.
	Lengths []int `json:",omitempty"`
	// Hash is USING HASH.
	Hash bool `json:",omitempty"`
	// Long marks a MariaDB long unique key: it has a hidden hash column
	// (Table.HashColumns counts them). Kept in the history's index list,
	// which has no ENGINE to work it out again.
	Long bool `json:",omitempty"`
}

// TrackerConfig configures a Tracker.
type TrackerConfig struct {
	// Filter selects captured tables (Table returns nil for others) and
	// columns (Column.Excluded). Tables of databases it excludes are not
	// tracked at all. Nil captures everything outside the system databases.
	Filter *Filter
	// MariaDB selects MariaDB's spelling of the model where the flavors
	// differ (integer display widths, JSON as utf8mb4 LONGTEXT).
	MariaDB bool
	// ServerCharset is the server's character_set_server, the default of a
	// CREATE DATABASE without one when the event carries none. Default utf8mb4.
	ServerCharset string
	// CaseSensitiveNames is lower_case_table_names=0 (the default on
	// Linux): database and table names that differ by case name different
	// tables. LoadFrom and DetectFlavor set it from the server.
	CaseSensitiveNames bool
	// SkipUnparseableDDL is schema.history.internal.skip.unparseable.ddl:
	// skip a statement that cannot be applied even when it names a captured
	// table (the table map check then catches rows that no longer fit).
	SkipUnparseableDDL bool
	// Reload, when set, turns on the fallbacks for a statement that may
	// change the columns of a captured table and cannot be parsed (see
	// Tracker.fallback): it is the connection the live table is read from,
	// and LookAhead reads the binlog after the statement. OnFallback is
	// called for each table resolved (to log it at WARN and count it by
	// kind: FallbackMetadata, FallbackReload, FallbackDropped); err is nil
	// for a TABLE_MAP of a table the model lacked (ResolveTable).
	Reload     *Loader
	LookAhead  LookAheadFunc
	OnFallback func(d DDL, kind string, table TableID, err *DDLError)
	// OnNeutral is called for every statement the parser could not read
	// that ClassifyNeutral found column-neutral: it is recorded (an ALTER of
	// the table as it stands) and streaming goes on (to log it at INFO and
	// count it).
	OnNeutral func(d DDL, err *DDLError)
	// StoreOnlyCapturedTablesDDL is
	// schema.history.internal.store.only.captured.tables.ddl: record only
	// statements that change a captured table.
	StoreOnlyCapturedTablesDDL bool
	// StoreOtherDatabasesDDL is the opposite of
	// schema.history.internal.store.only.captured.databases.ddl (whose
	// default is true): when set, tables of every database are tracked and
	// their DDL recorded, not only those of captured databases.
	StoreOtherDatabasesDDL bool
	// OnSkip is called for every skipped statement (to log a warning and
	// count it); captured tells whether it named a captured table.
	OnSkip func(d DDL, err *DDLError, captured bool)
}

// Tracker is the in-memory schema model at one binlog position, moved
// forward by ApplyDDL. It implements the binlog reader's table lookup
// (Table) and its DDL hook. Methods are safe for concurrent use, but the
// model only makes sense to one reader at a time.
type Tracker struct {
	cfg TrackerConfig

	mu     sync.RWMutex
	dbs    map[string]string // lower-case db name -> default charset
	dbName map[string]string // lower-case -> as created
	tables map[tableKey]*TableDef
	// stale marks tables whose definition an unparsed statement may have
	// changed (kept because the table is dropped or renamed away before any
	// row of it): Table refuses them, so a TABLE_MAP resolves them again.
	stale  map[tableKey]bool
	parser *ddlParser
}

// tableKey is a table id as the server compares them: lower case, or as
// written when names are case-sensitive (CaseSensitiveNames).
type tableKey struct{ db, name string }

func (tr *Tracker) keyOf(db, name string) tableKey {
	return tableKey{tr.fold(db), tr.fold(name)}
}

// fold is a database or table name as the model's maps key it.
func (tr *Tracker) fold(s string) string {
	if tr.cfg.CaseSensitiveNames {
		return s
	}
	return strings.ToLower(s)
}

// setCaseSensitive switches how names compare, keying the model again.
// Callers hold mu.
func (tr *Tracker) setCaseSensitive(on bool) {
	if tr.cfg.CaseSensitiveNames == on {
		return
	}
	tr.cfg.CaseSensitiveNames = on
	tables := make(map[tableKey]*TableDef, len(tr.tables))
	for k, d := range tr.tables {
		if d != nil && d.Table != nil {
			k = tr.keyOf(d.Table.DB, d.Table.Name)
		}
		tables[k] = d
	}
	stale := make(map[tableKey]bool, len(tr.stale))
	for k, v := range tr.stale {
		if d := tr.tables[k]; d != nil && d.Table != nil {
			k = tr.keyOf(d.Table.DB, d.Table.Name)
		}
		stale[k] = v
	}
	dbs, names := make(map[string]string, len(tr.dbs)), make(map[string]string, len(tr.dbName))
	for k, cs := range tr.dbs {
		n := tr.dbName[k]
		if n == "" {
			n = k
		}
		dbs[tr.fold(n)], names[tr.fold(n)] = cs, n
	}
	tr.tables, tr.stale, tr.dbs, tr.dbName = tables, stale, dbs, names
}

// NewTracker returns an empty model.
func NewTracker(cfg TrackerConfig) *Tracker {
	if cfg.ServerCharset == "" {
		cfg.ServerCharset = "utf8mb4"
	}
	return &Tracker{
		cfg:    cfg,
		dbs:    make(map[string]string),
		dbName: make(map[string]string),
		tables: make(map[tableKey]*TableDef),
		stale:  make(map[tableKey]bool),
		parser: newDDLParser(),
	}
}

// Table returns the tracked version of db.name, or nil and no error when the
// table is not captured. A captured table the model does not know is an
// error wrapping ErrTableNotFound.
func (tr *Tracker) Table(_ context.Context, db, name string) (*Table, error) {
	if !tr.cfg.Filter.Table(db, name) {
		return nil, nil
	}
	tr.mu.RLock()
	d, stale := tr.tables[tr.keyOf(db, name)], tr.stale[tr.keyOf(db, name)]
	tr.mu.RUnlock()
	if d == nil {
		return nil, fmt.Errorf("%w: %s.%s is not in the schema history", ErrTableNotFound, db, name)
	}
	if stale {
		return nil, fmt.Errorf("%w: %s.%s was changed by a statement that could not be parsed", ErrTableNotFound, db, name)
	}
	return d.Table, nil
}

// Def returns the tracked definition of db.name, or nil.
func (tr *Tracker) Def(db, name string) *TableDef {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	return tr.tables[tr.keyOf(db, name)]
}

// Tables returns every tracked table definition, sorted by database and name.
func (tr *Tracker) Tables() []*TableDef {
	tr.mu.RLock()
	defs := slices.Collect(maps.Values(tr.tables))
	tr.mu.RUnlock()
	slices.SortFunc(defs, func(a, b *TableDef) int {
		if c := strings.Compare(a.Table.DB, b.Table.DB); c != 0 {
			return c
		}
		return strings.Compare(a.Table.Name, b.Table.Name)
	})
	return defs
}

// Databases returns the tracked databases and their default charsets.
func (tr *Tracker) Databases() map[string]string {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	out := make(map[string]string, len(tr.dbs))
	for k, cs := range tr.dbs {
		out[tr.dbName[k]] = cs
	}
	return out
}

// Captured reports whether the change touches a captured table.
func (tr *Tracker) Captured(c *Change) bool {
	for _, tc := range c.Tables {
		if tr.cfg.Filter.Table(tc.ID.DB, tc.ID.Name) || tc.PreviousID.DB != "" && tr.cfg.Filter.Table(tc.PreviousID.DB, tc.PreviousID.Name) {
			return true
		}
	}
	return false
}

// Tracked reports whether tables of database db are tracked.
func (tr *Tracker) tracked(db string) bool {
	if tr.cfg.StoreOtherDatabasesDDL {
		return !IsSystemDatabase(db)
	}
	return tr.cfg.Filter.Database(db)
}

// ApplyChange applies a recorded change (from the schema history) without
// parsing: CREATE and ALTER overwrite the table, DROP removes it, a
// PreviousID renames. It is Debezium's recovery from tableChanges.
func (tr *Tracker) ApplyChange(c *Change) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, tc := range c.Tables {
		if tc.PreviousID.Name != "" {
			delete(tr.tables, tr.keyOf(tc.PreviousID.DB, tc.PreviousID.Name))
		}
		k := tr.keyOf(tc.ID.DB, tc.ID.Name)
		switch tc.Type {
		case ChangeDrop:
			delete(tr.tables, k)
		default:
			if tc.Def != nil {
				tr.ensureDB(tc.ID.DB, "")
				tr.tables[k] = tr.withFilter(tc.Def)
			}
		}
	}
}

// SetDatabase records database db with its default charset (recovery and
// the initial load).
func (tr *Tracker) SetDatabase(db, charset string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	k := tr.fold(db)
	tr.dbs[k] = normCharset(charset)
	tr.dbName[k] = db
}

// ensureDB records db if unknown, with charset or the server's default.
// Callers hold mu.
func (tr *Tracker) ensureDB(db, charset string) {
	k := tr.fold(db)
	if _, ok := tr.dbs[k]; ok {
		return
	}
	if charset == "" {
		charset = tr.cfg.ServerCharset
	}
	tr.dbs[k] = normCharset(charset)
	tr.dbName[k] = db
}

// withFilter returns d with Column.Excluded set per the column filter and
// MessageKey per message.key.columns (a copy when anything differs).
func (tr *Tracker) withFilter(d *TableDef) *TableDef {
	t := d.Table
	key := tr.cfg.Filter.MessageKey(t)
	same := slices.Equal(key, t.MessageKey) && (key == nil) == (t.MessageKey == nil)
	for i := range t.Columns {
		if t.Columns[i].Excluded != !tr.cfg.Filter.Column(t.DB, t.Name, t.Columns[i].Name) {
			same = false
			break
		}
	}
	if same {
		return d
	}
	nt := *t
	nt.Columns = slices.Clone(t.Columns)
	for i := range nt.Columns {
		nt.Columns[i].Excluded = !tr.cfg.Filter.Column(t.DB, t.Name, nt.Columns[i].Name)
	}
	nt.MessageKey = key
	nd := *d
	nd.Table = &nt
	return &nd
}

// SetReload turns on the fallbacks for unparseable statements
// (TrackerConfig.Reload and LookAhead).
func (tr *Tracker) SetReload(l *Loader, look LookAheadFunc) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.cfg.Reload, tr.cfg.LookAhead = l, look
}

// TablesNamed returns the tables a DDL statement names, as far as its words
// tell (db qualifies unqualified names).
func TablesNamed(sql, db string) []TableID { return guessTables(sql, db) }
