package schema

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Fallback kinds: how a statement the parser could not read (or a TABLE_MAP
// of a table the model lacks) was resolved. They label the fallback metric.
const (
	// FallbackMetadata: the table as the binlog's TABLE_MAP full row
	// metadata describes it (binlog_row_metadata=FULL).
	FallbackMetadata = "binlog_metadata"
	// FallbackReload: the live table from the server, when the look-ahead
	// shows no later statement names it.
	FallbackReload = "reload"
	// FallbackDropped: the table is dropped or renamed away later with no
	// row of it in between; what is known is recorded and nothing needs
	// decoding.
	FallbackDropped = "dropped_later"
)

// Later is what the binlog holds after a statement for one table it names,
// as a look-ahead read it (TrackerConfig.LookAhead).
type Later struct {
	// RowsBefore tells that a TABLE_MAP of the table comes before Stmt (or
	// anywhere, when Stmt is ""); Map is the table its full row metadata
	// describes (TableFromMap), nil when the server does not log it.
	RowsBefore bool
	Map        *TableDef
	// Stmt is the first later statement naming the table, "" when none;
	// Gone tells that it drops the table or renames it away.
	Stmt string
	Gone bool
}

// LookAheadFunc reads the binlog after d (from d.File:d.NextPos to the
// server's current end) and returns what follows for each of tables, in
// order.
type LookAheadFunc func(ctx context.Context, d DDL, tables []TableID) ([]Later, error)

// StatementTables returns the tables a statement names and, among them, the
// ones it drops or renames away, from its words (db qualifies unqualified
// names). A DROP DATABASE gives a TableID with an empty Name: every table of
// that database is gone.
func StatementTables(sql, db string) (named, gone []TableID) {
	toks := sigTokens(stripSetStatement(sql), 0)
	up := func(i int) string {
		if i >= 0 && i < len(toks) {
			return strings.ToUpper(toks[i])
		}
		return ""
	}
	list := func(i int, pairs bool) {
		for i < len(toks) {
			id, next, ok := tableName(toks, i, db)
			if !ok {
				return
			}
			named = append(named, id)
			i = next
			if pairs {
				gone = append(gone, id)
				if up(i) != "TO" {
					return
				}
				to, n2, ok := tableName(toks, i+1, db)
				if !ok {
					return
				}
				named = append(named, to)
				i = n2
			} else {
				gone = append(gone, id)
			}
			if up(i) != "," {
				return
			}
			i++
		}
	}
	i := 1
	switch up(0) {
	case "DROP":
		if up(i) == "TEMPORARY" {
			return nil, nil
		}
		switch up(i) {
		case "TABLE", "TABLES":
			i++
			if up(i) == "IF" && up(i+1) == "EXISTS" {
				i += 2
			}
			list(i, false)
			return named, gone
		case "DATABASE", "SCHEMA":
			i++
			if up(i) == "IF" && up(i+1) == "EXISTS" {
				i += 2
			}
			if i < len(toks) && isIdentToken(toks[i]) {
				id := TableID{DB: unquote(toks[i])}
				return []TableID{id}, []TableID{id}
			}
			return nil, nil
		}
	case "RENAME":
		if up(i) == "TABLE" || up(i) == "TABLES" {
			list(i+1, true)
			return named, gone
		}
		return nil, nil
	case "ALTER":
		for up(i) == "ONLINE" || up(i) == "OFFLINE" || up(i) == "IGNORE" {
			i++
		}
		if up(i) != "TABLE" {
			break
		}
		i++
		if up(i) == "IF" && up(i+1) == "EXISTS" {
			i += 2
		}
		id, next, ok := tableName(toks, i, db)
		if !ok {
			return nil, nil
		}
		named = append(named, id)
		for _, sp := range splitSpecs(toks[next:]) {
			if len(sp) < 2 || !strings.EqualFold(sp[0], "RENAME") {
				continue
			}
			k := 1
			switch strings.ToUpper(sp[1]) {
			case "COLUMN", "INDEX", "KEY":
				continue
			case "TO", "AS":
				k = 2
			}
			if to, _, ok := tableName(sp, k, db); ok && (len(sp) == k+1 || len(sp) == k+3) {
				named = append(named, to)
				gone = append(gone, id)
			}
		}
		return named, gone
	}
	return guessTables(sql, db), nil
}

// sameTable reports whether a and b name the same table (an empty b.Name
// stands for every table of b.DB).
func sameTable(a, b TableID) bool {
	return strings.EqualFold(a.DB, b.DB) && (b.Name == "" || strings.EqualFold(a.Name, b.Name))
}

// fallback resolves a statement the parser could not read that may change
// the columns of captured tables, table by table, in this order: (1) the
// first TABLE_MAP after it carries the table's full row metadata; (2) no
// later statement names the table, so the server's definition is the one
// after it; (3) a later statement drops the table or renames it away with
// no row of it in between: nothing needs decoding, the definition known so
// far is kept (marked stale: a TABLE_MAP of it resolves it again). When none
// holds it returns an error saying why; the model may then hold the tables
// resolved before.
func (tr *Tracker) fallback(ctx context.Context, d DDL, de *DDLError) (*Change, error) {
	if len(de.Tables) == 0 {
		return nil, errors.New("the statement names no table")
	}
	if tr.cfg.LookAhead == nil || d.File == "" {
		return nil, errors.New("the statement's binlog position is unknown: no look-ahead")
	}
	later, err := tr.cfg.LookAhead(ctx, d, de.Tables)
	if err != nil {
		return nil, fmt.Errorf("read the binlog after the statement: %w", err)
	}
	if len(later) != len(de.Tables) {
		return nil, fmt.Errorf("look-ahead answered for %d of %d tables", len(later), len(de.Tables))
	}
	out := &Change{DB: de.Tables[0].DB, DDL: d.SQL}
	for i, id := range de.Tables {
		l := later[i]
		kind := ""
		var tcs []TableChange
		switch {
		case l.Map != nil && l.RowsBefore:
			kind = FallbackMetadata
			tcs = []TableChange{tr.adopt(id, l.Map)}
		case l.Stmt == "" && tr.cfg.Reload != nil:
			c, err := tr.loadTable(ctx, tr.cfg.Reload, id.DB, id.Name)
			switch {
			case err == nil:
				kind = FallbackReload
				existed := tr.Def(id.DB, id.Name) != nil
				for _, tc := range c.Tables {
					if existed {
						tc.Type = ChangeAlter
					}
					tcs = append(tcs, tc)
				}
				tr.setStale(id, false)
			case isNoSuchTable(err) && !l.RowsBefore:
				// The statement itself dropped or renamed the table away
				// (nothing later names it, no row of it follows).
				kind = FallbackDropped
				if old := tr.Def(id.DB, id.Name); old != nil {
					tr.ApplyChange(&Change{Tables: []TableChange{{Type: ChangeDrop, ID: id, Def: old}}})
					tcs = []TableChange{{Type: ChangeDrop, ID: id, Def: old}}
				}
			default:
				return nil, fmt.Errorf("%s: reload from the server: %w", id, err)
			}
		case l.Stmt != "" && l.Gone && !l.RowsBefore:
			kind = FallbackDropped
			if old := tr.Def(id.DB, id.Name); old != nil {
				tcs = []TableChange{{Type: ChangeAlter, ID: id, Def: old}}
			}
			tr.setStale(id, true)
		case l.RowsBefore:
			return nil, fmt.Errorf("%s: rows of it follow and their TABLE_MAP carries no full row metadata (set binlog_row_metadata=FULL)", id)
		case l.Stmt != "":
			return nil, fmt.Errorf("%s: a later statement changes it again (%.200s): the server's definition is not the one after this statement", id, l.Stmt)
		default:
			return nil, fmt.Errorf("%s: no connection to read it from the server", id)
		}
		out.Tables = append(out.Tables, tcs...)
		if tr.cfg.OnFallback != nil {
			tr.cfg.OnFallback(d, kind, id, de)
		}
	}
	return out, nil
}

// adopt puts def (built from a TABLE_MAP) into the model as table id and
// returns the change that records it.
func (tr *Tracker) adopt(id TableID, def *TableDef) TableChange {
	nd := *def
	nt := *def.Table
	nt.DB, nt.Name = id.DB, id.Name
	// The row metadata carries no defaults: a column the model knew under
	// the same name and type keeps its default; another has one when it is
	// nullable (Debezium's hasDefaultValue: an implicit DEFAULT NULL).
	var known *Table
	if od := tr.Def(id.DB, id.Name); od != nil {
		known = od.Table
	}
	nt.Columns = slices.Clone(nt.Columns)
	for i := range nt.Columns {
		c := &nt.Columns[i]
		c.HasDefault = c.HasDefault || c.Nullable
		if known == nil {
			continue
		}
		if j := known.ColumnIndex(c.Name); j >= 0 && known.Columns[j].TypeName == c.TypeName {
			c.HasDefault, c.Default = known.Columns[j].HasDefault, known.Columns[j].Default
		}
	}
	nd.Table = &nt
	if nd.Charset == "" {
		nd.Charset = tr.dbCharset(id.DB)
	}
	typ := ChangeCreate
	if tr.Def(id.DB, id.Name) != nil {
		typ = ChangeAlter
	}
	tc := TableChange{Type: typ, ID: id, Def: tr.withFilter(&nd)}
	tr.ApplyChange(&Change{Tables: []TableChange{tc}})
	tr.setStale(id, false)
	return tc
}

// ResolveTable is the fallback for a TABLE_MAP of a captured table the model
// lacks, or holds a stale definition of: (1) the event's full row metadata
// (fromMap, nil when absent), (2) the live table from the server when the
// look-ahead from the event (at.File, at.NextPos) shows no later statement
// naming it. It returns the table and the change to record in the schema
// history, or an error wrapping ErrTableNotFound when neither holds.
func (tr *Tracker) ResolveTable(ctx context.Context, db, name string, fromMap *TableDef, at DDL) (*Table, *Change, error) {
	id := TableID{DB: db, Name: name}
	at.SQL = fmt.Sprintf("/* rivulet: %s.%s rebuilt at the table map at %s */", db, name, at.Pos)
	if fromMap != nil {
		tc := tr.adopt(id, fromMap)
		if tr.cfg.OnFallback != nil {
			tr.cfg.OnFallback(at, FallbackMetadata, id, nil)
		}
		return tc.Def.Table, &Change{DB: db, DDL: at.SQL, Tables: []TableChange{tc}}, nil
	}
	if tr.cfg.Reload == nil || tr.cfg.LookAhead == nil || at.File == "" {
		return nil, nil, fmt.Errorf("%w: %s.%s is not in the schema history and its table map carries no full row metadata", ErrTableNotFound, db, name)
	}
	later, err := tr.cfg.LookAhead(ctx, at, []TableID{id})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read the binlog after its table map: %w", id, err)
	}
	if len(later) != 1 || later[0].Stmt != "" {
		stmt := ""
		if len(later) == 1 {
			stmt = later[0].Stmt
		}
		return nil, nil, fmt.Errorf("%w: %s.%s is not in the schema history, its table map carries no full row metadata and a later statement changes it (%.200s)", ErrTableNotFound, db, name, stmt)
	}
	existed := tr.Def(db, name) != nil
	c, err := tr.loadTable(ctx, tr.cfg.Reload, db, name)
	if err != nil && isNoSuchTable(err) {
		// Nothing left to learn the table from: the caller names the fix.
		return nil, nil, fmt.Errorf("%w: %s.%s is not in the schema history, its table map carries no full row metadata and the server no longer has it (%v)", ErrTableNotFound, db, name, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reload from the server: %w", id, err)
	}
	if existed {
		for i := range c.Tables {
			c.Tables[i].Type = ChangeAlter
		}
	}
	c.DDL = at.SQL
	tr.setStale(id, false)
	if tr.cfg.OnFallback != nil {
		tr.cfg.OnFallback(at, FallbackReload, id, nil)
	}
	return tr.Def(db, name).Table, c, nil
}

// setStale marks (or clears) table id as holding a definition an unparsed
// statement may have changed.
func (tr *Tracker) setStale(id TableID, stale bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if stale {
		tr.stale[tr.keyOf(id.DB, id.Name)] = true
	} else {
		delete(tr.stale, tr.keyOf(id.DB, id.Name))
	}
}

// moveStale carries stale marks through the changes of one applied
// statement: a rename moves the mark, a create or drop clears it. Callers
// hold mu.
func (tr *Tracker) moveStale(changes []TableChange) {
	if len(tr.stale) == 0 {
		return
	}
	for _, tc := range changes {
		k := tr.keyOf(tc.ID.DB, tc.ID.Name)
		switch {
		case tc.PreviousID.Name != "":
			pk := tr.keyOf(tc.PreviousID.DB, tc.PreviousID.Name)
			if tr.stale[pk] {
				delete(tr.stale, pk)
				tr.stale[k] = true
			}
		case tc.Type == ChangeCreate || tc.Type == ChangeDrop:
			delete(tr.stale, k)
		}
	}
}

// isNoSuchTable reports a server error for a table that does not exist.
func isNoSuchTable(err error) bool {
	var me *mysql.MyError
	return errors.Is(err, ErrTableNotFound) || errors.As(err, &me) && (me.Code == 1146 || me.Code == 1049)
}
