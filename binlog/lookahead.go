package binlog

import (
	"context"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/schema"
)

// LookAhead reads the binlog from file:pos to the end the server has now
// and tells, for each of tables, what follows (schema.Later): whether a
// TABLE_MAP of it comes before the first later statement naming it, the
// table its full row metadata describes, and that statement, with whether it
// drops the table or renames it away. It connects as a replica with
// c.ServerID, which must differ from the streaming reader's (the server
// would disconnect one of two replicas with the same id). The scan stops
// early once every table has its first statement. Statements are read in
// their event's character_set_client (decodeQuery).
//
// It is what the unparseable-DDL fallbacks of schema.Tracker decide on: the
// first TABLE_MAP's metadata is the table right after the statement, and
// the server's current definition is too when no later statement names it.
func LookAhead(ctx context.Context, c PreflightConfig, file string, pos uint64, tables []schema.TableID) ([]schema.Later, error) {
	s, err := newScanner(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]schema.Later, len(tables))
	open := len(tables)
	err = s.scan(ctx, file, pos, func(e scanEvent) (bool, error) {
		switch ev := e.ev.Event.(type) {
		case *replication.TableMapEvent:
			db, name := string(ev.Schema), string(ev.Table)
			for i, id := range tables {
				if out[i].Stmt != "" || out[i].RowsBefore || !strings.EqualFold(id.DB, db) || !strings.EqualFold(id.Name, name) {
					continue
				}
				out[i].RowsBefore = true
				if def, err := TableFromMap(ev, s.mariadb); err == nil {
					out[i].Map = def
				}
			}
		case *replication.QueryEvent:
			if classify(ev.Query) != stmtDDL {
				return false, nil
			}
			sql := decodeQuery(ev)
			named, gone := schema.StatementTables(sql, string(ev.Schema))
			for i, id := range tables {
				if out[i].Stmt != "" {
					continue
				}
				for _, n := range named {
					if sameTable(id, n) {
						out[i].Stmt = e.file + ":" + strconv.FormatUint(e.start, 10) + " " + sql
						open--
						break
					}
				}
				for _, g := range gone {
					if sameTable(id, g) {
						out[i].Gone = true
					}
				}
			}
			return open == 0, nil
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sameTable reports whether id is n (an empty n.Name stands for every table
// of n.DB: DROP DATABASE).
func sameTable(id, n schema.TableID) bool {
	return strings.EqualFold(id.DB, n.DB) && (n.Name == "" || strings.EqualFold(id.Name, n.Name))
}
