package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"golang.org/x/sync/errgroup"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// SchemaHistory is what the engine needs of the schema history: a model
// ready at the start position, and changes made durable before any offset
// past them is committed.
type SchemaHistory interface {
	// Start prepares the schema model for streaming from pos; resumed tells
	// whether pos is a stored offset (else streaming starts fresh there).
	Start(ctx context.Context, pos offsets.Position, resumed bool) error
	// Record durably stores the schema changes of a batch ending at pos. It
	// returns once they survive a crash.
	Record(ctx context.Context, pos offsets.Position, changes []*schema.Change) error
}

// HistoryObserver receives schema history facts for metrics
// (metrics.SchemaHistory); nil means no-op.
type HistoryObserver interface {
	RecoveryStarted()
	ChangeRecovered()
	Running()
	ChangeApplied()
}

// DDLObserver is a HistoryObserver that also wants the text of the last
// DDL statement recorded (for `rivulet status`).
type DDLObserver interface {
	DDLRecorded(db, ddl string)
}

// SchemaChangeSink publishes schema-change events to the topic named
// topic.prefix (sink.Kafka). done is called once, without blocking, after
// every record was acknowledged or once one failed.
type SchemaChangeSink interface {
	// SendSchemaChanges publishes changes; srcs holds the source block of
	// each.
	SendSchemaChanges(ctx context.Context, changes []*schema.Change, srcs []event.Source, done func(error)) error
}

// ddlSources returns the source block of each schema change of b: the
// stream's (the statement's start, GTID and time), else the position
// after the group, its server and time.
func ddlSources(b *binlog.Batch) []event.Source {
	if len(b.SchemaSource) == len(b.Schema) {
		return b.SchemaSource
	}
	srcs := make([]event.Source, len(b.Schema))
	for i := range srcs {
		srcs[i] = event.Source{TsUs: b.End.TsSec * 1_000_000, ServerID: b.End.ServerID, File: b.End.File, Pos: b.End.Pos, Thread: -1}
	}
	return srcs
}

// joinAcks returns a done function that calls done once after n calls,
// with the first error.
func joinAcks(n int32, done func(error)) func(error) {
	var left atomic.Int32
	var first atomic.Pointer[error]
	left.Store(n)
	return func(err error) {
		if err != nil {
			first.CompareAndSwap(nil, &err)
		}
		if left.Add(-1) == 0 {
			if e := first.Load(); e != nil {
				done(*e)
				return
			}
			done(nil)
		}
	}
}

// ErrNoHistory reports a stored offset without a schema history to rebuild
// the model at it.
var ErrNoHistory = errors.New("no schema history for the stored offset")

// History keeps the schema model (schema.Tracker) and its history store
// (file or Kafka topic) in step, the way Debezium's
// HistorizedRelationalDatabaseSchema does.
type History struct {
	Tracker *schema.Tracker
	Store   schema.HistoryStore
	// Loader reads the live schema for a fresh start (no history, no
	// offset) and for Recovery.
	Loader *schema.Loader
	// Server is topic.prefix: records carry it as source.server, and
	// recovery reads only records that have it.
	Server string
	// Recovery (snapshot.mode=recovery) rebuilds the model from the live
	// schema at the stored offset and records it, instead of reading the
	// history. Only safe when no DDL ran since that offset.
	Recovery bool
	// RecoverMissing rebuilds the model from the live schema, as Recovery
	// does, only when the history is missing or empty
	// (snapshot.mode.configuration.based.snapshot.on.schema.error).
	RecoverMissing bool
	// SinkCluster says that the store is a Kafka topic on the sink's
	// cluster, reached with the sink's settings: a fresh start creates it
	// with the schema change topic, in one request (startFresh).
	SinkCluster bool
	// Where names the store for messages ("topic schema-changes.inventory").
	Where    string
	Logger   *slog.Logger
	Observer HistoryObserver
	// Now is the clock of ts_ms; nil means time.Now.
	Now func() time.Time

	// recorded is the last history record past the resumed offset: a crash
	// after a DDL was recorded and before the offset passed it reads that
	// DDL again, and Record must not store it twice (RELIABILITY §3 #4).
	recorded offsets.Position
	// snapshot holds the schema-change events of a fresh start's schema
	// read (schema.Tracker.LoadSnapshot) until SnapshotSchema hands them out.
	snapshot []*schema.Change
	// live says that load read the live schema: recordLoaded records
	// loaded, the history records of that read, at loadedPos.
	live      bool
	loaded    []*schema.Change
	loadedPos offsets.Position
}

// SnapshotSchema implements SnapshotSchema.
func (h *History) SnapshotSchema() []*schema.Change {
	s := h.snapshot
	h.snapshot = nil
	return s
}

// SnapshotSchema is implemented by a SchemaHistory whose fresh start read
// the schema from the server: the schema-change events Debezium's snapshot
// publishes for it (include.schema.changes), handed out once.
type SnapshotSchema interface {
	SnapshotSchema() []*schema.Change
}

// publishSnapshotSchema publishes the schema a fresh start read on the
// schema change topic, as Debezium's snapshot does before its rows (source
// snapshot "true", server 0, the start position, no GTID), and waits until
// Kafka acknowledged it: a crash before then starts fresh again.
func publishSnapshotSchema(ctx context.Context, cfg Config, start offsets.Position, now time.Time) error {
	changes, srcs := snapshotSchemaChanges(cfg, start, now)
	return publishChanges(ctx, cfg, start, changes, srcs)
}

// snapshotSchemaChanges hands out the schema-change events of a fresh
// start's schema read, if they are to be published, and their source blocks.
func snapshotSchemaChanges(cfg Config, start offsets.Position, now time.Time) ([]*schema.Change, []event.Source) {
	ss, ok := cfg.History.(SnapshotSchema)
	if !ok || cfg.SchemaChanges == nil {
		return nil, nil
	}
	changes := ss.SnapshotSchema()
	if len(changes) == 0 {
		return nil, nil
	}
	srcs := make([]event.Source, len(changes))
	for i := range srcs {
		srcs[i] = event.Source{Snapshot: "true", TsUs: now.UnixMicro(), File: start.File, Pos: start.Pos, Thread: -1}
	}
	return changes, srcs
}

// publishChanges is publishSnapshotSchema's second half: it publishes
// changes and waits until Kafka acknowledged them.
func publishChanges(ctx context.Context, cfg Config, start offsets.Position, changes []*schema.Change, srcs []event.Source) error {
	if len(changes) == 0 {
		return nil
	}
	if cfg.Transactions != nil {
		if err := cfg.Transactions.Begin(); err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
	}
	done := make(chan error, 1)
	err := cfg.SchemaChanges.SendSchemaChanges(ctx, changes, srcs, func(err error) { done <- err })
	if err == nil {
		select {
		case err = <-done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if cfg.Transactions != nil {
		if err != nil {
			_ = cfg.Transactions.Abort(context.WithoutCancel(ctx))
		} else {
			err = cfg.Transactions.Commit(ctx, start)
		}
	}
	if err != nil {
		return fmt.Errorf("publish the snapshot's schema changes: %w", err)
	}
	return nil
}

func (h *History) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *History) log() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// Start implements SchemaHistory.
func (h *History) Start(ctx context.Context, pos offsets.Position, resumed bool) error {
	if err := h.load(ctx, pos, resumed); err != nil {
		return err
	}
	return h.recordLoaded(ctx)
}

// splitStart is a SchemaHistory whose Start comes in two steps (History):
// load prepares the model (from the history, or from the live schema) and
// recordLoaded records a live schema load read, so that the engine can
// publish the schema-change events of a fresh start while the history
// record is written (startFresh).
type splitStart interface {
	load(ctx context.Context, pos offsets.Position, resumed bool) error
	recordLoaded(ctx context.Context) error
}

// startFresh prepares the schema history at a fresh start: the live schema
// is read, recorded in the history, and its schema-change events are
// published (include.schema.changes); both are durable when it returns,
// before the start position is stored. The record and the events go to two
// topics through two clients, and each mostly waits for Kafka (creating its
// topic, then acknowledging), so they run side by side: one after the
// other they were half the time from process start to the first snapshot
// record. The brokers create topics one request at a time (some 30 ms
// each), so the sink creates the schema change topic first, in one request
// (sink.Kafka.PrepareSchemaChanges) with the history topic when that is on
// the sink's cluster, and with the topics of the tables the initial
// snapshot will write rows of (rowTables); what that does not create, the
// writers create as before. Not with Kafka
// transactions: publishing there commits the start position with the
// events, and the schema must be recorded before that.
func startFresh(ctx context.Context, cfg Config, start offsets.Position) error {
	s, ok := cfg.History.(splitStart)
	if !ok || cfg.SchemaChanges == nil || cfg.Transactions != nil {
		if err := cfg.History.Start(ctx, start, false); err != nil {
			return err
		}
		return publishSnapshotSchema(ctx, cfg, start, time.Now())
	}
	if err := s.load(ctx, start, false); err != nil {
		return err
	}
	changes, srcs := snapshotSchemaChanges(cfg, start, time.Now())
	if p, ok := cfg.SchemaChanges.(schemaTopicPreparer); ok && len(changes) > 0 {
		var also []sink.TopicSpec
		h, _ := s.(*History)
		var kh historyTopic
		if h != nil && h.SinkCluster && h.live && len(h.loaded) > 0 {
			if kh, _ = h.Store.(historyTopic); kh != nil {
				also = append(also, sink.TopicSpec{Topic: kh.Topic(), Partitions: 1, Replication: -1, Configs: schema.TopicConfigs()})
			}
		}
		tables := rowTables(ctx, cfg.Snapshot)
		for _, t := range p.PrepareSchemaChanges(ctx, changes, srcs, tables, also...) {
			if len(also) > 0 && t == also[0].Topic {
				h.log().Info("schema history topic created", "topic", t)
				kh.TopicCreated()
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.recordLoaded(gctx) })
	g.Go(func() error { return publishChanges(gctx, cfg, start, changes, srcs) })
	return g.Wait()
}

// schemaTopicPreparer is a SchemaChangeSink that can create the schema
// change topics ahead, with other topics of its cluster (sink.Kafka).
type schemaTopicPreparer interface {
	PrepareSchemaChanges(ctx context.Context, changes []*schema.Change, srcs []event.Source, tables []*schema.Table, also ...sink.TopicSpec) []string
}

// historyTopic is a history store kept in a Kafka topic (schema.KafkaHistory).
type historyTopic interface {
	Topic() string
	// TopicCreated says that another client created the topic.
	TopicCreated()
}

// exists reports whether the history store holds a record.
func (h *History) exists(ctx context.Context) (bool, error) {
	exists, err := h.Store.Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("read schema history (%s): %w", h.Where, err)
	}
	return exists, nil
}

// load prepares the model for pos: recovered from the history when pos is
// a stored offset, else read from the live schema (recordLoaded records it).
func (h *History) load(ctx context.Context, pos offsets.Position, resumed bool) error {
	h.live, h.loaded, h.loadedPos = false, nil, offsets.Position{}
	if !resumed {
		// A fresh start does not use what the store holds, only that it
		// can be read: check it while the live schema is read, the check's
		// error first.
		var existsErr error
		checked := make(chan struct{})
		go func() {
			defer close(checked)
			_, existsErr = h.exists(ctx)
		}()
		err := h.loadLive(ctx, pos)
		<-checked
		if existsErr != nil {
			h.live, h.loaded, h.snapshot = false, nil, nil
			return existsErr
		}
		return err
	}
	exists, err := h.exists(ctx)
	if err != nil {
		return err
	}
	if !h.Recovery && !exists && h.RecoverMissing {
		h.log().Warn("the schema history is missing: rebuilding it from the live schema (snapshot.on.schema.error); correct only if no DDL ran since the stored offset",
			"history", h.Where, "position", pos.String())
	}
	if !h.Recovery && (exists || !h.RecoverMissing) {
		if !exists {
			return fmt.Errorf("%w: the offset %s is stored but the schema history (%s) is missing or empty; restore it, or set snapshot.mode=recovery to rebuild it from the live schema (correct only if no DDL ran since that offset)",
				ErrNoHistory, pos.String(), h.Where)
		}
		if h.Loader != nil {
			if err := h.Tracker.DetectFlavor(ctx, h.Loader); err != nil {
				return err
			}
		}
		started := h.now()
		if h.Observer != nil {
			h.Observer.RecoveryStarted()
		}
		n, err := h.Tracker.Recover(ctx, h.Store, h.Server, func(raw json.RawMessage) (bool, error) {
			rp, err := offsets.UnmarshalValue(raw)
			if err != nil {
				return false, err
			}
			if !atOrBefore(rp, pos) {
				h.recorded = rp
			}
			return atOrBefore(rp, pos), nil
		})
		if err != nil {
			return fmt.Errorf("recover the schema from the history (%s): %w; if it is damaged, set snapshot.mode=recovery to rebuild it from the live schema", h.Where, err)
		}
		if n == 0 {
			return fmt.Errorf("%w: the schema history (%s) has no record of server %q at or before %s; check topic.prefix, or set snapshot.mode=recovery",
				ErrNoHistory, h.Where, h.Server, pos.String())
		}
		if h.Observer != nil {
			for range n {
				h.Observer.ChangeRecovered()
			}
			h.Observer.Running()
		}
		h.log().Info("schema recovered from history", "records", n, "tables", len(h.Tracker.Tables()),
			"position", pos.String(), "took", time.Since(started).Round(time.Millisecond))
		return nil
	}
	return h.loadLive(ctx, pos)
}

// loadLive reads the live schema into the model: the history records for
// recordLoaded, the schema-change events for SnapshotSchema.
func (h *History) loadLive(ctx context.Context, pos offsets.Position) error {
	changes, topic, err := h.Tracker.LoadSnapshot(ctx, h.Loader)
	if err != nil {
		return fmt.Errorf("read the live schema: %w", err)
	}
	h.snapshot, h.live, h.loaded, h.loadedPos = topic, true, changes, pos
	return nil
}

// recordLoaded records what load read from the live schema, if it did.
func (h *History) recordLoaded(ctx context.Context) error {
	if !h.live {
		return nil // recovered from the history: nothing to record
	}
	changes, pos := h.loaded, h.loadedPos
	h.live, h.loaded, h.loadedPos = false, nil, offsets.Position{}
	snap := pos
	snap.Snapshot = "INITIAL"
	if err := h.Record(ctx, snap, changes); err != nil {
		return err
	}
	if h.Observer != nil {
		h.Observer.Running()
	}
	h.log().Info("schema read from the server and recorded", "tables", len(h.Tracker.Tables()), "position", pos.String(), "history", h.Where)
	return nil
}

// Record implements SchemaHistory.
func (h *History) Record(ctx context.Context, pos offsets.Position, changes []*schema.Change) error {
	if len(changes) == 0 {
		return nil
	}
	if !h.recorded.IsZero() && atOrBefore(pos, h.recorded) {
		return nil // already recorded before a crash: the binlog is read again from an earlier offset
	}
	position := offsets.MarshalValue(pos)
	ts := h.now().UnixMilli()
	recs := make([][]byte, 0, len(changes))
	for _, c := range changes {
		b, err := schema.MarshalRecord(schema.HistoryRecord{Server: h.Server, Position: position, TsMs: ts, Change: c})
		if err != nil {
			return err
		}
		recs = append(recs, b)
	}
	if err := h.Store.Append(ctx, recs); err != nil {
		return fmt.Errorf("record schema changes at %s in %s: %w", pos.String(), h.Where, err)
	}
	if h.Observer != nil {
		for range changes {
			h.Observer.ChangeApplied()
		}
		if d, ok := h.Observer.(DDLObserver); ok {
			last := changes[len(changes)-1]
			d.DDLRecorded(last.DB, last.DDL)
		}
	}
	return nil
}

// atOrBefore reports whether a history record at rec applies when the model
// is rebuilt for the offset want, by Debezium's rules
// (BinlogHistoryRecordComparator, DEBEZIUM-REFERENCE.md §4.1).
func atOrBefore(rec, want offsets.Position) bool {
	switch {
	case rec.GTIDSet != "" && want.GTIDSet != "":
		if rec.GTIDSet == want.GTIDSet {
			// Same transactions done: a non-snapshot record is after a
			// snapshot offset; otherwise compare the events within.
			if want.Snapshot != "" && rec.Snapshot == "" {
				return false
			}
			return rec.Event <= want.Event
		}
		return gtidContains(want.GTIDSet, rec.GTIDSet)
	case want.GTIDSet != "":
		return true
	case rec.GTIDSet != "":
		return false
	}
	if rec.ServerID != want.ServerID && rec.ServerID != 0 && want.ServerID != 0 {
		return rec.TsSec <= want.TsSec
	}
	rb, rn := splitBinlogName(rec.File)
	wb, wn := splitBinlogName(want.File)
	if rb != wb {
		return true
	}
	if rn != wn {
		return rn < wn
	}
	if rec.Pos != want.Pos {
		return rec.Pos < want.Pos
	}
	if rec.Event != want.Event {
		return rec.Event < want.Event
	}
	return rec.Row <= want.Row
}

// splitBinlogName splits "mysql-bin.000003" into base and number.
func splitBinlogName(f string) (string, int64) {
	i := strings.LastIndexByte(f, '.')
	if i < 0 {
		return f, 0
	}
	n, err := strconv.ParseInt(f[i+1:], 10, 64)
	if err != nil {
		return f, 0
	}
	return f[:i], n
}

// gtidContains reports whether GTID set outer contains inner (MySQL
// uuid:interval sets or MariaDB domain-server-seq lists).
func gtidContains(outer, inner string) bool {
	flavor := mysql.MariaDBFlavor
	if strings.Contains(outer, ":") || strings.Contains(inner, ":") {
		flavor = mysql.MySQLFlavor
	}
	o, err1 := mysql.ParseGTIDSet(flavor, outer)
	i, err2 := mysql.ParseGTIDSet(flavor, inner)
	if err1 != nil || err2 != nil {
		return false
	}
	return o.Contain(i)
}
