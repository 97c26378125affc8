package binlog

import (
	"context"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/replication"
)

// Statement is a DDL statement found in the binlog, with the default
// database it ran under and where it is.
type Statement struct {
	DB, SQL string
	File    string
	Pos     uint64
}

// LaterDDL reads the binlog from file:pos to the end the server has now and
// returns the DDL statements in it. It connects as a replica with
// c.ServerID, which must differ from the streaming reader's (the server
// would disconnect one of two replicas with the same id).
//
// It tells whether the server's current definition of a table is also its
// definition at file:pos: true when no statement returned names it.
func LaterDDL(ctx context.Context, c PreflightConfig, file string, pos uint64) ([]Statement, error) {
	s, err := newScanner(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []Statement
	err = s.scan(ctx, file, pos, func(e scanEvent) (bool, error) {
		q, ok := e.ev.Event.(*replication.QueryEvent)
		if ok && classify(q.Query) == stmtDDL {
			out = append(out, Statement{DB: string(q.Schema), SQL: strings.Clone(string(q.Query)), File: e.file, Pos: e.start})
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// String renders the statement's place and text for messages.
func (s Statement) String() string {
	return s.File + ":" + strconv.FormatUint(s.Pos, 10) + " " + s.SQL
}
