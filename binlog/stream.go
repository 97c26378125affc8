package binlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// tableEntry is the cached state of one table id.
type tableEntry struct {
	id      string // "db.table"
	db      string
	name    string
	types   []byte
	metas   []uint16
	skip    bool // excluded or not captured: rows are not decoded
	table   *schema.Table
	dec     *rowDecoder
	warned  bool // partial row image reported
	checked bool
}

// txState is the transaction being read.
type txState struct {
	active     bool
	file       string
	beginPos   uint64 // BEGIN query (MySQL) or GTID event (MariaDB) start: the restart point
	gtid       string // "" when none
	mysqlSID   string // for adding to the GTID state at commit
	mysqlGNO   int64
	mariaGTID  mariaGTID
	hasMaria   bool
	thread     int64
	commitTsUs int64 // MySQL 8 original_commit_timestamp, 0 if unknown
	rowsEvents int64 // rows events seen in this transaction, emitted, skipped or filtered
	emitted    bool  // a partial batch of this transaction was handed out
	ignored    bool  // GTID source rejected by Config.GTIDSource: rows are not emitted
	events     []event.ChangeEvent
	ddl        []*schema.Change // schema changes of this group (Config.DDL)
	ddlSrc     []event.Source   // the source block of each of ddl
	// Config.TxMetadata (txmeta.go): a transaction Debezium sees began
	// (BEGIN or MariaDB GTID), its id and BEGIN time, whether its BEGIN was
	// handed out before this connection or in an earlier batch, and
	// whether it ends at XID/COMMIT.
	began     bool
	txID      string
	beginTsMs int64
	resumed   bool
	beginSent bool
	committed bool
}

// stream is the state of one Run: positions survive reconnects, table and
// transaction state are rebuilt on each connection.
type stream struct {
	r       *Reader
	cfg     *Config
	log     *slog.Logger
	obs     Observer
	flavor  string
	mariadb bool
	// track is true when the GTID state is known, so every handed-out
	// position carries a GTID set.
	track bool
	gtids *gtidState

	// resume is the position to reconnect from: the last one handed out, or
	// pending when that is later.
	resume       offsets.Position
	pending      *offsets.Position // reached, not yet handed out
	pendingSince time.Time

	file      string
	tables    map[uint64]*tableEntry
	tx        txState
	skipEvent int64 // rows events of the first transaction to skip
	skipRow   int32 // rows of the next rows event to skip
	firstTx   bool  // the first transaction after connecting is still open
	scratch   []event.Value
	stash     *rowsStash // rows bodies of the current connection
	// srcSeen and srcOK cache the last Config.GTIDSource answer (one regex
	// match per source change, not per transaction).
	srcSeen   string
	srcOK     bool
	connected bool // at least one event arrived on this connection
	// replay: skipped events are handed out marked Replayed
	// (Config.TxMetadata), until a batch was handed out: after that a
	// reconnect resumes from a position the consumer has counted up to.
	replay    bool
	handedOut bool
	// lastRow is the row index of the last row read (Debezium keeps it in
	// the source block of a later schema change).
	lastRow int32
}

// reset prepares for a new connection from s.resume.
func (s *stream) reset() error {
	g, err := parseGTIDState(s.resume.GTIDSet, s.mariadb)
	if err != nil {
		return err
	}
	s.gtids = g
	s.file = s.resume.File
	s.tables = make(map[uint64]*tableEntry)
	s.tx = txState{}
	s.skipEvent = s.resume.Event
	s.skipRow = s.resume.Row
	s.firstTx = true
	s.connected = false
	s.replay = s.cfg.TxMetadata && !s.handedOut
	return nil
}

// posString names the current position for errors.
func (s *stream) posString(pos uint64) string {
	if s.tx.gtid != "" {
		return fmt.Sprintf("%s:%d (gtid %s)", s.file, pos, s.tx.gtid)
	}
	return s.file + ":" + strconv.FormatUint(pos, 10)
}

// handle processes one binlog event. start and next are the positions of the
// event and of the one after it.
func (s *stream) handle(ctx context.Context, ev *replication.BinlogEvent, start, next uint64, out chan<- Batch) error {
	h := ev.Header
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		prev := s.file
		s.file = string(e.NextLogName)
		real := h.Flags&replication.LOG_EVENT_ARTIFICIAL_F == 0 && h.Timestamp != 0
		// After a server restart the old file ends with a STOP event, and the
		// server announces the next one with an artificial rotate.
		if (real || (prev != "" && prev != s.file)) && !s.tx.active {
			// A real rotation: the next file starts where the last transaction ended.
			p := s.position(s.file, e.Position, h)
			s.setPending(p)
		}
	case *replication.GTIDEvent:
		s.beginGTID(e, h)
	case *replication.GtidTaggedLogEvent:
		s.beginGTID(&e.GTIDEvent, h)
		if tag := e.Tag.String(); s.tx.mysqlSID != "" && tag != "" {
			s.tx.mysqlSID += ":" + tag
			s.tx.gtid = s.tx.mysqlSID + ":" + strconv.FormatInt(e.GNO, 10)
			if s.cfg.GTIDSource != nil {
				// The source of a tagged GTID is "<uuid>:<tag>".
				s.tx.ignored = !s.gtidSourceOK(s.tx.mysqlSID)
			}
		}
	case *replication.MariadbGTIDEvent:
		s.tx = txState{file: s.file, beginPos: start, thread: -1, hasMaria: true,
			mariaGTID: mariaGTID{domain: e.GTID.DomainID, server: e.GTID.ServerID, seq: e.GTID.SequenceNumber}}
		s.tx.gtid = strconv.FormatUint(uint64(e.GTID.DomainID), 10) + "-" +
			strconv.FormatUint(uint64(e.GTID.ServerID), 10) + "-" + strconv.FormatUint(e.GTID.SequenceNumber, 10)
		// A standalone group (DDL, non-transactional statement) ends with its
		// query; a transaction ends with XID or COMMIT.
		s.tx.active = !e.IsStandalone()
		if s.cfg.GTIDSource != nil {
			s.tx.ignored = !s.gtidSourceOK(strconv.FormatUint(uint64(e.GTID.DomainID), 10) + "-" + strconv.FormatUint(uint64(e.GTID.ServerID), 10))
		}
		s.txBegin(h, start) // Debezium's MariaDB connector: every GTID event begins a transaction
	case *replication.QueryEvent:
		return s.query(ctx, e, h, start, next, out)
	case *replication.XIDEvent:
		s.tx.committed = true
		return s.commit(ctx, h, next, out)
	case *replication.TableMapEvent:
		return s.tableMap(ctx, e, start, next)
	case *replication.RowsEvent:
		return s.rows(ctx, ev, e, start, out)
	case *replication.TransactionPayloadEvent:
		// MySQL binlog_transaction_compression: the transaction's events are
		// inside. Restarting replays the whole payload event, so every inner
		// event is placed at its start; the last one ends at its end.
		for i, inner := range e.Events {
			n := start
			if i == len(e.Events)-1 {
				n = next
			}
			if err := s.handle(ctx, inner, start, n, out); err != nil {
				return err
			}
		}
	case *replication.FormatDescriptionEvent, *replication.PreviousGTIDsEvent,
		*replication.MariadbGTIDListEvent, *replication.MariadbBinlogCheckPointEvent:
		// The header of the file a real rotation just opened: move the
		// position past it, or an idle new file's end (a snapshot chunk's
		// SHOW MASTER STATUS watermark) is never reached until the next write.
		if s.pending != nil && s.pending.File == s.file && !s.tx.active && next > s.pending.Pos {
			s.setPending(s.position(s.file, next, h))
		}
	case *replication.HeartbeatEvent:
		if s.pending != nil {
			return s.flushPending(ctx, out)
		}
	case *replication.GenericEvent:
		if h.EventType == replication.XA_PREPARE_LOG_EVENT {
			return s.commit(ctx, h, next, out)
		}
	}
	return nil
}

// beginGTID starts a MySQL transaction group at a GTID or anonymous GTID event.
func (s *stream) beginGTID(e *replication.GTIDEvent, h *replication.EventHeader) {
	s.tx = txState{file: s.file, thread: -1}
	if e.OriginalCommitTimestamp > 0 {
		s.tx.commitTsUs = int64(e.OriginalCommitTimestamp)
	}
	if e.GNO > 0 && !bytes.Equal(e.SID, make([]byte, 16)) {
		s.tx.mysqlSID = sidString(e.SID)
		s.tx.mysqlGNO = e.GNO
		s.tx.gtid = s.tx.mysqlSID + ":" + strconv.FormatInt(e.GNO, 10)
		if s.cfg.GTIDSource != nil {
			s.tx.ignored = !s.gtidSourceOK(s.tx.mysqlSID)
		}
	}
}

// gtidSourceOK asks Config.GTIDSource about src, remembering the last answer.
func (s *stream) gtidSourceOK(src string) bool {
	if src != s.srcSeen || s.srcSeen == "" {
		s.srcSeen, s.srcOK = src, s.cfg.GTIDSource(src)
	}
	return s.srcOK
}

// statement kinds of a Query event.
const (
	stmtDDL = iota
	stmtBegin
	stmtCommit
	stmtRollback
	stmtIgnore // SAVEPOINT, XA END, MariaDB dummy events: no effect on the stream
	stmtXAStandalone
	stmtDML
)

// classify looks at the first keyword(s) of a query.
func classify(q []byte) int {
	q = skipSpaceAndComments(q)
	word := func(i int) []byte {
		j := i
		for j < len(q) && (q[j] >= 'A' && q[j] <= 'Z' || q[j] >= 'a' && q[j] <= 'z' || q[j] == '_') {
			j++
		}
		return q[i:j]
	}
	w := word(0)
	eq := func(a []byte, b string) bool { return bytes.EqualFold(a, []byte(b)) }
	q2 := q
	q = skipSpaceAndComments(q[len(w):])
	w2 := word(0)
	q = q2
	switch {
	case len(q) == 0 || q[0] == '#':
		return stmtIgnore // MariaDB "# Dummy event replacing event type ..."
	case eq(w, "BEGIN"):
		return stmtBegin
	case eq(w, "START") && eq(w2, "TRANSACTION"):
		return stmtBegin
	case eq(w, "COMMIT"):
		return stmtCommit
	case eq(w, "ROLLBACK") && eq(w2, "TO"):
		return stmtIgnore
	case eq(w, "ROLLBACK"):
		return stmtRollback
	case eq(w, "SAVEPOINT"), eq(w, "RELEASE"):
		return stmtIgnore
	case eq(w, "XA"):
		switch {
		case eq(w2, "START"), eq(w2, "BEGIN"):
			return stmtBegin
		case eq(w2, "END"), eq(w2, "PREPARE"):
			return stmtIgnore
		default: // XA COMMIT / XA ROLLBACK of a prepared transaction
			return stmtXAStandalone
		}
	case eq(w, "INSERT"), eq(w, "UPDATE"), eq(w, "DELETE"), eq(w, "REPLACE"), eq(w, "LOAD"):
		return stmtDML
	}
	return stmtDDL
}

func skipSpaceAndComments(q []byte) []byte {
	for {
		q = bytes.TrimLeft(q, " \t\r\n")
		switch {
		case bytes.HasPrefix(q, []byte("/*")):
			// Keep the body of executable comments /*!50100 ... */ and /*M!...*/.
			if len(q) > 2 && (q[2] == '!' || q[2] == 'M' && len(q) > 3 && q[3] == '!') {
				i := 3
				if q[2] == 'M' {
					i = 4
				}
				for i < len(q) && q[i] >= '0' && q[i] <= '9' {
					i++
				}
				q = q[i:]
				continue
			}
			end := bytes.Index(q, []byte("*/"))
			if end < 0 {
				return nil
			}
			q = q[end+2:]
		case bytes.HasPrefix(q, []byte("-- ")):
			end := bytes.IndexByte(q, '\n')
			if end < 0 {
				return nil
			}
			q = q[end+1:]
		default:
			return q
		}
	}
}

func (s *stream) query(ctx context.Context, e *replication.QueryEvent, h *replication.EventHeader, start, next uint64, out chan<- Batch) error {
	switch classify(e.Query) {
	case stmtBegin:
		// MySQL: BEGIN follows the GTID event and is the transaction's
		// position (Debezium's source.pos). MariaDB has no BEGIN event: its
		// GTID event already began the transaction.
		if !s.tx.active || !s.tx.hasMaria {
			s.tx.active, s.tx.file, s.tx.beginPos = true, s.file, start
			if !s.tx.hasMaria && isBegin(e.Query) {
				s.txBegin(h, start)
			}
		}
		s.tx.thread = int64(e.SlaveProxyID)
		return nil
	case stmtCommit:
		s.tx.committed = true
		return s.commit(ctx, h, next, out)
	case stmtRollback:
		// Only non-transactional changes are logged before a ROLLBACK; they
		// did happen, so the events are kept.
		s.log.Warn("transaction ended with ROLLBACK in the binlog; its non-transactional changes are emitted",
			slog.String(keyBinlogFile, s.file), slog.Uint64(keyBinlogPos, start))
		return s.commit(ctx, h, next, out)
	case stmtIgnore:
		return nil
	case stmtXAStandalone:
		if !s.tx.active {
			return s.commit(ctx, h, next, out)
		}
		return nil
	case stmtDML:
		return &Error{Kind: ErrStatementBased,
			Msg:  fmt.Sprintf("statement-based change at %s: %.80q", s.posString(start), e.Query),
			Hint: "the server must log row images: SET GLOBAL binlog_format=ROW (and in the server configuration), then restart from a snapshot so the changes logged as statements are not lost"}
	}
	if err := s.truncate(ctx, e, h, start); err != nil {
		return err
	}
	if s.cfg.DDL != nil {
		// The schema model moves at exactly this position.
		if err := s.applyDDL(ctx, e, h, start, next); err != nil {
			return err
		}
	} else {
		// No DDL tracking: forget cached tables so the next TABLE_MAP reloads them.
		if len(s.tables) > 0 {
			s.tables = make(map[uint64]*tableEntry)
		}
		if inv, ok := s.cfg.Tables.(invalidator); ok {
			inv.InvalidateAll()
		}
	}
	if s.tx.active {
		return nil // DDL inside a transaction group (CREATE TABLE ... SELECT)
	}
	return s.commit(ctx, h, next, out)
}

func (s *stream) tableMap(ctx context.Context, e *replication.TableMapEvent, start, next uint64) error {
	s.beginImplicit(start)
	if te, ok := s.tables[e.TableID]; ok && te.db == string(e.Schema) && te.name == string(e.Table) &&
		bytes.Equal(te.types, e.ColumnType) && equalMetas(te.metas, e.ColumnMeta) {
		return nil
	}
	te := &tableEntry{db: string(e.Schema), name: string(e.Table), types: e.ColumnType, metas: e.ColumnMeta}
	te.id = te.db + "." + te.name
	s.tables[e.TableID] = te
	if s.cfg.Include != nil && !s.cfg.Include(te.db, te.name) {
		te.skip = true
		return nil
	}
	t, err := s.cfg.Tables.Table(ctx, te.db, te.name)
	if err != nil && errors.Is(err, schema.ErrTableNotFound) {
		t, err = s.resolveTable(ctx, e, start, next, err)
	}
	if err != nil {
		return fmt.Errorf("load table %s for the table map at %s: %w", te.id, s.posString(start), err)
	}
	if t == nil {
		te.skip = true
		return nil
	}
	plans, err := planTable(tableMapFrom(e), t, s.posString(start))
	if err != nil {
		return err
	}
	te.table = t
	te.dec = &rowDecoder{cols: plans}
	return nil
}

// beginImplicit starts a transaction at start for table maps and rows
// outside BEGIN (CREATE TABLE ... SELECT, non-transactional tables on old
// servers), keeping the GTID of a preceding GTID event.
func (s *stream) beginImplicit(start uint64) {
	if s.tx.active {
		return
	}
	s.tx.active = true
	if s.tx.hasMaria {
		return // a standalone MariaDB group (non-transactional table): keep its GTID event's position
	}
	if s.tx.mysqlSID == "" && s.tx.commitTsUs == 0 {
		s.tx.thread = -1
	}
	s.tx.file, s.tx.beginPos = s.file, start
}

func equalMetas(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (s *stream) rows(ctx context.Context, ev *replication.BinlogEvent, e *replication.RowsEvent, start uint64, out chan<- Batch) error {
	body, ok := s.stash.take(e)
	h := ev.Header
	te := s.tables[e.TableID]
	if !ok || te == nil {
		return corrupt("rows event for table id %d without its table map at %s", e.TableID, s.posString(start))
	}
	s.beginImplicit(start)
	s.tx.rowsEvents++
	replay := false
	if s.firstTx && s.skipEvent > 0 {
		s.skipEvent-- // emitted before the restart
		if !s.replay {
			return nil
		}
		replay = true // decoded to be counted (Config.TxMetadata), not emitted again
	}
	if te.skip || s.tx.ignored {
		s.obs.Filtered(te.id)
		return nil
	}
	op, partial, compressed, err := rowsOp(h.EventType)
	if err != nil {
		return err
	}
	data := body.data
	if compressed {
		if data, err = decompressRows(data); err != nil {
			return fmt.Errorf("table %s at %s: %w", te.id, s.posString(start), err)
		}
	}
	if int(e.ColumnCount) != len(te.dec.cols) {
		return corrupt("rows event for %s has %d columns, its table map %d at %s", te.id, e.ColumnCount, len(te.dec.cols), s.posString(start))
	}
	dec := te.dec
	dec.resetArena(len(data))
	after := e.ColumnBitmap2
	before := e.ColumnBitmap1
	if op == event.OpCreate {
		after, before = e.ColumnBitmap1, nil
	}
	first := before
	if first == nil {
		first = after
	}
	vals, nrows, missing, err := dec.decodeRows(s.scratch[:0], op, partial, first, after, data)
	s.scratch = vals[:0]
	if err != nil {
		return fmt.Errorf("decode rows of %s at %s: %w", te.id, s.posString(start), err)
	}
	if missing && !te.warned {
		te.warned = true
		s.log.Warn("rows event without full row images; absent columns are emitted as NULL (set binlog_row_image=FULL)",
			slog.String(keyTable, te.id), slog.String(keyBinlogFile, s.file), slog.Uint64(keyBinlogPos, start))
	}
	tsUs := int64(h.Timestamp) * 1_000_000
	if s.tx.commitTsUs > 0 {
		tsUs = s.tx.commitTsUs
	}
	src := event.Source{TsUs: tsUs, ServerID: h.ServerID, GTID: s.tx.gtid, File: s.tx.file, Pos: start, Thread: s.tx.thread}
	if s.tx.events == nil {
		s.tx.events = make([]event.ChangeEvent, 0, min(nrows, s.cfg.MaxBatchSize)+1)
	}
	skip := 0
	if s.firstTx && s.skipRow > 0 && !replay {
		skip = min(int(s.skipRow), nrows)
		s.skipRow = 0
	}
	n0 := len(s.tx.events)
	if s.replay && (replay || skip > 0) {
		s.tx.events = appendEvents(s.tx.events, vals, op, te.table, src, nrows, 0)
		if replay {
			skip = nrows
		}
		for i := n0; i < n0+skip; i++ {
			s.tx.events[i].Replayed = true
		}
	} else {
		s.tx.events = appendEvents(s.tx.events, vals, op, te.table, src, nrows, skip)
	}
	if nrows > 0 {
		s.lastRow = int32(nrows - 1)
	}
	s.obs.RowsDecoded(te.id, nrows-skip)
	if len(s.tx.events) >= s.cfg.MaxBatchSize {
		// Hand out what the transaction has so far; a restart resumes at its
		// BEGIN and skips the rows events counted here.
		if err := ctx.Err(); err != nil {
			return err
		}
		end := offsets.Position{File: s.tx.file, Pos: s.tx.beginPos, ServerID: h.ServerID,
			Event: s.tx.rowsEvents, TsSec: int64(h.Timestamp)}
		if s.track {
			end.GTIDSet = s.gtids.String()
		}
		if err := s.emit(ctx, out, Batch{Events: s.tx.events, End: end, Tx: s.boundary(&s.tx, false, h)}); err != nil {
			return err
		}
		s.tx.events = nil
		s.tx.emitted = true
		s.tx.beginSent = s.tx.began
	}
	return nil
}

// appendEvents turns the decoded values of one rows event into change
// events, skipping the first skip rows. The values are copied once into a
// slice owned by the events (vals is the reader's scratch space).
func appendEvents(evs []event.ChangeEvent, vals []event.Value, op event.Op, t *schema.Table, src event.Source, nrows, skip int) []event.ChangeEvent {
	owned := make([]event.Value, len(vals))
	copy(owned, vals)
	ncols := len(t.Columns)
	p := 0
	for row := range nrows {
		ce := event.ChangeEvent{Op: op, Table: t, Source: src}
		ce.Source.Row = int32(row)
		switch op {
		case event.OpCreate:
			ce.After = owned[p : p+ncols : p+ncols]
			p += ncols
		case event.OpDelete:
			ce.Before = owned[p : p+ncols : p+ncols]
			p += ncols
		default:
			ce.Before = owned[p : p+ncols : p+ncols]
			ce.After = owned[p+ncols : p+2*ncols : p+2*ncols]
			p += 2 * ncols
		}
		if row >= skip {
			evs = append(evs, ce)
		}
	}
	return evs
}

// commit ends the transaction group at an XID, COMMIT, standalone query or XA
// PREPARE event.
func (s *stream) commit(ctx context.Context, h *replication.EventHeader, next uint64, out chan<- Batch) error {
	if s.firstTx && s.skipEvent > 0 {
		s.log.Warn("the stored position asked to skip more rows events than its transaction had; continuing after it",
			slog.Int64("events_left", s.skipEvent), slog.String(keyBinlogFile, s.file), slog.Uint64(keyBinlogPos, next))
	}
	s.firstTx = false
	s.skipEvent, s.skipRow = 0, 0
	if s.track {
		switch {
		case s.tx.hasMaria:
			s.gtids.addMaria(s.tx.mariaGTID.domain, s.tx.mariaGTID.server, s.tx.mariaGTID.seq)
		case s.tx.mysqlSID != "":
			s.gtids.addMySQL(s.tx.mysqlSID, s.tx.mysqlGNO)
		}
	}
	end := s.position(s.file, uint64(next), h)
	tx := s.tx
	s.tx = txState{}
	s.obs.Committed(int64(h.Timestamp))
	bt := s.boundary(&tx, tx.committed, h)
	if len(tx.events) == 0 && !tx.emitted && len(tx.ddl) == 0 && !bt.Begin && !bt.End {
		s.setPending(end)
		return nil
	}
	return s.emit(ctx, out, Batch{Events: tx.events, End: end, Schema: tx.ddl, SchemaSource: tx.ddlSrc, Tx: bt})
}

// addDDL adds a schema change of the group, read at start (h: its event's
// header; nil for a change found by a TABLE_MAP, which takes the group's
// last source block or none).
func (s *stream) addDDL(c *schema.Change, h *replication.EventHeader, start uint64) {
	src := event.Source{File: s.file, Pos: start, GTID: s.tx.gtid, Row: s.lastRow, Thread: -1}
	if h != nil {
		src.TsUs, src.ServerID = int64(h.Timestamp)*1_000_000, h.ServerID
	}
	s.tx.ddl = append(s.tx.ddl, c)
	s.tx.ddlSrc = append(s.tx.ddlSrc, src)
}

// position is the restart point after a completed transaction.
func (s *stream) position(file string, pos uint64, h *replication.EventHeader) offsets.Position {
	p := offsets.Position{File: file, Pos: pos, ServerID: h.ServerID, TsSec: int64(h.Timestamp)}
	if s.track {
		p.GTIDSet = s.gtids.String()
	}
	return p
}

func (s *stream) setPending(p offsets.Position) {
	if s.pending == nil {
		s.pendingSince = time.Now()
	}
	s.pending = &p
}

func (s *stream) flushPending(ctx context.Context, out chan<- Batch) error {
	if s.pending == nil {
		return nil
	}
	return s.emit(ctx, out, Batch{End: *s.pending})
}

// emit hands a batch to the consumer; its End becomes the resume position.
func (s *stream) emit(ctx context.Context, out chan<- Batch, b Batch) error {
	if err := ctx.Err(); err != nil {
		return err // stopping: hand out nothing more
	}
	select {
	case out <- b:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.resume = b.End
	s.pending = nil
	s.handedOut = true
	return nil
}

// resumePosition is where to reconnect from.
func (s *stream) resumePosition() offsets.Position {
	if s.pending != nil {
		return *s.pending
	}
	return s.resume
}

// TableResolver is implemented by a Tables that can resolve a TABLE_MAP of
// a table it does not hold (schema.Tracker.ResolveTable): from the event's
// full row metadata (fromMap, nil when absent), else from the server when
// nothing later in the binlog changes the table. The change returned is
// recorded in the schema history with the transaction.
type TableResolver interface {
	ResolveTable(ctx context.Context, db, name string, fromMap *schema.TableDef, at schema.DDL) (*schema.Table, *schema.Change, error)
}

// resolveTable runs the table-map fallback of a DDL-tracked model for a
// table it lacks; notFound is the lookup's error, returned when the model
// cannot resolve tables.
func (s *stream) resolveTable(ctx context.Context, e *replication.TableMapEvent, start, next uint64, notFound error) (*schema.Table, error) {
	unknown := func(err error) error {
		return &Error{Kind: ErrSchemaMismatch, Err: err,
			Msg: fmt.Sprintf("rows of %s.%s at %s, a table the schema history does not know", e.Schema, e.Table, s.posString(start)),
			Hint: "the history lacks its CREATE TABLE (an incomplete history, or a table created while DDL was not recorded): " +
				"set binlog_row_metadata=FULL on the server so Rivulet can build it from the table map, or take a new snapshot"}
	}
	r, ok := s.cfg.Tables.(TableResolver)
	if !ok || s.cfg.DDL == nil {
		return nil, unknown(notFound)
	}
	def, err := TableFromMap(e, s.mariadb)
	if err != nil {
		def = nil
	}
	t, c, err := r.ResolveTable(ctx, string(e.Schema), string(e.Table), def,
		schema.DDL{DB: string(e.Schema), Pos: s.posString(start), File: s.file, NextPos: next})
	if errors.Is(err, schema.ErrTableNotFound) {
		return nil, unknown(err)
	}
	if err != nil {
		return nil, err
	}
	if c != nil {
		s.addDDL(c, nil, start)
	}
	return t, nil
}
