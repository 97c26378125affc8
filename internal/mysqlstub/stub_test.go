package mysqlstub

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const vectors = "../../binlog/testdata/mysql8"

// apecloud-mysql-bin.000057 (MySQL 8.0.31): PREVIOUS_GTIDS
// 76f3e7be-6720-11ed-9cad-0242ac110002:1-10, then GTID 11 (CREATE TABLE
// a.b), 12 (INSERT into a.b, in a TRANSACTION_PAYLOAD), 13 (UPDATE and
// INSERT of a.test_table_3, in a TRANSACTION_PAYLOAD).
const (
	apecloud     = "apecloud-mysql-bin.000057"
	apecloudUUID = "76f3e7be-6720-11ed-9cad-0242ac110002"
	testTable3   = "CREATE TABLE `test_table_3` (product_id INT NOT NULL PRIMARY KEY, product_item VARCHAR(255) NOT NULL, c3 DATE, c4 INT, c5 TEXT, c6 TIMESTAMP NULL, " +
		"enum_field ENUM('x-small','small','medium','large'), set_field SET('a','b','c','d'), c9 BINARY(3), c10 JSON, " +
		"product_item_2 VARCHAR(255) NOT NULL, c12 DATE NOT NULL, c13 DATE, c14 INT, c15 TEXT, c16 TIMESTAMP NULL, c17 DATE, c18 INT, c19 TEXT, c20 TIMESTAMP NULL) DEFAULT CHARSET=utf8mb3"
)

func startStub(t *testing.T, o Options) *Primary {
	t.Helper()
	p, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// collect runs a Reader until want change events arrived (or the timeout),
// then stops it; it returns the batches.
//
// With want 0 it stops once the stub has sent three heartbeats after the
// start (the stub sends them only after the files' last event, 100 ms
// apart): a test of "nothing follows" relies on the events before the
// heartbeats having reached the Reader by then.
func collect(t *testing.T, p *Primary, cfg binlog.Config, start offsets.Position, want int) ([]binlog.Batch, error) {
	t.Helper()
	beats := p.Heartbeats()
	r, err := binlog.NewReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make(chan binlog.Batch)
	var batches []binlog.Batch
	var wg sync.WaitGroup
	wg.Add(1)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	go func() {
		defer wg.Done()
		n := 0
		for {
			select {
			case b := <-out:
				batches = append(batches, b)
				n += len(b.Events)
				if n >= want && len(b.Events) > 0 {
					cancel()
				}
			case <-tick.C:
				if want == 0 && p.Heartbeats() >= beats+3 {
					cancel()
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	err = r.Run(ctx, start, out)
	cancel()
	wg.Wait()
	return batches, err
}

func tracker(t *testing.T, ddl ...string) *schema.Tracker {
	t.Helper()
	tr := schema.NewTracker(schema.TrackerConfig{})
	for _, q := range ddl {
		if _, err := tr.ApplyDDL(context.Background(), schema.DDL{SQL: q}); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func readerConfig(p *Primary, tr *schema.Tracker) binlog.Config {
	host, port := p.Addr()
	return binlog.Config{Host: host, Port: port, User: "rivulet", Password: "secret", ServerID: 7001,
		Tables: tr, DDL: tr, HeartbeatPeriod: 100 * time.Millisecond, ReadTimeout: time.Second,
		ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond, PositionInterval: 20 * time.Millisecond}
}

func events(bs []binlog.Batch) []event.ChangeEvent {
	var out []event.ChangeEvent
	for _, b := range bs {
		out = append(out, b.Events...)
	}
	return out
}

// TestStub_GTIDResume streams the file from the stub by file/position, then
// resumes from each transaction's end by its GTID set alone
// (COM_BINLOG_DUMP_GTID): the stub skips the transactions in the set, and
// exactly the rest follows.
func TestStub_GTIDResume(t *testing.T) {
	p := startStub(t, Options{Version: "8.0.31", UUID: apecloudUUID, Files: []string{filepath.Join(vectors, apecloud)}})
	ddl := []string{"CREATE DATABASE a CHARACTER SET utf8mb3", "USE a", strings.Replace(testTable3, "`test_table_3`", "a.test_table_3", 1)}
	all, err := collect(t, p, readerConfig(p, tracker(t, ddl...)), offsets.Position{File: apecloud, Pos: 4, GTIDSet: apecloudUUID + ":1-10"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	evs := events(all)
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3 (GTID 12: the a.b insert; 13: test_table_3 update and insert)", len(evs))
	}
	gtids := []string{}
	for _, e := range evs {
		gtids = append(gtids, e.Source.GTID)
	}
	t.Logf("events: %v", gtids)
	// Resume from the GTID set after each transaction with events.
	for _, b := range all {
		if len(b.Events) == 0 {
			continue
		}
		resume := offsets.Position{GTIDSet: b.End.GTIDSet}
		rest := 0
		for _, e := range evs {
			end, err := mysql.ParseMysqlGTIDSet(b.End.GTIDSet)
			if err != nil {
				t.Fatal(err)
			}
			if !containsGTID(end.(*mysql.MysqlGTIDSet), e.Source.GTID) {
				rest++
			}
		}
		got, err := collect(t, p, readerConfig(p, tracker(t, ddl...)), resume, max(rest, 0))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(events(got)); n != rest {
			t.Errorf("resume from %s: %d events, want %d", resume.GTIDSet, n, rest)
		}
	}
}

// TestStub_PurgedGTIDs: a GTID set missing what the primary purged is
// refused with error 1236, mapped to ErrPositionNotFound with its fix.
func TestStub_PurgedGTIDs(t *testing.T) {
	p := startStub(t, Options{Version: "8.0.31", UUID: apecloudUUID, Files: []string{filepath.Join(vectors, apecloud)}})
	_, err := collect(t, p, readerConfig(p, tracker(t)), offsets.Position{GTIDSet: apecloudUUID + ":1-5"}, 1)
	if !errors.Is(err, binlog.ErrPositionNotFound) {
		t.Fatalf("err = %v, want ErrPositionNotFound", err)
	}
	var be *binlog.Error
	if !errors.As(err, &be) || be.Code != 1236 || !strings.Contains(be.Hint, "purged") {
		t.Errorf("err %v: want server code 1236 and a hint about purged binlogs", err)
	}
}

// TestStub_HeartbeatsKeepAnIdleStreamConnected: the Reader asks for
// heartbeats every 100 ms (SET @master_heartbeat_period) and gives a silent
// connection 300 ms; the stub has nothing more to send after its file, so
// only its heartbeats keep the one connection alive for well over that.
func TestStub_HeartbeatsKeepAnIdleStreamConnected(t *testing.T) {
	p := startStub(t, Options{Version: "8.0.31", UUID: apecloudUUID, Files: []string{filepath.Join(vectors, apecloud)}})
	cfg := readerConfig(p, tracker(t))
	cfg.ReadTimeout = 300 * time.Millisecond
	beats := p.Heartbeats()
	r, err := binlog.NewReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan binlog.Batch)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, offsets.Position{GTIDSet: apecloudUUID + ":1-13"}, out) }()
	// 15 heartbeats at 100 ms: five times the read timeout.
	deadline := time.After(10 * time.Second)
	for p.Heartbeats() < beats+15 {
		select {
		case <-deadline:
			t.Fatalf("%d heartbeats in 10 s", p.Heartbeats()-beats)
		case err := <-done:
			t.Fatalf("Run returned while idle: %v", err)
		case <-out:
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if d := p.Dumps(); len(d) != 1 {
		t.Errorf("dumps %q: want one connection for the whole idle time (heartbeats reset the read timeout)", d)
	}
	for _, q := range p.Queries() {
		if strings.Contains(q, "@master_heartbeat_period") {
			return
		}
	}
	t.Errorf("the Reader never asked for heartbeats (SET @master_heartbeat_period); statements: %q", p.Queries())
}

// TestStub_GTIDResumeInsideTransaction: with one event per batch, the
// batch after GTID 13's UPDATE (inside the transaction's
// TRANSACTION_PAYLOAD, with the INSERT) ends inside the transaction: the
// GTID set before it and one event to skip, as Debezium stores it. Resuming
// there asks the stub for the transactions after 76f3e7be…:1-12
// (COM_BINLOG_DUMP_GTID) and emits exactly the INSERT.
func TestStub_GTIDResumeInsideTransaction(t *testing.T) {
	p := startStub(t, Options{Version: "8.0.31", UUID: apecloudUUID, Files: []string{filepath.Join(vectors, apecloud)}})
	ddl := []string{"CREATE DATABASE a CHARACTER SET utf8mb3", "USE a", strings.Replace(testTable3, "`test_table_3`", "a.test_table_3", 1)}
	cfg := readerConfig(p, tracker(t, ddl...))
	cfg.MaxBatchSize = 1
	all, err := collect(t, p, cfg, offsets.Position{File: apecloud, Pos: 4, GTIDSet: apecloudUUID + ":1-10"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	var mid offsets.Position
	for _, b := range all {
		if len(b.Events) == 1 && b.Events[0].Op == event.OpUpdate {
			mid = b.End
		}
	}
	t.Logf("after the UPDATE: %s", mid)
	if mid.GTIDSet != apecloudUUID+":1-12" || mid.Event != 1 {
		t.Fatalf("position after GTID 13's first event = %s; want the set before it (%s:1-12) and one event to skip", mid, apecloudUUID)
	}
	dumps := len(p.Dumps())
	cfg = readerConfig(p, tracker(t, ddl...))
	got, err := collect(t, p, cfg, offsets.Position{GTIDSet: mid.GTIDSet, Event: mid.Event, Row: mid.Row}, 1)
	if err != nil {
		t.Fatal(err)
	}
	evs := events(got)
	if len(evs) != 1 || evs[0].Op != event.OpCreate || evs[0].Source.GTID != apecloudUUID+":13" {
		t.Errorf("resumed inside GTID 13: %d events %v, want exactly its INSERT", len(evs), evs)
	}
	if d := p.Dumps()[dumps:]; len(d) == 0 || d[0] != "gtid "+apecloudUUID+":1-12" {
		t.Errorf("resume dumps %q, want COM_BINLOG_DUMP_GTID from %s:1-12", d, apecloudUUID)
	}
}
