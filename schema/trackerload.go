package schema

import (
	"context"
	"fmt"
	"strings"
)

// LoadFrom fills the model with the current schema of the tracked databases
// as the live server reports it, and returns the changes to record as the
// start of the schema history: per database a CREATE DATABASE, per table its
// SHOW CREATE TABLE text with the table's definition. Tables whose SHOW
// CREATE TABLE the parser does not take are read from information_schema
// instead (their record then holds the text for reference only).
//
// It is used when there is neither a history nor a stored offset, and by
// snapshot.mode=recovery. The server must not change schemas meanwhile for
// the model to match the binlog position taken just before.
func (tr *Tracker) LoadFrom(ctx context.Context, l *Loader) ([]*Change, error) {
	history, _, err := tr.LoadSnapshot(ctx, l)
	return history, err
}

// LoadSnapshot is LoadFrom that also returns the schema-change events
// Debezium's snapshot publishes on the schema change topic for the same
// schema (BinlogSnapshotChangeEventSource.readTableStructure, seen by the
// differential suite): SET character_set_server=…, collation_server=…;
// DROP TABLE IF EXISTS of every table; then per database with tables
// DROP DATABASE IF EXISTS, CREATE DATABASE … CHARSET … COLLATE …, USE and
// each table's SHOW CREATE TABLE with its definition.
func (tr *Tracker) LoadSnapshot(ctx context.Context, l *Loader) (history, topic []*Change, err error) {
	cs, err := l.queryString(ctx, "SELECT @@character_set_server")
	if err != nil {
		return nil, nil, fmt.Errorf("read character_set_server: %w", err)
	}
	if cs != "" {
		tr.cfg.ServerCharset = normCharset(cs)
	}
	coll, err := l.queryString(ctx, "SELECT @@collation_server")
	if err != nil {
		return nil, nil, fmt.Errorf("read collation_server: %w", err)
	}
	tr.cfg.MariaDB = l.isMariaDB()
	res, err := l.conn.execute(ctx, "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME")
	if err != nil {
		return nil, nil, fmt.Errorf("list databases: %w", err)
	}
	type dbInfo struct {
		name, charset, collation string
		tables                   []string
	}
	var dbs []dbInfo
	if res.Resultset != nil {
		for r := range res.RowNumber() {
			name, err1 := cloned(res.GetString(r, 0))
			charset, err2 := cloned(res.GetString(r, 1))
			collation, err3 := cloned(res.GetString(r, 2))
			if err1 != nil || err2 != nil || err3 != nil {
				res.Close()
				return nil, nil, fmt.Errorf("list databases: unexpected result")
			}
			if tr.tracked(name) {
				dbs = append(dbs, dbInfo{name: strings.Clone(name), charset: strings.Clone(charset), collation: strings.Clone(collation)})
			}
		}
	}
	res.Close()
	for i := range dbs {
		db := &dbs[i]
		res, err := l.conn.execute(ctx, "SHOW FULL TABLES FROM "+quoteIdent(db.name))
		if err != nil {
			return nil, nil, fmt.Errorf("list tables of %s: %w", db.name, err)
		}
		if res.Resultset != nil {
			for r := range res.RowNumber() {
				name, err1 := cloned(res.GetString(r, 0))
				kind, err2 := cloned(res.GetString(r, 1))
				if err1 != nil || err2 != nil {
					res.Close()
					return nil, nil, fmt.Errorf("list tables of %s: unexpected result", db.name)
				}
				if kind == "BASE TABLE" || kind == "SYSTEM VERSIONED" {
					db.tables = append(db.tables, strings.Clone(name))
				}
			}
		}
		res.Close()
	}

	topic = append(topic, &Change{DDL: "SET character_set_server=" + cs + ", collation_server=" + coll})
	for _, db := range dbs {
		for _, name := range db.tables {
			id := TableID{DB: db.name, Name: name}
			topic = append(topic, &Change{DB: db.name, DDL: "DROP TABLE IF EXISTS " + quoteIdent(db.name) + "." + quoteIdent(name),
				Tables: []TableChange{{Type: ChangeDrop, ID: id}}})
		}
	}
	for _, db := range dbs {
		tr.SetDatabase(db.name, db.charset)
		history = append(history, &Change{DB: db.name,
			DDL: "CREATE DATABASE " + quoteIdent(db.name) + " CHARACTER SET " + normCharset(db.charset)})
		if len(db.tables) > 0 {
			topic = append(topic,
				&Change{DB: db.name, DDL: "DROP DATABASE IF EXISTS " + quoteIdent(db.name)},
				&Change{DB: db.name, DDL: "CREATE DATABASE " + quoteIdent(db.name) + " CHARSET " + db.charset + " COLLATE " + db.collation},
				&Change{DB: db.name, DDL: "USE " + quoteIdent(db.name)})
		}
		for _, name := range db.tables {
			c, err := tr.loadTable(ctx, l, db.name, name)
			if err != nil {
				return nil, nil, err
			}
			history = append(history, c)
			topic = append(topic, c)
		}
	}
	return history, topic, nil
}

// loadTable reads one table's definition into the model.
func (tr *Tracker) loadTable(ctx context.Context, l *Loader, db, name string) (*Change, error) {
	res, err := l.conn.execute(ctx, "SHOW CREATE TABLE "+quoteIdent(db)+"."+quoteIdent(name))
	if err != nil {
		return nil, fmt.Errorf("show create table %s.%s: %w", db, name, err)
	}
	ddl := ""
	if res.Resultset != nil && res.RowNumber() > 0 {
		ddl, err = cloned(res.GetString(0, 1))
	}
	res.Close()
	if err != nil {
		return nil, fmt.Errorf("show create table %s.%s: %w", db, name, err)
	}
	ddl = strings.Clone(ddl)
	c, err := tr.ApplyDDL(ctx, DDL{DB: db, SQL: ddl, Pos: "snapshot", fromServer: true})
	if err == nil && c != nil && len(c.Tables) == 1 {
		// SHOW CREATE TABLE is preferred over information_schema, which
		// hides MariaDB's implicit row_start/row_end columns that row
		// images carry.
		return c, nil
	}
	// Fall back to information_schema.
	t, err := l.load(ctx, TableID{db, name})
	if err != nil {
		return nil, fmt.Errorf("load table %s.%s: %w", db, name, err)
	}
	idx, err := l.indexes(ctx, TableID{db, name})
	if err != nil {
		return nil, err
	}
	def := &TableDef{Table: t, Charset: tr.dbCharset(db), Columns: make([]ColumnDef, len(t.Columns))}
	for _, ix := range idx {
		def.Indexes = append(def.Indexes, Index{Name: ix.name, Primary: ix.name == "PRIMARY", Unique: ix.unique, Columns: ix.columns, Partial: ix.partial})
	}
	id := TableID{db, name}
	c = &Change{DB: db, DDL: ddl, Tables: []TableChange{{Type: ChangeCreate, ID: id, Def: def}}}
	tr.ApplyChange(c)
	c.Tables[0].Def = tr.Def(db, name)
	return c, nil
}

func (tr *Tracker) dbCharset(db string) string {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	if cs, ok := tr.dbs[strings.ToLower(db)]; ok {
		return cs
	}
	return tr.cfg.ServerCharset
}

// sameColumns compares the decoding-relevant parts of two table versions.
func sameColumns(a, b *Table) bool {
	if len(a.Columns) != len(b.Columns) || len(a.PrimaryKey) != len(b.PrimaryKey) {
		return false
	}
	for i := range a.PrimaryKey {
		if a.PrimaryKey[i] != b.PrimaryKey[i] {
			return false
		}
	}
	for i := range a.Columns {
		x, y := &a.Columns[i], &b.Columns[i]
		if x.Name != y.Name || x.Type != y.Type || x.Unsigned != y.Unsigned || x.Nullable != y.Nullable ||
			x.Length != y.Length || x.Scale != y.Scale || x.FSP != y.FSP || x.Charset != y.Charset ||
			len(x.Values) != len(y.Values) || x.TypeName != y.TypeName {
			return false
		}
		for j := range x.Values {
			if x.Values[j] != y.Values[j] {
				return false
			}
		}
	}
	return true
}

// queryString runs a query returning one value.
func (l *Loader) queryString(ctx context.Context, q string) (string, error) {
	res, err := l.conn.execute(ctx, q)
	if err != nil {
		return "", err
	}
	defer res.Close()
	if res.Resultset == nil || res.RowNumber() == 0 {
		return "", nil
	}
	s, err := cloned(res.GetString(0, 0))
	return strings.Clone(s), err
}

// DetectFlavor sets TrackerConfig.MariaDB and ServerCharset from the live
// server (SELECT VERSION(), @@character_set_server), for a model rebuilt
// from the history rather than read from the server.
func (tr *Tracker) DetectFlavor(ctx context.Context, l *Loader) error {
	v, err := l.queryString(ctx, "SELECT VERSION()")
	if err != nil {
		return fmt.Errorf("read the server version: %w", err)
	}
	cs, err := l.queryString(ctx, "SELECT @@character_set_server")
	if err != nil {
		return fmt.Errorf("read character_set_server: %w", err)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.cfg.MariaDB = strings.Contains(strings.ToLower(v), "mariadb")
	if cs != "" {
		tr.cfg.ServerCharset = normCharset(cs)
	}
	return nil
}
