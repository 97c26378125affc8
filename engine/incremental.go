package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// Ad-hoc incremental snapshots (Debezium signals)
//
// The source loop (source.go) runs the incremental snapshots that Debezium
// signals ask for (Config.Signals; incSnap is their state): execute-snapshot, stop-snapshot, pause-snapshot and
// resume-snapshot, read from the signal table's INSERTs seen in the stream
// (signal.data.collection, columns id, type, data) and from the Kafka
// signal channel. An incremental snapshot is the initial snapshot's DBLog
// merge (the same snapshot.Merge) started at runtime for the requested
// tables: the chunk reader reads them between watermarks, a chunk is
// emitted once the stream passed its high watermark, and rows whose key the
// stream changed since the chunk's Window are dropped. Rows are op "r"
// events with source.snapshot "incremental".
//
// A DDL statement on a table being read (seen in the stream's Batch.Schema,
// or first as a failed chunk read while its definition changed) stops the
// chunk reader, drops the chunks read with the old definition, and reads
// again after the last emitted chunk with the new one, as Debezium does
// (AbstractIncrementalSnapshotChangeEventSource.processSchemaChange clears
// the open window and re-reads the chunk) and as the initial snapshot does.
//
// Its state (tables left, the last emitted chunk's key, paused, tables
// queued by later signals, the next Kafka signal offset) is in
// offsets.Position.Incremental of every batch: after a restart the snapshot
// continues after the last emitted chunk, with the restored stream's start
// as the first chunk's Window.
//
// The first chunk's Window is the start of the batch that held the signal
// (whose changes to the requested tables count as seen), or the stream's
// position for a Kafka signal or a restart: a transaction written to the
// binlog before that but not yet visible to the first SELECT could leave
// that chunk's copy of a row older than the streamed change. Such a
// transaction committed before the signal's, so this needs a server that
// makes transactions visible long after it wrote them to the binlog.

// Signal is one Debezium signal: its id, type and data (JSON text).
type Signal struct {
	ID, Type, Data string
	// KafkaOffset is the record's offset for a signal read from the Kafka
	// channel, -1 otherwise.
	KafkaOffset int64
}

// KafkaSignals reads the Kafka signal channel from offset from (the first
// offset not yet processed) and sends its signals to out until ctx ends.
type KafkaSignals func(ctx context.Context, from int64, out chan<- Signal) error

// SignalConfig configures the signal channels and the incremental
// snapshots they ask for (Config.Signals).
type SignalConfig struct {
	// SignalTable is the signal table (signal.data.collection); its
	// INSERTs in the stream are signals. Zero: no source channel.
	SignalTable schema.TableID
	// Kafka, when set, reads the Kafka signal channel.
	Kafka KafkaSignals
	// Catalog lists the captured tables that data-collections match.
	Catalog snapshot.Catalog
	// Snapshot configures the chunk reader of each incremental snapshot;
	// additional-conditions are added to its Overrides.
	Snapshot snapshot.Config
	// MaxBatch bounds the events per batch of snapshot rows. Default 2048.
	MaxBatch int
	Logger   *slog.Logger
	// Now returns the time of a snapshot read; default time.Now.
	Now func() time.Time
	// HighWaitLimit: see SnapshotConfig. Default 5s.
	HighWaitLimit time.Duration

	// newSnapshotter builds each run's chunk reader; nil: snapshot.New.
	// Tests replace it.
	newSnapshotter func(snapshot.Config) (Snapshotter, error)
}

func (cfg *SignalConfig) setDefaults() {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 2048
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HighWaitLimit <= 0 {
		cfg.HighWaitLimit = 5 * time.Second
	}
	if cfg.newSnapshotter == nil {
		cfg.newSnapshotter = func(c snapshot.Config) (Snapshotter, error) { return snapshot.New(c) }
	}
}

// incState is the incremental snapshot state kept in Position.Incremental.
type incState struct {
	Tables   []string          `json:"tables,omitempty"` // being read, in read order
	Next     []string          `json:"next,omitempty"`   // asked for while Tables were read
	Conds    map[string]string `json:"conds,omitempty"`  // table -> additional condition
	Progress string            `json:"progress,omitempty"`
	Paused   bool              `json:"paused,omitempty"`
	Kafka    int64             `json:"kafka,omitempty"` // next Kafka signal offset
}

func (st *incState) encode() string {
	if len(st.Tables) == 0 && len(st.Next) == 0 && st.Kafka == 0 {
		return ""
	}
	b, _ := json.Marshal(st) // cannot fail: strings, bools, ints
	return string(b)
}

func decodeIncState(s string) (incState, error) {
	var st incState
	if s == "" {
		return st, nil
	}
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		return st, fmt.Errorf("incremental snapshot state %q: %w", s, err)
	}
	return st, nil
}

// incSnap is the incremental snapshots' state in the source loop: it acts
// on signals, and runs the chunks of the tables being read through the
// merge rule (snapshot.Merge), whose Position is the stream's. It owns no
// goroutine but its chunk reader's (run).
type incSnap struct {
	l     *sourceLoop
	cfg   SignalConfig
	log   *slog.Logger
	st    incState
	merge *snapshot.Merge
	wait  *highWait

	window   offsets.Position // first Window of a run a signal starts now
	snap     Snapshotter
	run      *snapRun
	tables   []*schema.Table // the definitions the run reads with
	keep     [][]event.Value // Take's buffer
	restarts int             // restarts after read failures
	rows     int64
	dropped  int64
}

// newIncSnap restores the state stored in a position's Incremental; the
// stream starts at l.stream.
func newIncSnap(l *sourceLoop, cfg SignalConfig, stored string) (*incSnap, error) {
	cfg.setDefaults()
	st, err := decodeIncState(stored)
	if err != nil {
		return nil, fmt.Errorf("stored offset: %w", err)
	}
	return &incSnap{l: l, cfg: cfg, log: cfg.Logger, st: st, merge: snapshot.NewMerge(l.stream),
		wait: newHighWait(cfg.HighWaitLimit), window: l.stream}, nil
}

// resume continues a snapshot the stored state says was running.
func (m *incSnap) resume(ctx context.Context) error {
	if len(m.st.Tables) == 0 {
		return nil
	}
	m.log.Info("incremental snapshot resumed after a restart", "tables", strings.Join(m.st.Tables, ","), "position", m.l.stream.String())
	return m.startRun(ctx, m.l.stream)
}

// halt stops the chunk reader and drops the held chunk, keeping the state:
// a stop or a failure; what was not emitted is read again after a restart.
func (m *incSnap) halt() {
	m.merge.Discard()
	m.wait.stop()
	if m.run != nil {
		m.run.stop()
		m.run = nil
	}
}

// onKafka acts on a signal of the Kafka channel.
func (m *incSnap) onKafka(ctx context.Context, sig Signal) error {
	m.window = m.merge.Position()
	m.st.Kafka = sig.KafkaOffset + 1
	if err := m.signal(ctx, sig); err != nil {
		return err
	}
	return m.sendState(ctx)
}

// onChunk takes the chunk reader's next chunk (ok false: it ended).
func (m *incSnap) onChunk(ctx context.Context, ch *snapshot.Chunk, ok bool) error {
	if ok {
		m.merge.Hold(ch)
		m.wait.arm()
		return nil
	}
	readErr := <-m.run.errc
	m.run = nil
	retried, err := readEnded(ctx, "incremental snapshot", readErr, &m.restarts, m.redefined, func(ctx context.Context) error {
		m.log.Warn("incremental snapshot read failed after a table definition changed: continuing with the new definition", "error", readErr)
		return m.restartRun(ctx)
	})
	if err != nil || retried {
		return err
	}
	return m.finishRun(ctx)
}

// signals returns the signals among a stream batch's events: INSERTs into
// the signal table.
func (m *incSnap) signals(events []event.ChangeEvent) []Signal {
	sigTable := m.cfg.SignalTable
	if sigTable.Name == "" {
		return nil
	}
	var sigs []Signal
	for i := range events {
		ev := &events[i]
		// A Replayed signal row was acted on before the restart (transaction metadata).
		if ev.Table != nil && ev.Op == event.OpCreate && !ev.Replayed && ev.Table.Name == sigTable.Name && ev.Table.DB == sigTable.DB {
			if sig, ok := signalRow(ev.After); ok {
				sigs = append(sigs, sig)
			}
		}
	}
	return sigs
}

// afterStream acts on a stream batch the loop handed out (whose End was
// prev's successor): a DDL statement on a table being read (redefined),
// then its signals.
func (m *incSnap) afterStream(ctx context.Context, events []event.ChangeEvent, redefined bool, sigs []Signal, prev offsets.Position) error {
	if redefined && m.run != nil {
		if err := m.restartRun(ctx); err != nil {
			return err
		}
	}
	if len(sigs) == 0 {
		return nil
	}
	// A run started by a signal here takes the batch's start as its first
	// Window, and the batch's changes to its tables as seen: a transaction
	// just before the signal that the first SELECT cannot see yet still
	// makes that chunk's copy of its rows stale.
	m.window = prev
	run := m.run
	for _, sig := range sigs {
		if err := m.signal(ctx, sig); err != nil {
			return err
		}
	}
	m.window = m.merge.Position()
	if m.run != nil && m.run != run {
		m.merge.Record(events)
	}
	return m.sendState(ctx)
}

// signalRow reads a signal table row: id, type, data (its first columns).
func signalRow(row []event.Value) (Signal, bool) {
	if len(row) < 2 {
		return Signal{}, false
	}
	sig := Signal{ID: string(row[0].B), Type: string(row[1].B), KafkaOffset: -1}
	if len(row) > 2 {
		sig.Data = string(row[2].B)
	}
	return sig, sig.Type != ""
}

// signalData is the data of the snapshot signals.
type signalData struct {
	DataCollections      []string `json:"data-collections"`
	Type                 string   `json:"type"`
	AdditionalConditions []struct {
		DataCollection string `json:"data-collection"`
		Filter         string `json:"filter"`
	} `json:"additional-conditions"`
	AdditionalCondition string `json:"additional-condition"` // before Debezium 2.5
	SurrogateKey        string `json:"surrogate-key"`
}

// signal acts on one signal; a malformed or unsupported one is logged and
// ignored, as Debezium does.
func (m *incSnap) signal(ctx context.Context, sig Signal) error {
	log := m.log.With("signal_id", sig.ID, "signal_type", sig.Type)
	var d signalData
	if strings.TrimSpace(sig.Data) != "" {
		if err := json.Unmarshal([]byte(sig.Data), &d); err != nil {
			log.Warn("signal ignored: its data is not JSON", "data", sig.Data, "error", err)
			return nil
		}
	}
	if d.Type != "" && !strings.EqualFold(d.Type, "incremental") {
		log.Warn("signal ignored: only incremental snapshots are supported yet", "type", d.Type)
		return nil
	}
	switch sig.Type {
	case "execute-snapshot":
		return m.execute(ctx, log, d)
	case "stop-snapshot":
		return m.stop(ctx, log, d)
	case "pause-snapshot":
		if len(m.st.Tables) > 0 && !m.st.Paused {
			m.st.Paused = true
			log.Info("incremental snapshot paused")
		}
	case "resume-snapshot":
		if m.st.Paused {
			m.st.Paused = false
			log.Info("incremental snapshot resumed")
		}
	case "log":
		log.Info("signal", "data", sig.Data)
	default:
		log.Warn("signal ignored: type not supported")
	}
	return nil
}

// match returns the captured tables ("db.name", read order) that one of
// the data-collections regexes matches whole.
func (m *incSnap) match(ctx context.Context, colls []string) ([]string, error) {
	res := make([]*regexp.Regexp, 0, len(colls))
	for _, c := range colls {
		re, err := regexp.Compile("^(?:" + strings.TrimSpace(c) + ")$")
		if err != nil {
			m.log.Warn("signal: data-collection is not a regular expression", "data_collection", c, "error", err)
			continue
		}
		res = append(res, re)
	}
	ids, err := m.cfg.Catalog.Tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("list captured tables: %w", err)
	}
	var out []string
	for _, id := range ids {
		name := id.DB + "." + id.Name
		if slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(name) }) {
			out = append(out, name)
		}
	}
	slices.Sort(out) // (db, name) order: "." sorts before identifier characters
	return out, nil
}

func (m *incSnap) execute(ctx context.Context, log *slog.Logger, d signalData) error {
	if d.SurrogateKey != "" {
		log.Warn("execute-snapshot: surrogate-key is not supported yet; chunking by the primary key", "surrogate_key", d.SurrogateKey)
	}
	tables, err := m.match(ctx, d.DataCollections)
	if err != nil {
		return err
	}
	if len(tables) == 0 {
		log.Warn("execute-snapshot ignored: data-collections match no captured table", "data_collections", strings.Join(d.DataCollections, ","))
		return nil
	}
	if m.st.Conds == nil {
		m.st.Conds = map[string]string{}
	}
	for _, c := range d.AdditionalConditions {
		for _, t := range tables {
			if ok, _ := regexp.MatchString("^(?:"+c.DataCollection+")$", t); ok && c.Filter != "" {
				m.st.Conds[t] = c.Filter
			}
		}
	}
	if d.AdditionalCondition != "" {
		for _, t := range tables {
			m.st.Conds[t] = d.AdditionalCondition
		}
	}
	if len(m.st.Tables) > 0 {
		for _, t := range tables {
			if !slices.Contains(m.st.Next, t) {
				m.st.Next = append(m.st.Next, t)
			}
		}
		log.Info("incremental snapshot queued after the running one", "tables", strings.Join(tables, ","))
		return nil
	}
	m.st.Tables, m.st.Progress = tables, ""
	log.Info("incremental snapshot started: no locks are taken", "tables", strings.Join(tables, ","), "position", m.merge.Position().String())
	return m.startRun(ctx, m.window)
}

func (m *incSnap) stop(ctx context.Context, log *slog.Logger, d signalData) error {
	if len(m.st.Tables) == 0 && len(m.st.Next) == 0 {
		return nil
	}
	if len(d.DataCollections) == 0 {
		m.stopRun()
		m.st.Tables, m.st.Next, m.st.Conds, m.st.Progress, m.st.Paused = nil, nil, nil, "", false
		log.Info("incremental snapshot stopped")
		return nil
	}
	drop, err := m.match(ctx, d.DataCollections)
	if err != nil {
		return err
	}
	keep := func(l []string) []string {
		return slices.DeleteFunc(l, func(t string) bool { return slices.Contains(drop, t) })
	}
	before := len(m.st.Tables)
	m.st.Next = keep(m.st.Next)
	m.st.Tables = keep(m.st.Tables)
	log.Info("incremental snapshot stopped for some tables", "tables", strings.Join(drop, ","))
	if len(m.st.Tables) == before {
		return nil
	}
	m.stopRun()
	if len(m.st.Tables) == 0 {
		return m.finishRun(ctx)
	}
	return m.startRun(ctx, m.window)
}

// runTables reads the definitions of st.Tables, and returns them with
// their names; a table that is no longer captured is left out, and logged
// when warn is set.
func (m *incSnap) runTables(ctx context.Context, warn bool) (tables []*schema.Table, names []string, err error) {
	for _, name := range m.st.Tables {
		db, tn, _ := strings.Cut(name, ".")
		t, err := m.cfg.Catalog.Table(ctx, db, tn)
		if errors.Is(err, schema.ErrTableNotFound) || err == nil && t == nil {
			if warn {
				m.log.Warn("incremental snapshot: table no longer captured, skipped", "table", name)
			}
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("incremental snapshot: %w", err)
		}
		tables, names = append(tables, t), append(names, name)
	}
	return tables, names, nil
}

// redefined reports whether a table being read changed its definition
// since the run began (snapshot.Redefined).
func (m *incSnap) redefined(ctx context.Context) bool {
	invalidate(m.cfg.Catalog)
	now, _, err := m.runTables(ctx, false)
	return err == nil && snapshot.Redefined(m.tables, now)
}

// restartRun follows a DDL statement on a table being read: the chunk
// reader stops, the chunk waiting for the stream is dropped, and a new
// reader reads again after the last emitted chunk with the tables' new
// definitions, the stream's position as its first Window (Debezium re-reads
// the chunk the schema change interrupted). Recorded changes are kept.
func (m *incSnap) restartRun(ctx context.Context) error {
	if m.run != nil {
		m.run.stop()
		m.run = nil
	}
	m.merge.Discard()
	invalidate(m.cfg.Catalog)
	m.log.Info("a table changed during the incremental snapshot: reading it again with its new definition",
		"tables", strings.Join(m.st.Tables, ","), "after", m.st.Progress, "position", m.merge.Position().String())
	return m.startRun(ctx, m.merge.Position())
}

// startRun starts the chunk reader for st.Tables after st.Progress; from is
// the first chunk's Window.
func (m *incSnap) startRun(ctx context.Context, from offsets.Position) error {
	prog, err := snapshot.DecodeProgress(m.st.Progress)
	if err != nil {
		return fmt.Errorf("stored offset: %w", err)
	}
	cfg := m.cfg.Snapshot
	cfg.Overrides = maps(cfg.Overrides)
	tables, names, err := m.runTables(ctx, true)
	if err != nil {
		return err
	}
	for _, name := range names {
		db, tn, _ := strings.Cut(name, ".")
		if c := m.st.Conds[name]; c != "" {
			base := "SELECT * FROM " + quoteIdent(db) + "." + quoteIdent(tn)
			if o := cfg.Overrides[name]; o != "" {
				base = "SELECT * FROM (" + o + ") AS rivulet_o"
			}
			cfg.Overrides[name] = base + " WHERE " + c
		}
	}
	snap, err := m.cfg.newSnapshotter(cfg)
	if err != nil {
		return err
	}
	m.snap, m.tables = snap, tables
	m.merge.Begin(tables, snap)
	m.run = startRun(m.l.chunkCtx, snap, tables, prog, from)
	return nil
}

func maps(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// stopRun cancels the chunk reader, drops the chunk waiting to be emitted
// and forgets the changes recorded for it.
func (m *incSnap) stopRun() {
	m.merge.End()
	if m.run != nil {
		m.run.stop()
		m.run = nil
	}
}

// finishRun ends the tables being read and starts the queued ones.
func (m *incSnap) finishRun(ctx context.Context) error {
	m.log.Info("incremental snapshot complete", "tables", strings.Join(m.st.Tables, ","), "rows", m.rows, "rows_superseded_by_stream", m.dropped)
	for _, t := range m.st.Tables {
		delete(m.st.Conds, t)
	}
	m.st.Tables, m.st.Progress, m.rows, m.dropped = m.st.Next, "", 0, 0
	m.st.Next = nil
	m.merge.End()
	if len(m.st.Tables) > 0 {
		if err := m.startRun(ctx, m.merge.Position()); err != nil {
			return err
		}
	} else {
		m.st.Conds, m.st.Paused, m.tables, m.restarts = nil, false, nil, 0
	}
	return m.sendState(ctx)
}

// emit takes the held chunk's rows the stream did not overtake and hands
// them out as op "r" events with source.snapshot "incremental".
func (m *incSnap) emit(ctx context.Context) error {
	ch, keep := m.merge.Take(m.keep)
	defer ch.Release()
	m.keep = keep[:0]
	m.dropped += m.merge.Dropped()
	tsUs := m.cfg.Now().UnixMicro()
	at := m.merge.Position()
	events := make([]event.ChangeEvent, len(keep))
	for i, row := range keep {
		events[i] = event.ChangeEvent{Op: event.OpRead, Table: ch.Table, After: row, Source: event.Source{
			TsUs: tsUs, Snapshot: "incremental", File: at.File, Pos: at.Pos, Thread: -1,
		}}
	}
	m.rows += int64(len(keep))
	for len(events) > m.cfg.MaxBatch {
		if err := m.l.send(ctx, binlog.Batch{Events: events[:m.cfg.MaxBatch:m.cfg.MaxBatch], End: m.l.end()}); err != nil {
			return err
		}
		events = events[m.cfg.MaxBatch:]
	}
	m.st.Progress = ch.Progress.Encode()
	if err := m.l.send(ctx, binlog.Batch{Events: events, End: m.l.end()}); err != nil {
		return err
	}
	if ch.TableLast {
		m.log.Info("incremental snapshot: table complete", "table", ch.Table.ID())
	}
	return nil
}

// sendState hands out an empty batch carrying the current state, so that
// it is stored even when the stream is idle.
func (m *incSnap) sendState(ctx context.Context) error {
	return m.l.send(ctx, binlog.Batch{End: m.l.end()})
}
