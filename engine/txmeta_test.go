package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// txRecorder is a Sink and a TxMetadataSink that logs what it is given, in
// order: "BEGIN id", "<op> <table> <total>/<dc>" per event (no block: "-"),
// "END id n [table:n ...]". An update whose key changes (After[0] differs)
// is two data records, as debeziumjson.JSON.DataRecords says; op "d" is skipped.
type txRecorder struct {
	mu  sync.Mutex
	log []string
}

func (r *txRecorder) DataRecords(ev *event.ChangeEvent) int {
	switch {
	case ev.Op == event.OpDelete:
		return 0
	case ev.Op == event.OpUpdate && ev.Before[0].I != ev.After[0].I:
		return 2
	}
	return 1
}

func (r *txRecorder) SendTransaction(_ context.Context, m *event.Transaction, done func(error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := m.Status.String() + " " + m.ID
	if m.Status == event.TxEnd {
		s += fmt.Sprintf(" %d", m.EventCount)
		for _, c := range m.DataCollections {
			s += fmt.Sprintf(" %s:%d", c.DataCollection, c.EventCount)
		}
	}
	r.log = append(r.log, s)
	done(nil)
	return nil
}

func (r *txRecorder) Send(_ context.Context, evs []event.ChangeEvent, done func(error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range evs {
		tx := "-"
		if ev.Tx.ID != "" {
			tx = fmt.Sprintf("%s %d/%d", ev.Tx.ID, ev.Tx.TotalOrder, ev.Tx.DataCollectionOrder)
		}
		r.log = append(r.log, fmt.Sprintf("%c %s %s", ev.Op, ev.Table.Name, tx))
	}
	done(nil)
	return nil
}

func (r *txRecorder) Flush(context.Context) error { return nil }
func (r *txRecorder) Close() error                { return nil }

func (r *txRecorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

var (
	txA = &schema.Table{DB: "x", Name: "a"}
	txB = &schema.Table{DB: "x", Name: "b"}
)

func ev(op event.Op, t *schema.Table, key int64) event.ChangeEvent {
	e := event.ChangeEvent{Op: op, Table: t, After: []event.Value{event.Int(key)}, Before: []event.Value{event.Int(key)}}
	return e
}

func keyChange(t *schema.Table, from, to int64) event.ChangeEvent {
	return event.ChangeEvent{Op: event.OpUpdate, Table: t, Before: []event.Value{event.Int(from)}, After: []event.Value{event.Int(to)}}
}

func replayed(e event.ChangeEvent) event.ChangeEvent { e.Replayed = true; return e }

// bigTx is one transaction in three batches, then a transaction without a
// BEGIN (a MySQL TRUNCATE), then a snapshot row.
func bigTx() []binlog.Batch {
	snap := ev(event.OpRead, txA, 9)
	snap.Source.Snapshot = "true"
	return []binlog.Batch{
		{Events: []event.ChangeEvent{ev(event.OpCreate, txA, 1), ev(event.OpCreate, txA, 2), ev(event.OpCreate, txB, 1)},
			Tx: binlog.TxBoundary{ID: "g1", Begin: true, BeginTsMs: 10}, End: offsets.Position{File: "f", Pos: 4, Event: 2}},
		{Events: []event.ChangeEvent{ev(event.OpDelete, txA, 1), keyChange(txA, 2, 3)},
			Tx: binlog.TxBoundary{ID: "g1"}, End: offsets.Position{File: "f", Pos: 4, Event: 4}},
		{Events: []event.ChangeEvent{ev(event.OpUpdate, txB, 1), snap},
			Tx: binlog.TxBoundary{ID: "g1", End: true, EndTsMs: 20}, End: offsets.Position{File: "f", Pos: 100}},
		{Events: []event.ChangeEvent{{Op: event.OpTruncate, Table: txB}}, End: offsets.Position{File: "f", Pos: 200}},
	}
}

var bigTxWant = []string{
	"BEGIN g1",
	"c a g1 1/1", "c a g1 2/2", "c b g1 3/1",
	"d a -",      // skipped operation: no record, not counted
	"u a g1 4/3", // a key change: d 4/3 and c 5/4
	"u b g1 6/2", "r a -",
	"END g1 6 x.a:4 x.b:2",
	"t b -",
}

func sendAll(t *testing.T, m *txMeta, r *txRecorder, bs []binlog.Batch) {
	t.Helper()
	for i := range bs {
		if err := sendEvents(t.Context(), m, nil, r, &bs[i], func(err error) {
			if err != nil {
				t.Error(err)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTxMeta_OrdersAcrossBatches(t *testing.T) {
	r := &txRecorder{}
	sendAll(t, newTxMeta(r), r, bigTx())
	if got := r.lines(); !slices.Equal(got, bigTxWant) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(bigTxWant, "\n"))
	}
}

func TestTxMeta_RestartInsideTransaction(t *testing.T) {
	// The stored offset was the first batch's end: the reader hands out the
	// transaction again from BEGIN, the first batch's events replayed, and
	// no BEGIN is due (binlog.TxBoundary.Begin is false).
	bs := bigTx()
	first := bs[0].Events
	bs[1].Events = append([]event.ChangeEvent{replayed(first[0]), replayed(first[1]), replayed(first[2])}, bs[1].Events...)
	bs = bs[1:]
	r := &txRecorder{}
	sendAll(t, newTxMeta(r), r, bs)
	want := bigTxWant[4:]
	if got := r.lines(); !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTxMeta_BeginWithoutEnd(t *testing.T) {
	// MariaDB: a DDL group (here a TRUNCATE) has a GTID, so a BEGIN, but no
	// XID: Debezium writes no END and the next GTID starts afresh.
	r := &txRecorder{}
	sendAll(t, newTxMeta(r), r, []binlog.Batch{
		{Events: []event.ChangeEvent{{Op: event.OpTruncate, Table: txA}}, Tx: binlog.TxBoundary{ID: "0-1-5", Begin: true}},
		{Events: []event.ChangeEvent{ev(event.OpCreate, txA, 1)}, Tx: binlog.TxBoundary{ID: "0-1-6", Begin: true, End: true}},
		{Tx: binlog.TxBoundary{ID: "0-1-7", Begin: true, End: true}}, // a transaction on excluded tables
	})
	want := []string{"BEGIN 0-1-5", "t a 0-1-5 1/1", "BEGIN 0-1-6", "c a 0-1-6 1/1", "END 0-1-6 1 x.a:1", "BEGIN 0-1-7", "END 0-1-7 0"}
	if got := r.lines(); !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTxMeta_DataCollectionsInJavaHashMapOrder(t *testing.T) {
	r := &txRecorder{}
	m := newTxMeta(r)
	tbl := func(name string) *schema.Table { return &schema.Table{DB: "db", Name: name} }
	// "db.b" and "db.a" fall in buckets by Java's String.hashCode; "db.Aa"
	// and "db.BB" have the same hash and keep their insertion order.
	var evs []event.ChangeEvent
	for _, n := range []string{"b", "BB", "a", "Aa"} {
		evs = append(evs, ev(event.OpCreate, tbl(n), 1))
	}
	sendAll(t, m, r, []binlog.Batch{{Events: evs, Tx: binlog.TxBoundary{ID: "t", Begin: true, End: true}}})
	got := r.lines()
	end := got[len(got)-1]
	bucket := func(s string) int { u := uint32(javaStringHash(s)); return int((u ^ u>>16) & 15) }
	type nb struct {
		n string
		b int
	}
	order := []nb{{"db.b", bucket("db.b")}, {"db.BB", bucket("db.BB")}, {"db.a", bucket("db.a")}, {"db.Aa", bucket("db.Aa")}}
	slices.SortStableFunc(order, func(x, y nb) int { return x.b - y.b })
	want := "END t 4"
	for _, o := range order {
		want += " " + o.n + ":1"
	}
	if end != want {
		t.Errorf("got  %s\nwant %s", end, want)
	}
	if strings.Index(end, "db.BB") > strings.Index(end, "db.Aa") {
		t.Errorf("colliding names out of insertion order: %s", end)
	}
}

func TestJavaStringHash(t *testing.T) {
	for s, want := range map[string]int32{
		"":      0,
		"hello": 99162322,
		"Aa":    2112,
		"BB":    2112,
		"😀":     1772899, // a surrogate pair: 0xD83D*31 + 0xDE00
		"inventory.customers_with_a_rather_long_name": javaStringHash("inventory.customers_with_a_rather_long_name"),
	} {
		if got := javaStringHash(s); got != want {
			t.Errorf("javaStringHash(%q) = %d, want %d", s, got, want)
		}
	}
	// Overflow wraps as Java's int arithmetic does.
	if got := javaStringHash("polygenelubricants"); got != -2147483648 {
		t.Errorf("javaStringHash(polygenelubricants) = %d, want Integer.MIN_VALUE", got)
	}
}

// scriptSource hands out fixed batches, then waits for cancellation.
type scriptSource struct {
	batches []binlog.Batch
	emitted chan struct{}
}

func (s *scriptSource) Start(_ context.Context, p offsets.Position) (offsets.Position, error) {
	return offsets.Position{File: "f", Pos: 1}, nil
}

func (s *scriptSource) Run(ctx context.Context, _ offsets.Position, out chan<- binlog.Batch) error {
	for _, b := range s.batches {
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	close(s.emitted)
	<-ctx.Done()
	return ctx.Err()
}

// txLogTx is a fakeTx-like Transactions that marks commits in the log.
type txLogTx struct{ r *txRecorder }

func (x txLogTx) Begin() error { return nil }
func (x txLogTx) Commit(_ context.Context, end offsets.Position) error {
	x.r.mu.Lock()
	defer x.r.mu.Unlock()
	x.r.log = append(x.r.log, fmt.Sprintf("COMMIT %d", end.Pos))
	return nil
}
func (x txLogTx) Abort(context.Context) error { return nil }

func TestRun_TxMetadata(t *testing.T) {
	for _, eos := range []bool{false, true} {
		t.Run(fmt.Sprintf("exactly-once=%v", eos), func(t *testing.T) {
			r := &txRecorder{}
			src := &scriptSource{batches: bigTx(), emitted: make(chan struct{})}
			cfg := Config{TxMetadata: r}
			if eos {
				cfg.Transactions = txLogTx{r}
				cfg.TransactionEvents = 1 // one batch per Kafka transaction
			}
			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() { errc <- Run(ctx, cfg, src, r, &memStore{}) }()
			<-src.emitted
			cancel()
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range r.lines() {
				if !strings.HasPrefix(l, "COMMIT") {
					got = append(got, l)
				}
			}
			if !slices.Equal(got, bigTxWant) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(bigTxWant, "\n"))
			}
			if eos {
				// END is written in the Kafka transaction of the batch that ends
				// the source transaction, before its commit.
				lines := r.lines()
				i := slices.Index(lines, "END g1 6 x.a:4 x.b:2")
				if i < 0 || i+1 >= len(lines) || lines[i+1] != "COMMIT 100" {
					t.Errorf("END not committed with its batch:\n%s", strings.Join(lines, "\n"))
				}
			}
		})
	}
}

// BenchmarkTxMeta_Prepare measures the per-event cost of transaction
// metadata: one 1000-event transaction over three tables per iteration
// (BEGIN and END included; the sink's own encoding is not).
func BenchmarkTxMeta_Prepare(b *testing.B) {
	r := &txRecorder{}
	m := newTxMeta(r)
	tables := []*schema.Table{txA, txB, {DB: "x", Name: "c"}}
	evs := make([]event.ChangeEvent, 1000)
	for i := range evs {
		evs[i] = ev(event.OpCreate, tables[i%3], int64(i))
	}
	batch := binlog.Batch{Events: evs, Tx: binlog.TxBoundary{ID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23", Begin: true, End: true}}
	b.ReportAllocs()
	for b.Loop() {
		begin, out, end := m.prepare(&batch)
		if begin == nil || end == nil || len(out) != len(evs) {
			b.Fatal("prepare")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}
