package engine

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// scriptSnapshotter is a chunk reader whose chunks the test hands in; a
// nil chunk ends the run. Every Run is announced on runs. Its Floor is
// the run's first window, below every chunk's: nothing the merge rule
// needs is pruned.
type scriptSnapshotter struct {
	feed  chan *snapshot.Chunk
	runs  chan string // "tables from window"
	mu    sync.Mutex
	floor offsets.Position
}

func newScriptSnapshotter() *scriptSnapshotter {
	return &scriptSnapshotter{feed: make(chan *snapshot.Chunk), runs: make(chan string, 4)}
}

func (s *scriptSnapshotter) Run(ctx context.Context, tables []*schema.Table, from snapshot.Progress, start offsets.Position, out chan<- *snapshot.Chunk) error {
	var names []string
	for _, t := range tables {
		names = append(names, fmt.Sprintf("%s(%d)", t.ID(), len(t.Columns)))
	}
	s.mu.Lock()
	s.floor = start
	s.mu.Unlock()
	s.runs <- fmt.Sprintf("%s from=%s/%s window=%d", strings.Join(names, ","), from.Table, strings.Join(from.After, ","), start.Pos)
	for {
		select {
		case ch := <-s.feed:
			if ch == nil {
				return nil
			}
			select {
			case out <- ch:
			case <-ctx.Done():
				return ctx.Err()
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *scriptSnapshotter) Floor() (offsets.Position, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.floor, !s.floor.IsZero()
}
func (s *scriptSnapshotter) EstimateRows(context.Context, []*schema.Table) (map[string]int64, error) {
	return map[string]int64{}, nil
}
func (s *scriptSnapshotter) BinlogAvailable(context.Context, string) (bool, error) { return true, nil }

// scriptCatalog is the captured tables; set replaces a definition (a DDL).
type scriptCatalog struct {
	mu     sync.Mutex
	tables map[string]*schema.Table
}

func (c *scriptCatalog) set(t *schema.Table) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tables[t.ID()] = t
}

func (c *scriptCatalog) Tables(context.Context) ([]schema.TableID, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []schema.TableID
	for _, t := range c.tables {
		ids = append(ids, schema.TableID{DB: t.DB, Name: t.Name})
	}
	return ids, nil
}

func (c *scriptCatalog) Table(_ context.Context, db, name string) (*schema.Table, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tables[db+"."+name]; ok {
		return t, nil
	}
	return nil, schema.ErrTableNotFound
}

// logSink records, in order, what reaches the sink side: change events as
// "op table id/columns [snapshot marker]" and schema changes as "ddl".
type logSink struct {
	mu   sync.Mutex
	log  []string
	more chan struct{}
}

func (s *logSink) add(lines ...string) {
	s.mu.Lock()
	s.log = append(s.log, lines...)
	s.mu.Unlock()
	select {
	case s.more <- struct{}{}:
	default:
	}
}

func (s *logSink) Send(_ context.Context, evs []event.ChangeEvent, done func(error)) error {
	var lines []string
	for _, ev := range evs {
		row := ev.After
		if row == nil {
			row = ev.Before
		}
		l := fmt.Sprintf("%c %s %s/%d", ev.Op, ev.Table.ID(), row[0].B, len(row))
		if ev.Op == event.OpRead {
			l += " " + ev.Source.Snapshot
		}
		lines = append(lines, l)
	}
	s.add(lines...)
	done(nil)
	return nil
}

func (s *logSink) SendSchemaChanges(_ context.Context, changes []*schema.Change, _ []event.Source, done func(error)) error {
	for _, c := range changes {
		s.add("ddl " + c.DDL)
	}
	done(nil)
	return nil
}

func (s *logSink) Flush(context.Context) error { return nil }
func (s *logSink) Close() error                { return nil }

// wait returns the log once it has n lines.
func (s *logSink) wait(t *testing.T, n int) []string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		l := append([]string(nil), s.log...)
		s.mu.Unlock()
		if len(l) >= n {
			return l
		}
		select {
		case <-s.more:
		case <-timeout:
			t.Fatalf("sink has %d lines, want %d:\n%s", len(l), n, strings.Join(l, "\n"))
		}
	}
}

// TestRun_OneLoopInterleaves drives Run with a scripted binlog stream and
// scripted chunk readers: the initial snapshot of db.a and db.b and an
// incremental snapshot of db.b (asked for by a signal table row) run in
// the one source loop, interleaved with stream batches and a DDL statement
// on db.a, which makes the initial snapshot read db.a again with its new
// definition. What reaches the sink is the stream in binlog order with
// each chunk's surviving rows after the batch that passed its high
// watermark, and the offset at the end says no snapshot runs.
func TestRun_OneLoopInterleaves(t *testing.T) {
	str := func(s string) event.Value { return event.Value{Kind: event.KindString, B: []byte(s)} }
	cols := func(names ...string) []schema.Column {
		var c []schema.Column
		for _, n := range names {
			c = append(c, schema.Column{Name: n, Type: schema.TypeVarchar})
		}
		return c
	}
	a := &schema.Table{DB: "db", Name: "a", PrimaryKey: []int{0}, Columns: cols("id", "v")}
	a2 := &schema.Table{DB: "db", Name: "a", PrimaryKey: []int{0}, Columns: cols("id", "v", "w")}
	b := &schema.Table{DB: "db", Name: "b", PrimaryKey: []int{0}, Columns: cols("id", "v")}
	sig := &schema.Table{DB: "db", Name: "signal", PrimaryKey: []int{0}, Columns: cols("id", "type", "data")}
	cat := &scriptCatalog{tables: map[string]*schema.Table{"db.a": a, "db.b": b}}
	row := func(t *schema.Table, id string) []event.Value {
		r := []event.Value{str(id)}
		for range t.Columns[1:] {
			r = append(r, str("x"))
		}
		return r
	}
	pos := func(p uint64) offsets.Position { return offsets.Position{File: "bin.000001", Pos: p} }
	change := func(op event.Op, t *schema.Table, after []event.Value, at uint64) event.ChangeEvent {
		ev := event.ChangeEvent{Op: op, Table: t, After: after, Source: event.Source{File: "bin.000001", Pos: at}}
		if op == event.OpUpdate {
			ev.Before = after
		}
		return ev
	}
	chunk := func(t *schema.Table, first, last bool, window, low, high uint64, ids ...string) *snapshot.Chunk {
		ch := &snapshot.Chunk{Table: t, TableFirst: first, TableLast: last, Window: pos(window), Low: pos(low), High: pos(high),
			Progress: snapshot.Progress{DB: t.DB, Table: t.Name, After: []string{"s:" + base64.StdEncoding.EncodeToString([]byte(ids[len(ids)-1]))}, Done: last}}
		for _, id := range ids {
			ch.Rows = append(ch.Rows, row(t, id))
		}
		return ch
	}

	src := &feedSource{feed: make(chan binlog.Batch), start: pos(4)}
	initial, incremental := newScriptSnapshotter(), newScriptSnapshotter()
	snk := &logSink{more: make(chan struct{}, 1)}
	store := &memStore{}
	cfg := Config{
		SchemaChanges: snk,
		Snapshot:      &SnapshotConfig{Mode: SnapshotInitial, Catalog: cat, Snapshotter: initial, HighWaitLimit: time.Hour},
		Signals: &SignalConfig{SignalTable: schema.TableID{DB: "db", Name: "signal"}, Catalog: cat, HighWaitLimit: time.Hour,
			newSnapshotter: func(snapshot.Config) (Snapshotter, error) { return incremental, nil }},
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, cfg, src, snk, store) }()
	runs := func(s *scriptSnapshotter) string {
		t.Helper()
		select {
		case r := <-s.runs:
			return r
		case err := <-errc:
			t.Fatalf("Run ended: %v", err)
		}
		return ""
	}

	var gotRuns []string
	gotRuns = append(gotRuns, "initial "+runs(initial))
	// A chunk of a; the stream changes a's row 2 after its window: dropped.
	initial.feed <- chunk(a, true, false, 4, 10, 20, "1", "2")
	src.feed <- binlog.Batch{Events: []event.ChangeEvent{change(event.OpUpdate, a, row(a, "2"), 15)}, End: pos(20)}
	snk.wait(t, 2)
	// A signal row asks for an incremental snapshot of db.b: its first
	// window is the signal batch's start.
	src.feed <- binlog.Batch{Events: []event.ChangeEvent{change(event.OpCreate, sig,
		[]event.Value{str("s1"), str("execute-snapshot"), str(`{"data-collections":["db\\.b"]}`)}, 25)}, End: pos(30)}
	gotRuns = append(gotRuns, "incremental "+runs(incremental))
	incremental.feed <- chunk(b, true, true, 20, 30, 40, "100", "101")
	// The next chunk of a is read with a's old definition, then a DDL
	// statement on a: the chunk is dropped and a read again after row 2.
	initial.feed <- chunk(a, false, true, 10, 20, 35, "3", "4")
	cat.set(a2)
	src.feed <- binlog.Batch{Schema: []*schema.Change{{DB: "db", DDL: "ALTER TABLE a ADD w",
		Tables: []schema.TableChange{{Type: schema.ChangeAlter, ID: schema.TableID{DB: "db", Name: "a"}}}}}, End: pos(36)}
	gotRuns = append(gotRuns, "initial "+runs(initial))
	// b's row 101 changes after the incremental chunk's window: dropped;
	// the batch passes its high watermark, so row 100 follows it.
	src.feed <- binlog.Batch{Events: []event.ChangeEvent{change(event.OpUpdate, b, row(b, "101"), 41)}, End: pos(45)}
	snk.wait(t, 6)
	incremental.feed <- nil
	// The rest of a with its new definition, then b, both due after 60.
	initial.feed <- chunk(a2, false, true, 36, 46, 50, "3", "4")
	initial.feed <- chunk(b, true, true, 46, 50, 55, "100", "101")
	src.feed <- binlog.Batch{End: pos(60)}
	got := snk.wait(t, 10)
	initial.feed <- nil
	// The store has the last position once the final chunk is acknowledged.
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}

	want := []string{
		"u db.a 2/2",
		"r db.a 1/2 first",
		"c db.signal s1/3",
		"ddl ALTER TABLE a ADD w",
		"u db.b 101/2",
		"r db.b 100/2 incremental",
		"r db.a 3/3 true",
		"r db.a 4/3 last_in_data_collection",
		"r db.b 100/2 first_in_data_collection",
		"r db.b 101/2 last",
	}
	if diff := cmp.Diff(want, got[:len(want)]); diff != "" || len(got) != len(want) {
		t.Errorf("what reached the sink (-want +got):\n%s\n%s", diff, strings.Join(got, "\n"))
	}
	wantRuns := []string{
		"initial db.a(2),db.b(2) from=/ window=4",
		"incremental db.b(2) from=/ window=20",
		"initial db.a(3),db.b(2) from=a/s:Mg== window=36",
	}
	if diff := cmp.Diff(wantRuns, gotRuns); diff != "" {
		t.Errorf("chunk reader runs (-want +got):\n%s", diff)
	}
	if store.p.Pos != 60 || store.p.Snapshot != "" || store.p.SnapshotProgress != "" {
		t.Errorf("stored %+v, want position 60 with the initial snapshot complete", store.p)
	}
	// The incremental run's end may reach the loop after the stop began:
	// then the state still names db.b, read to its end (a restart finishes
	// it without reading a row).
	st, err := decodeIncState(store.p.Incremental)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := snapshot.DecodeProgress(st.Progress); len(st.Tables) > 0 && !(p.Table == "b" && p.Done) {
		t.Errorf("stored incremental state %+v: db.b is not read to its end", st)
	}
}
