package binlog

import (
	"bytes"
	"context"
	"fmt"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/event"
)

// truncateTarget returns the table a TRUNCATE [TABLE] [db.]tbl statement
// empties (db is the session database unless the name is qualified); ok is
// false for any other statement. MariaDB's SET STATEMENT ... FOR prefix and
// comments are looked through.
func truncateTarget(q []byte, sessionDB string) (db, name string, ok bool) {
	q = skipSpaceAndComments(q)
	if w := leadingWord(q); bytes.EqualFold(w, []byte("SET")) {
		i := indexWordFold(q, "FOR")
		if i < 0 {
			return "", "", false
		}
		q = skipSpaceAndComments(q[i+3:])
	}
	w := leadingWord(q)
	if !bytes.EqualFold(w, []byte("TRUNCATE")) {
		return "", "", false
	}
	q = skipSpaceAndComments(q[len(w):])
	if w := leadingWord(q); bytes.EqualFold(w, []byte("TABLE")) {
		q = skipSpaceAndComments(q[len(w):])
	}
	first, rest, ok := identifier(q)
	if !ok {
		return "", "", false
	}
	rest = skipSpaceAndComments(rest)
	if len(rest) > 0 && rest[0] == '.' {
		second, _, ok := identifier(skipSpaceAndComments(rest[1:]))
		if !ok {
			return "", "", false
		}
		return first, second, true
	}
	return sessionDB, first, true
}

func leadingWord(q []byte) []byte {
	j := 0
	for j < len(q) && (q[j] >= 'A' && q[j] <= 'Z' || q[j] >= 'a' && q[j] <= 'z' || q[j] == '_') {
		j++
	}
	return q[:j]
}

// indexWordFold finds word as a whole word outside quotes (roughly: SET
// STATEMENT values are simple).
func indexWordFold(q []byte, word string) int {
	for i := 0; i+len(word) <= len(q); i++ {
		if !bytes.EqualFold(q[i:i+len(word)], []byte(word)) {
			continue
		}
		before := i == 0 || !isIdentByte(q[i-1])
		after := i+len(word) == len(q) || !isIdentByte(q[i+len(word)])
		if before && after {
			return i
		}
	}
	return -1
}

func isIdentByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

// identifier reads a plain or `quoted` identifier.
func identifier(q []byte) (string, []byte, bool) {
	if len(q) == 0 {
		return "", q, false
	}
	if q[0] == '`' {
		var b []byte
		for i := 1; i < len(q); i++ {
			if q[i] != '`' {
				b = append(b, q[i])
				continue
			}
			if i+1 < len(q) && q[i+1] == '`' {
				b = append(b, '`')
				i++
				continue
			}
			return string(b), q[i+1:], len(b) > 0
		}
		return "", q, false
	}
	j := 0
	for j < len(q) && isIdentByte(q[j]) {
		j++
	}
	if j == 0 {
		return "", q, false
	}
	return string(q[:j]), q[j:], true
}

// truncate turns a TRUNCATE TABLE of a captured table into an op "t" change
// event without row images, as Debezium's binlog connectors do
// (BinlogStreamingChangeEventSource.handleQueryEvent: a TRUNCATE schema
// change becomes a data change event). It travels with the statement's
// group; whether it is written (skipped.operations) is the sink's choice.
// The statement is not a schema change: the schema model and the history
// ignore it, as Debezium's default DDL filter does.
func (s *stream) truncate(ctx context.Context, e *replication.QueryEvent, h *replication.EventHeader, start uint64) error {
	// Not subject to Config.GTIDSource: Debezium's GTID source filter
	// drops row events only, and a TRUNCATE takes the DDL path.
	db, name, ok := truncateTarget(e.Query, string(e.Schema))
	if !ok || db == "" {
		return nil
	}
	if s.cfg.Include != nil && !s.cfg.Include(db, name) {
		return nil
	}
	t, err := s.cfg.Tables.Table(ctx, db, name)
	if err != nil {
		return fmt.Errorf("load table %s.%s for TRUNCATE at %s: %w", db, name, s.posString(start), err)
	}
	if t == nil {
		return nil
	}
	tsUs := int64(h.Timestamp) * 1_000_000
	if s.tx.commitTsUs > 0 {
		tsUs = s.tx.commitTsUs
	}
	file := s.tx.file
	if file == "" {
		file = s.file
	}
	// source.pos is the statement's position (a DDL group has no BEGIN);
	// thread is null as for every event outside BEGIN ... COMMIT.
	src := event.Source{TsUs: tsUs, ServerID: h.ServerID, GTID: s.tx.gtid, File: file, Pos: start, Thread: -1}
	s.tx.events = append(s.tx.events, event.ChangeEvent{Op: event.OpTruncate, Table: t, Source: src})
	return nil
}
