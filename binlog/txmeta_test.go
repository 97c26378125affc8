package binlog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/schema"
)

func TestTruncateTarget(t *testing.T) {
	tests := []struct {
		q, db          string
		wantDB, wantTb string
		ok             bool
	}{
		{"TRUNCATE TABLE t", "shop", "shop", "t", true},
		{"truncate t", "shop", "shop", "t", true},
		{"TRUNCATE TABLE `my db`.`we``ird`", "", "my db", "we`ird", true},
		{"/* c */ TRUNCATE TABLE other . t2", "shop", "other", "t2", true},
		{"SET STATEMENT max_statement_time=60 FOR TRUNCATE TABLE t", "shop", "shop", "t", true},
		{"TRUNCATE TABLE", "shop", "", "", false},
		{"ALTER TABLE t TRUNCATE PARTITION p0", "shop", "", "", false},
		{"CREATE TABLE truncate_log (id INT)", "shop", "", "", false},
	}
	for _, tt := range tests {
		db, tb, ok := truncateTarget([]byte(tt.q), tt.db)
		if ok != tt.ok || db != tt.wantDB || tb != tt.wantTb {
			t.Errorf("truncateTarget(%q) = %q, %q, %v; want %q, %q, %v", tt.q, db, tb, ok, tt.wantDB, tt.wantTb, tt.ok)
		}
	}
}

// batchesUntil reads batches until one satisfies last.
func (rn *run) batchesUntil(t *testing.T, last func(Batch) bool) []Batch {
	t.Helper()
	var out []Batch
	timeout := time.After(60 * time.Second)
	for {
		select {
		case b := <-rn.out:
			out = append(out, b)
			if last(b) {
				return out
			}
		case err := <-rn.done:
			t.Fatalf("Run returned %v after %d batches", err, len(out))
		case <-timeout:
			t.Fatalf("timed out after %d batches", len(out))
		}
	}
}

// endsBig reports the batch that ends the large transaction (row 119).
func endsBig(b Batch) bool {
	return b.Tx.End && len(b.Events) > 0 && show(b.Events[len(b.Events)-1].After[0]) == "int:119"
}

func TestReader_TxMetadata(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE a (id INT PRIMARY KEY)", "CREATE TABLE b (id INT PRIMARY KEY)",
		"CREATE TABLE skipped (id INT PRIMARY KEY)")
	h := newHarness(t, srv, db)
	h.cfg.TxMetadata = true
	h.cfg.MaxBatchSize = 10
	h.cfg.Include = func(d, tb string) bool { return d == db && tb != "skipped" }
	from := h.now()
	big := []string{"BEGIN"}
	for i := range 5 {
		big = append(big, fmt.Sprintf("INSERT INTO b VALUES (%d),(%d),(%d),(%d)", 100+4*i, 101+4*i, 102+4*i, 103+4*i))
	}
	big = append(big, "COMMIT")
	srv.Exec(t, db, "BEGIN", "INSERT INTO a VALUES (1)", "INSERT INTO b VALUES (1),(2)", "COMMIT")
	srv.Exec(t, db, "INSERT INTO skipped VALUES (1)")
	srv.Exec(t, db, "TRUNCATE TABLE a")
	srv.Exec(t, db, big...)

	rn := h.start(from)
	var got []Batch
	for _, b := range rn.batchesUntil(t, endsBig) {
		if b.Tx.ID != "" || len(b.Events) > 0 {
			got = append(got, b)
		}
	}
	rn.stop(t)
	// CREATE TABLEs are before from; expect: tx1, skipped tx, truncate, big in parts.
	if len(got) < 4 {
		t.Fatalf("got %d batches: %+v", len(got), got)
	}
	tx1 := got[0]
	if !tx1.Tx.Begin || !tx1.Tx.End || tx1.Tx.ID != tx1.Events[0].Source.GTID || len(tx1.Events) != 3 || tx1.Tx.BeginTsMs == 0 || tx1.Tx.EndTsMs < tx1.Tx.BeginTsMs {
		t.Errorf("multi-table transaction: %+v with %d events", tx1.Tx, len(tx1.Events))
	}
	empty := got[1]
	if !empty.Tx.Begin || !empty.Tx.End || len(empty.Events) != 0 || empty.Tx.ID == tx1.Tx.ID {
		t.Errorf("transaction on an excluded table: %+v with %d events (want BEGIN and END, no events)", empty.Tx, len(empty.Events))
	}
	tr := got[2]
	if len(tr.Events) != 1 || tr.Events[0].Op != event.OpTruncate || tr.Events[0].Table.Name != "a" || tr.Events[0].Before != nil || tr.Events[0].After != nil {
		t.Fatalf("truncate batch: %+v", tr)
	}
	// MariaDB: a DDL group has a GTID (Debezium's BEGIN) but no XID (no END).
	if !tr.Tx.Begin || tr.Tx.End || tr.Tx.ID != tr.Events[0].Source.GTID || len(tr.Schema) != 0 {
		t.Errorf("truncate boundary %+v, schema %v", tr.Tx, tr.Schema)
	}
	parts := got[3:]
	if len(parts) < 2 {
		t.Fatalf("the 20-row transaction came in %d batches", len(parts))
	}
	n := 0
	for i, p := range parts {
		n += len(p.Events)
		if p.Tx.ID != parts[0].Tx.ID || p.Tx.Begin != (i == 0) || p.Tx.End != (i == len(parts)-1) {
			t.Errorf("part %d: %+v", i, p.Tx)
		}
	}
	if n != 20 {
		t.Errorf("%d events in the large transaction, want 20", n)
	}

	// Restart from the first part's end: its events come again, replayed,
	// and no BEGIN is due.
	mid := parts[0].End
	rn2 := h.start(mid)
	var again []Batch
	for _, b := range rn2.batchesUntil(t, endsBig) {
		again = append(again, b)
	}
	rn2.stop(t)
	replayed, fresh := 0, 0
	for _, b := range again {
		if b.Tx.Begin || b.Tx.ID != parts[0].Tx.ID {
			t.Errorf("after restart: %+v", b.Tx)
		}
		for _, ev := range b.Events {
			if ev.Replayed {
				if fresh > 0 {
					t.Error("a replayed event after a fresh one")
				}
				replayed++
			} else {
				fresh++
			}
		}
	}
	if replayed != len(parts[0].Events) || replayed+fresh != 20 {
		t.Errorf("after restart: %d replayed (want %d), %d fresh (want %d)", replayed, len(parts[0].Events), fresh, 20-len(parts[0].Events))
	}
}

// TestStream_TxBoundariesMySQL feeds MySQL events (no server needed): a
// GTID transaction, an anonymous one (id from file and BEGIN position), a
// TRUNCATE (a DDL group: no transaction, op t), XA (not a Debezium
// transaction) and a ROLLBACK (BEGIN, no END).
func TestStream_TxBoundariesMySQL(t *testing.T) {
	uuid := "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	sid := make([]byte, 16)
	for i := range sid {
		var v byte
		for _, c := range strings.ReplaceAll(uuid, "-", "")[2*i : 2*i+2] {
			v <<= 4
			if c >= '0' && c <= '9' {
				v |= byte(c - '0')
			} else {
				v |= byte(c-'a') + 10
			}
		}
		sid[i] = v
	}
	tbl := &schema.Table{DB: "shop", Name: "t", Columns: []schema.Column{{Name: "id", Type: schema.TypeInt}}, PrimaryKey: []int{0}}
	cfg := &Config{TxMetadata: true, Tables: fixedTables{tbl}, MaxBatchSize: 100}
	s := &stream{cfg: cfg, track: true, obs: nopObserver{}, log: slog.New(slog.DiscardHandler), file: "mysql-bin.000001"}
	var err error
	if s.gtids, err = parseGTIDState("", false); err != nil {
		t.Fatal(err)
	}
	out := make(chan Batch, 16)
	h := &replication.EventHeader{Timestamp: 1700000000, ServerID: 7}
	pos := uint64(4)
	feed := func(ev replication.Event) {
		t.Helper()
		if err := s.handle(context.Background(), &replication.BinlogEvent{Header: h, Event: ev}, pos, pos+50, out); err != nil {
			t.Fatal(err)
		}
		pos += 50
	}
	next := func() Batch {
		t.Helper()
		select {
		case b := <-out:
			return b
		default:
			t.Fatal("no batch")
		}
		return Batch{}
	}

	feed(&replication.GTIDEvent{SID: sid, GNO: 5, OriginalCommitTimestamp: 1700000000123456})
	feed(&replication.QueryEvent{Query: []byte("BEGIN")})
	feed(&replication.XIDEvent{})
	if b := next(); b.Tx != (TxBoundary{ID: uuid + ":5", Begin: true, End: true, BeginTsMs: 1700000000123, EndTsMs: 1700000000123}) {
		t.Errorf("GTID transaction: %+v", b.Tx)
	}

	feed(&replication.GTIDEvent{SID: make([]byte, 16)}) // anonymous
	beginAt := pos
	feed(&replication.QueryEvent{Query: []byte("BEGIN")})
	feed(&replication.XIDEvent{})
	if b := next(); b.Tx.ID != fmt.Sprintf("file=mysql-bin.000001,pos=%d", beginAt) || !b.Tx.Begin || !b.Tx.End || b.Tx.BeginTsMs != 1700000000000 {
		t.Errorf("anonymous transaction: %+v", b.Tx)
	}

	feed(&replication.GTIDEvent{SID: sid, GNO: 6})
	truncAt := pos
	feed(&replication.QueryEvent{Query: []byte("TRUNCATE TABLE t"), Schema: []byte("shop")})
	b := next()
	if b.Tx != (TxBoundary{}) || len(b.Events) != 1 {
		t.Fatalf("truncate batch: %+v", b)
	}
	if ev := b.Events[0]; ev.Op != event.OpTruncate || ev.Table != tbl || ev.Source.GTID != uuid+":6" || ev.Source.Pos != truncAt || ev.Source.Thread != -1 || ev.Source.ServerID != 7 {
		t.Errorf("truncate event: %+v", ev)
	}
	feed(&replication.GTIDEvent{SID: sid, GNO: 7})
	feed(&replication.QueryEvent{Query: []byte("TRUNCATE TABLE other"), Schema: []byte("shop")}) // not captured
	select {
	case b := <-out: // a DDL group that changes nothing is only a pending position
		t.Errorf("truncate of an uncaptured table handed out %+v", b)
	default:
	}

	feed(&replication.GTIDEvent{SID: sid, GNO: 8})
	feed(&replication.QueryEvent{Query: []byte("XA START 'x'")})
	feed(&replication.QueryEvent{Query: []byte("XA END 'x'")})
	feed(&replication.GenericEvent{})
	select {
	case b := <-out:
		t.Errorf("XA transaction handed out %+v", b)
	default:
	}

	feed(&replication.GTIDEvent{SID: sid, GNO: 9})
	feed(&replication.QueryEvent{Query: []byte("BEGIN")})
	feed(&replication.QueryEvent{Query: []byte("ROLLBACK")})
	if b := next(); b.Tx.ID != uuid+":9" || !b.Tx.Begin || b.Tx.End {
		t.Errorf("rolled back transaction: %+v (Debezium writes BEGIN, no END)", b.Tx)
	}
}
