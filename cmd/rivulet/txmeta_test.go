package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/offsets"
)

// txByID groups transaction records by id; the key's id must be the value's.
func txByID(t *testing.T, recs []record) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, r := range recs {
		p := payload(r.Value)
		id, _ := p["id"].(string)
		if kid, _ := payload(r.Key)["id"].(string); kid != id {
			t.Errorf("transaction record key %s, value id %q", r.RawKey, id)
		}
		out[id] = append(out[id], p)
	}
	return out
}

// TestRun_TxMetadata: with provide.transaction.metadata=true a transaction
// over two tables is framed by BEGIN and END on <prefix>.transaction, every
// event carries {id, total_order, data_collection_order} (a primary-key
// change counts as two events, across several batches: max.batch.size=2),
// END counts the events per table; with skipped.operations=none a TRUNCATE
// is an op "t" event (on MariaDB inside its own GTID's transaction, which
// Debezium begins and never ends). Under exactly.once.support=required the
// BEGIN/END records are in the Kafka transactions (read_committed sees them).
func TestRun_TxMetadata(t *testing.T) {
	for _, eos := range []bool{false, true} {
		t.Run(fmt.Sprintf("exactly-once=%v", eos), func(t *testing.T) {
			e := newE2E(t)
			e.srv.Exec(t, e.db, `CREATE TABLE a (id INT PRIMARY KEY, v INT)`, `CREATE TABLE b (id INT PRIMARY KEY, v INT)`)
			extra := map[string]string{
				"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
				"provide.transaction.metadata": "true", "skipped.operations": "none",
				"max.batch.size": "2", "max.queue.size": "8",
			}
			if eos {
				for k, v := range e.kafkaOffsets() {
					extra[k] = v
				}
				extra["exactly.once.support"] = "required"
			}
			in := e.start(t, e.config(t, extra))
			e.srv.Exec(t, e.db,
				`BEGIN`,
				`INSERT INTO a VALUES (1, 0), (2, 0)`,
				`INSERT INTO b VALUES (1, 0)`,
				`UPDATE a SET id = 3 WHERE id = 1`,
				`INSERT INTO b VALUES (2, 0)`,
				`COMMIT`,
				`TRUNCATE TABLE b`,
			)
			ta, tb := e.prefix+"."+e.db+".a", e.prefix+"."+e.db+".b"
			// a: c, c, d + tombstone, c; b: c, c, t.
			data := consume(t, e.brokers, 8, ta, tb)
			var gtid, truncGTID string
			type order struct {
				table       string
				op          string
				total, dcol float64
			}
			var orders []order
			for _, r := range data {
				if r.Value == nil {
					continue // tombstones carry no transaction block
				}
				p := payload(r.Value)
				op := p["op"].(string)
				src := p["source"].(map[string]any)
				tx, _ := p["transaction"].(map[string]any)
				if tx == nil {
					t.Fatalf("%s event without transaction block: %s", op, r.RawVal)
				}
				if tx["id"] != src["gtid"] {
					t.Errorf("transaction.id %v, source.gtid %v", tx["id"], src["gtid"])
				}
				if op == "t" {
					truncGTID = tx["id"].(string)
					if r.RawKey != nil || p["before"] != nil || p["after"] != nil || src["table"] != "b" ||
						tx["total_order"] != 1.0 || tx["data_collection_order"] != 1.0 {
						t.Errorf("truncate record: key %s value %s", r.RawKey, r.RawVal)
					}
					continue
				}
				if gtid == "" {
					gtid = tx["id"].(string)
				} else if tx["id"] != gtid {
					t.Errorf("events of one transaction with ids %s and %v", gtid, tx["id"])
				}
				orders = append(orders, order{src["table"].(string), op, tx["total_order"].(float64), tx["data_collection_order"].(float64)})
			}
			slices.SortFunc(orders, func(x, y order) int { return int(x.total - y.total) })
			got := ""
			for _, o := range orders {
				got += fmt.Sprintf("%s:%s:%v/%v ", o.table, o.op, o.total, o.dcol)
			}
			if want := "a:c:1/1 a:c:2/2 b:c:3/1 a:d:4/3 a:c:5/4 b:c:6/2 "; got != want {
				t.Errorf("orders = %s\nwant     %s", got, want)
			}
			if truncGTID == "" || truncGTID == gtid {
				t.Fatalf("truncate transaction id %q (data transaction %q)", truncGTID, gtid)
			}

			txTopic := e.prefix + ".transaction"
			var byID map[string][]map[string]any
			consumeUntil(t, e.brokers, func(recs []record) bool {
				byID = txByID(t, recs)
				return len(byID[gtid]) >= 2 && len(byID[truncGTID]) >= 1
			}, txTopic)
			framed := byID[gtid]
			if len(framed) != 2 || framed[0]["status"] != "BEGIN" || framed[1]["status"] != "END" {
				t.Fatalf("records of %s: %v", gtid, framed)
			}
			if framed[0]["event_count"] != nil || framed[0]["data_collections"] != nil || framed[0]["ts_ms"] == nil {
				t.Errorf("BEGIN = %v", framed[0])
			}
			end := framed[1]
			if end["event_count"] != 6.0 {
				t.Errorf("END event_count = %v, want 6", end["event_count"])
			}
			counts := map[string]float64{}
			for _, c := range end["data_collections"].([]any) {
				m := c.(map[string]any)
				counts[m["data_collection"].(string)] = m["event_count"].(float64)
			}
			if counts[e.db+".a"] != 4 || counts[e.db+".b"] != 2 || len(counts) != 2 {
				t.Errorf("END data_collections = %v, want %s.a:4 %s.b:2", end["data_collections"], e.db, e.db)
			}
			if tr := byID[truncGTID]; len(tr) != 1 || tr[0]["status"] != "BEGIN" {
				t.Errorf("truncate's transaction records: %v (want a BEGIN, no END, as Debezium's MariaDB connector)", tr)
			}
			if eos {
				// Committed with the events: a read_committed consumer sees them.
				if n := committedIDs(t, e.brokers, txTopic, gtid, truncGTID); n != 3 {
					t.Errorf("read_committed consumer saw %d of the 3 transaction records", n)
				}
			}
			in.stop()

			// TRUNCATE is not a schema change: the history holds no record of it.
			hist := consumeUntil(t, e.brokers, func([]record) bool { return true }, e.prefix+".history")
			for _, r := range hist {
				if ddl, _ := r.Value["ddl"].(string); strings.Contains(strings.ToUpper(ddl), "TRUNCATE") {
					t.Errorf("schema history records %q", ddl)
				}
			}
		})
	}
}

// TestRun_TruncateSkippedByDefault: Debezium's default skipped.operations is
// "t": a TRUNCATE emits nothing, and rows written after it stream as usual.
func TestRun_TruncateSkippedByDefault(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, `CREATE TABLE b (id INT PRIMARY KEY, v INT)`)
	in := e.start(t, e.config(t, map[string]string{"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"}))
	e.srv.Exec(t, e.db, `INSERT INTO b VALUES (1, 0)`, `TRUNCATE TABLE b`, `INSERT INTO b VALUES (2, 0)`)
	recs := consume(t, e.brokers, 2, e.prefix+"."+e.db+".b")
	var ops []string
	for _, r := range recs {
		p := payload(r.Value)
		ops = append(ops, fmt.Sprint(p["op"], p["after"].(map[string]any)["id"]))
		if p["transaction"] != nil {
			t.Errorf("transaction block without provide.transaction.metadata: %s", r.RawVal)
		}
	}
	if got := strings.Join(ops, ","); got != "c1,c2" {
		t.Errorf("ops = %s, want c1,c2 (no truncate event)", got)
	}
	in.stop()
}

// committedIDs counts the records of topic whose key id is one of ids, read
// with isolation.level=read_committed.
func committedIDs(t *testing.T, brokers []string, topic string, ids ...string) int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	n := 0
	for n < 3 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			for _, id := range ids {
				if strings.Contains(string(r.Key), `"`+id+`"`) {
					n++
				}
			}
		})
	}
	return n
}

// TestRun_TxMetadataResumesInsideTransaction restarts rivulet from an
// offset inside a transaction (events to skip, as Debezium and Rivulet store
// it after a batch of a large transaction): no second BEGIN, the events
// after the skipped ones carry the orders they had the first time
// (total_order continues from the replayed events, not from 1), and END
// counts the whole transaction.
func TestRun_TxMetadataResumesInsideTransaction(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, `CREATE TABLE big (id INT PRIMARY KEY)`)
	cfg := e.config(t, map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"provide.transaction.metadata": "true", "max.batch.size": "10",
	})
	in := e.start(t, cfg)
	stmts := []string{"BEGIN"}
	for i := range 5 { // five rows events of ten rows
		q := "INSERT INTO big VALUES "
		for j := range 10 {
			if j > 0 {
				q += ","
			}
			q += fmt.Sprintf("(%d)", 10*i+j)
		}
		stmts = append(stmts, q)
	}
	e.srv.Exec(t, e.db, append(stmts, "COMMIT")...)
	topic, txTopic := e.prefix+"."+e.db+".big", e.prefix+".transaction"
	first := consume(t, e.brokers, 50, topic)
	in.stop()
	order := func(r record) (id, total float64, gtid string) {
		p := payload(r.Value)
		tx := p["transaction"].(map[string]any)
		return p["after"].(map[string]any)["id"].(float64), tx["total_order"].(float64), tx["id"].(string)
	}
	_, _, gtid := order(first[0])
	src := payload(first[0].Value)["source"].(map[string]any)
	// The position after two rows events: the transaction's start (GTID set
	// before it, MariaDB d-s-n) and two events to skip.
	parts := strings.Split(gtid, "-")
	var seq int
	fmt.Sscan(parts[2], &seq)
	st := offsets.NewFileStore(e.dir+"/offsets.json", e.connector(), e.prefix)
	mid := offsets.Position{File: src["file"].(string), Pos: uint64(src["pos"].(float64)), Event: 2,
		GTIDSet: fmt.Sprintf("%s-%s-%d", parts[0], parts[1], seq-1), ServerID: 1}
	if err := st.Save(t.Context(), mid); err != nil {
		t.Fatal(err)
	}

	in2 := e.start(t, cfg)
	all := consume(t, e.brokers, 80, topic)
	for _, r := range all[50:] {
		id, total, g := order(r)
		if g != gtid || total != id+1 {
			t.Errorf("after the restart: row %v has total_order %v in %s, want %v in %s", id, total, g, id+1, gtid)
		}
	}
	if id, _, _ := order(all[50]); id != 20 {
		t.Errorf("the restart resumed at row %v, want 20 (two rows events skipped)", id)
	}
	var got []string
	consumeUntil(t, e.brokers, func(recs []record) bool {
		got = got[:0]
		for _, r := range recs {
			if p := payload(r.Value); p["id"] == gtid {
				got = append(got, fmt.Sprint(p["status"], p["event_count"]))
			}
		}
		return len(got) >= 3
	}, txTopic)
	if strings.Join(got, ",") != "BEGIN<nil>,END50,END50" {
		t.Errorf("transaction records of %s: %v, want BEGIN, END 50 (first run), END 50 (after the restart)", gtid, got)
	}
	in2.stop()
}
