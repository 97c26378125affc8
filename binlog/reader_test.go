package binlog

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// show renders a value for comparisons in tests.
func show(v event.Value) string {
	switch v.Kind {
	case event.KindNull:
		return "null"
	case event.KindInt:
		return "int:" + strconv.FormatInt(v.I, 10)
	case event.KindUint:
		return "uint:" + strconv.FormatUint(uint64(v.I), 10)
	case event.KindFloat:
		return "float:" + strconv.FormatFloat(v.Float64(), 'g', -1, 32)
	case event.KindDouble:
		return "double:" + strconv.FormatFloat(v.Float64(), 'g', -1, 64)
	case event.KindDecimal:
		return "dec:" + string(v.B)
	case event.KindString:
		return "str:" + string(v.B)
	case event.KindBytes:
		return "bytes:" + hex.EncodeToString(v.B)
	case event.KindBits:
		return "bits:" + hex.EncodeToString(v.B)
	case event.KindJSON:
		return "json:" + string(v.B)
	case event.KindDate:
		return "date:" + time.Unix(v.I*86400, 0).UTC().Format("2006-01-02")
	case event.KindTime:
		return "time:" + (time.Duration(v.I) * time.Microsecond).String()
	case event.KindDateTime:
		return "datetime:" + time.UnixMicro(v.I).UTC().Format("2006-01-02T15:04:05.999999")
	case event.KindTimestamp:
		return "ts:" + time.UnixMicro(v.I).UTC().Format("2006-01-02T15:04:05.999999Z")
	}
	return fmt.Sprintf("kind%d", v.Kind)
}

func showRow(vals []event.Value) []string {
	if vals == nil {
		return nil
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = show(v)
	}
	return out
}

var serverIDs atomic.Uint32

// harness runs a Reader against a testenv server.
type harness struct {
	t      *testing.T
	srv    *testenv.Server
	db     string
	loader *schema.Loader
	cfg    Config
}

func newHarness(t *testing.T, srv *testenv.Server, db string) *harness {
	loader := schema.NewLoader(schema.LoaderConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password})
	t.Cleanup(func() { _ = loader.Close() })
	h := &harness{t: t, srv: srv, db: db, loader: loader}
	h.cfg = Config{
		Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password,
		ServerID:         1000 + serverIDs.Add(1),
		Tables:           loader,
		Include:          func(d, _ string) bool { return d == db },
		PositionInterval: 20 * time.Millisecond,
		ReconnectMin:     10 * time.Millisecond,
		ReconnectMax:     200 * time.Millisecond,
	}
	return h
}

func (h *harness) reader() *Reader {
	r, err := NewReader(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// now returns the current end of the binlog.
func (h *harness) now() offsets.Position {
	h.t.Helper()
	p, err := h.reader().Start(context.Background(), offsets.Position{})
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// run is a running Reader.
type run struct {
	once   sync.Once
	out    chan Batch
	cancel context.CancelFunc
	done   chan error
}

func (h *harness) start(from offsets.Position) *run {
	ctx, cancel := context.WithCancel(context.Background())
	r := h.reader()
	rn := &run{out: make(chan Batch), cancel: cancel, done: make(chan error, 1)}
	go func() { rn.done <- r.Run(ctx, from, rn.out) }()
	h.t.Cleanup(func() { rn.stop(h.t) })
	return rn
}

func (rn *run) stop(t *testing.T) {
	rn.once.Do(func() {
		rn.cancel()
		select {
		case err := <-rn.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	})
}

// events reads batches until n change events arrived; it returns the events
// and the batches.
func (rn *run) events(t *testing.T, n int) ([]event.ChangeEvent, []Batch) {
	t.Helper()
	var evs []event.ChangeEvent
	var batches []Batch
	timeout := time.After(60 * time.Second)
	for len(evs) < n {
		select {
		case b := <-rn.out:
			batches = append(batches, b)
			evs = append(evs, b.Events...)
		case err := <-rn.done:
			t.Fatalf("Run returned %v after %d of %d events", err, len(evs), n)
		case <-timeout:
			t.Fatalf("timed out after %d of %d events", len(evs), n)
		}
	}
	if len(evs) > n {
		t.Fatalf("got %d events, want %d", len(evs), n)
	}
	return evs, batches
}

func TestReader_Types(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, `CREATE TABLE types (
		id INT PRIMARY KEY,
		ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
		i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
		d1 DECIMAL(10,2), d2 DECIMAL(30,10), d3 DECIMAL(5,0),
		f FLOAT, dbl DOUBLE,
		c CHAR(5), vc VARCHAR(20), tx TEXT, lt LONGTEXT,
		l1 VARCHAR(10) CHARACTER SET latin1, w1251 VARCHAR(10) CHARACTER SET cp1251,
		sj VARCHAR(10) CHARACTER SET sjis, gb VARCHAR(10) CHARACTER SET gbk, cb CHAR(3) CHARACTER SET binary,
		bn BINARY(4), vb VARBINARY(10), bl BLOB,
		dt DATE, tm TIME(3), tm0 TIME, dtm DATETIME(6), dtm0 DATETIME, ts TIMESTAMP(2) NULL, y YEAR,
		e ENUM('a','b','c'), st SET('x','y','z'),
		b1 BIT(1), b10 BIT(10), j JSON, g GEOMETRY,
		zd DATE NOT NULL DEFAULT '2000-01-01', zdn DATETIME NULL
	) DEFAULT CHARSET=utf8mb4`)
	h := newHarness(t, srv, db)
	from := h.now()
	srv.Exec(t, db, "SET SESSION sql_mode='', time_zone='+00:00'",
		`INSERT INTO types VALUES (1,
		-128, 255, -32768, 65535, -8388608, 16777215,
		-2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
		-12345678.91, 12345678901234567890.0123456789, 99999,
		1.5, -2.25e100,
		'ab', 'héllo ☃', 'text', 'long',
		'café', 'Привет', 'こんにちは', '你好', 'x',
		X'0102', X'00ff', X'deadbeef',
		'2024-02-29', '-838:59:58.5', '25:00:00', '2024-02-29 23:59:59.123456', '1000-01-01 00:00:00', '2038-01-19 03:14:07.99', 2155,
		'b', 'x,z',
		b'1', b'1000000001', '{"b": [1, 2.5, "s"], "a": null}', ST_GeomFromText('POINT(1 2)'),
		'0000-00-00', '0000-00-00 00:00:00')`,
		`INSERT INTO types (id, zd) VALUES (2, '1970-01-01')`,
		`UPDATE types SET vc='bye', y=0, e='c', st='' WHERE id=1`,
		`DELETE FROM types WHERE id=2`)
	rn := h.start(from)
	evs, _ := rn.events(t, 4)

	want1 := []string{"int:1",
		"int:-128", "int:255", "int:-32768", "int:65535", "int:-8388608", "int:16777215",
		"int:-2147483648", "int:4294967295", "int:-9223372036854775808", "uint:18446744073709551615",
		"dec:-12345678.91", "dec:12345678901234567890.0123456789", "dec:99999",
		"float:1.5", "double:-2.25e+100",
		"str:ab", "str:héllo ☃", "str:text", "str:long",
		"str:café", "str:Привет", "str:こんにちは", "str:你好", "bytes:780000", // CHAR(3) CHARACTER SET binary is BINARY(3)
		"bytes:01020000", "bytes:00ff", "bytes:deadbeef",
		"date:2024-02-29", "time:-838h59m58.5s", "time:25h0m0s", "datetime:2024-02-29T23:59:59.123456", "datetime:1000-01-01T00:00:00", "ts:2038-01-19T03:14:07.99Z", "int:2155",
		"str:b", "str:x,z",
		"bits:01", "bits:0201", `str:{"b": [1, 2.5, "s"], "a": null}`, "",
		"date:1970-01-01", "null"}
	if evs[0].Op != event.OpCreate || evs[0].Before != nil {
		t.Fatalf("event 0: op %c, before %v", evs[0].Op, evs[0].Before)
	}
	got := showRow(evs[0].After)
	want1[len(want1)-3] = got[len(want1)-3] // GEOMETRY: WKB with SRID, checked below
	// MariaDB's JSON is LONGTEXT: the text as inserted, as KindJSON when the
	// loader recognises the column.
	if k := evs[0].After[39].Kind; k == event.KindJSON {
		want1[39] = "json" + want1[39][3:]
	}
	if diff := cmp.Diff(want1, got); diff != "" {
		t.Errorf("insert row (-want +got):\n%s", diff)
	}
	if g := evs[0].After[40]; g.Kind != event.KindBytes || len(g.B) != 25 {
		t.Errorf("geometry = %s, want 25 bytes of SRID+WKB", show(g))
	}
	// Zero date in a NOT NULL column: the epoch.
	if z := evs[0].After[41]; z.Kind != event.KindDate || z.I != 0 {
		t.Errorf("zero date NOT NULL = %s", show(z))
	}

	if evs[1].Op != event.OpCreate || show(evs[1].After[0]) != "int:2" || show(evs[1].After[1]) != "null" {
		t.Errorf("event 1: %c %v", evs[1].Op, showRow(evs[1].After))
	}
	upd := evs[2]
	if upd.Op != event.OpUpdate || upd.Before == nil || upd.After == nil {
		t.Fatalf("event 2: %c", upd.Op)
	}
	if diff := cmp.Diff(got[:10], showRow(upd.Before)[:10]); diff != "" {
		t.Errorf("update before: %s", diff)
	}
	// Column 34 is YEAR set to 0: Debezium reads YEAR 0000 as Year.of(1900 + 0).
	for i, w := range map[int]string{17: "str:bye", 34: "int:1900", 35: "str:c", 36: "str:"} {
		if g := show(upd.After[i]); g != w {
			t.Errorf("update after column %d = %s, want %s", i, g, w)
		}
	}
	del := evs[3]
	if del.Op != event.OpDelete || del.After != nil || show(del.Before[0]) != "int:2" {
		t.Errorf("event 3: %c %v", del.Op, showRow(del.Before))
	}
	for i, ev := range evs {
		if ev.Table == nil || ev.Table.Name != "types" || ev.Source.File == "" || ev.Source.Pos == 0 ||
			ev.Source.GTID == "" || ev.Source.ServerID != srv.ServerID || ev.Source.TsUs == 0 {
			t.Errorf("event %d: table %v source %+v", i, ev.Table, ev.Source)
		}
	}
}

func TestReader_TransactionsAndPositions(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(10))", "CREATE TABLE b (id INT PRIMARY KEY)",
		"CREATE TABLE skipped (id INT PRIMARY KEY)")
	h := newHarness(t, srv, db)
	h.cfg.Include = func(d, tbl string) bool { return d == db && tbl != "skipped" }
	from := h.now()
	srv.Exec(t, db,
		"BEGIN", "INSERT INTO a VALUES (1,'x'),(2,'y')", "INSERT INTO b VALUES (10)", "UPDATE a SET v='z' WHERE id=1", "COMMIT",
		"INSERT INTO skipped VALUES (1)",
		"INSERT INTO b VALUES (11)")
	rn := h.start(from)
	var batches []Batch
	var evs []event.ChangeEvent
	for len(evs) < 5 {
		select {
		case b := <-rn.out:
			batches = append(batches, b)
			evs = append(evs, b.Events...)
		case <-time.After(60 * time.Second):
			t.Fatal("timeout")
		}
	}
	if len(batches[0].Events) != 4 {
		t.Fatalf("first batch has %d events, want the 4 of the transaction", len(batches[0].Events))
	}
	tx := batches[0]
	// One GTID; source.pos is each rows event's own start (Debezium's
	// EventHeaderV4.getPosition), so it never goes back within the transaction.
	for i, ev := range tx.Events {
		if ev.Source.GTID != tx.Events[0].Source.GTID || ev.Source.Pos < tx.Events[0].Source.Pos {
			t.Errorf("event %d of one transaction has source %+v", i, ev.Source)
		}
	}
	if tx.Events[1].Source.Row != 1 || tx.Events[0].Source.Row != 0 {
		t.Errorf("rows: %d %d", tx.Events[0].Source.Row, tx.Events[1].Source.Row)
	}
	if tx.End.GTIDSet == "" || tx.End.Pos <= tx.Events[0].Source.Pos || tx.End.Event != 0 {
		t.Errorf("end %+v", tx.End)
	}
	last := batches[len(batches)-1]
	if len(last.Events) != 1 || show(last.Events[0].After[0]) != "int:11" {
		t.Fatalf("last batch %+v", last)
	}
	// The skipped table's transaction produced no events; the next batch's
	// GTID set covers it.
	if last.End.GTIDSet == tx.End.GTIDSet || last.End.Pos <= tx.End.Pos {
		t.Errorf("positions did not advance: %+v then %+v", tx.End, last.End)
	}

	// Empty transactions still move the position (an empty batch).
	srv.Exec(t, db, "INSERT INTO skipped VALUES (2)")
	select {
	case b := <-rn.out:
		if len(b.Events) != 0 || b.End.Pos <= last.End.Pos {
			t.Errorf("after a filtered transaction: %d events, end %+v", len(b.Events), b.End)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no position batch after a filtered transaction")
	}

	// A non-transactional table: MariaDB logs a standalone group ending in COMMIT.
	srv.Exec(t, db, "CREATE TABLE m (id INT) ENGINE=Aria TRANSACTIONAL=0", "INSERT INTO m VALUES (5)")
	for {
		b := <-rn.out
		if len(b.Events) == 0 {
			continue
		}
		if len(b.Events) != 1 || show(b.Events[0].After[0]) != "int:5" || b.Events[0].Source.GTID == "" {
			t.Fatalf("non-transactional insert: %+v", b)
		}
		last = b
		break
	}

	// Restarting from a handed-out position repeats nothing.
	rn.stop(t)
	srv.Exec(t, db, "INSERT INTO b VALUES (12)")
	rn2 := h.start(last.End)
	evs2, _ := rn2.events(t, 1)
	if show(evs2[0].After[0]) != "int:12" {
		t.Errorf("after restart got %v", showRow(evs2[0].After))
	}
}

func TestReader_LargeTransactionResume(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(200))")
	h := newHarness(t, srv, db)
	h.cfg.MaxBatchSize = 50
	from := h.now()
	stmts := []string{"BEGIN"}
	for i := range 20 {
		// 20 statements of 10 rows: 20 rows events.
		q := "INSERT INTO big VALUES "
		for j := range 10 {
			if j > 0 {
				q += ","
			}
			q += fmt.Sprintf("(%d, REPEAT('p', 150))", i*10+j)
		}
		stmts = append(stmts, q)
	}
	stmts = append(stmts, "COMMIT", "INSERT INTO big VALUES (1000, 'after')")
	srv.Exec(t, db, stmts...)

	rn := h.start(from)
	evs, batches := rn.events(t, 201)
	if len(batches) < 5 {
		t.Fatalf("got %d batches, want the 200-row transaction split", len(batches))
	}
	for i, b := range batches[:len(batches)-2] {
		// The restart point is the transaction's start, before its rows events.
		if b.End.Event == 0 || b.End.Pos >= b.Events[0].Source.Pos {
			t.Errorf("partial batch %d end %+v (rows event at %d)", i, b.End, b.Events[0].Source.Pos)
		}
	}
	for i, ev := range evs[:200] {
		if got := show(ev.After[0]); got != "int:"+strconv.Itoa(i) {
			t.Fatalf("event %d is %s", i, got)
		}
	}
	rn.stop(t)

	// Restart from the second partial batch's end: exactly the rest follows.
	mid := batches[1].End
	emitted := 0
	for _, b := range batches[:2] {
		emitted += len(b.Events)
	}
	rn2 := h.start(mid)
	rest, _ := rn2.events(t, 201-emitted)
	rn2.stop(t)
	if rest[0].Source.Pos != evs[emitted].Source.Pos || rest[0].Source.GTID != evs[emitted].Source.GTID {
		t.Errorf("resumed events have source %+v, first run %+v", rest[0].Source, evs[emitted].Source)
	}

	// A Debezium offset may also carry rows of the next rows event to skip.
	mid.Row = 3
	rn3 := h.start(mid)
	rest3, _ := rn3.events(t, 201-emitted-3)
	if got, want := show(rest3[0].After[0]), "int:"+strconv.Itoa(emitted+3); got != want {
		t.Errorf("with Row=3 the first event is %s, want %s", got, want)
	}
	if rest3[0].Source.Row != 3 {
		t.Errorf("source.row = %d, want 3", rest3[0].Source.Row)
	}
	for i, ev := range rest {
		want := emitted + i
		if want == 200 {
			want = 1000
		}
		if got := show(ev.After[0]); got != "int:"+strconv.Itoa(want) {
			t.Fatalf("after resume, event %d is %s, want int:%d", i, got, want)
		}
	}
}

func TestReader_DDLReloadsTable(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)")
	h := newHarness(t, srv, db)
	from := h.now()
	srv.Exec(t, db, "INSERT INTO t VALUES (1)")
	rn := h.start(from)
	rn.events(t, 1)
	srv.Exec(t, db, "ALTER TABLE t ADD COLUMN v VARCHAR(5) DEFAULT 'd'", "INSERT INTO t VALUES (2, 'n')")
	evs, _ := rn.events(t, 1)
	if diff := cmp.Diff([]string{"int:2", "str:n"}, showRow(evs[0].After)); diff != "" {
		t.Errorf("after ALTER (-want +got):\n%s", diff)
	}
}

func TestReader_StatementBasedIsFatal(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)")
	h := newHarness(t, srv, db)
	from := h.now()
	srv.Exec(t, db, "SET SESSION binlog_format='STATEMENT'", "INSERT INTO t VALUES (1)")
	r := h.reader()
	err := r.Run(context.Background(), from, make(chan Batch, 10))
	if !errors.Is(err, ErrStatementBased) || IsRetryable(err) {
		t.Fatalf("Run = %v, want ErrStatementBased", err)
	}
}

func TestReader_SchemaMismatch(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	h := newHarness(t, srv, db)
	h.cfg.Tables = fixedTables{&schema.Table{DB: db, Name: "t", Columns: []schema.Column{{Name: "id", Type: schema.TypeInt}}}}
	from := h.now()
	srv.Exec(t, db, "INSERT INTO t VALUES (1, 2)")
	err := h.reader().Run(context.Background(), from, make(chan Batch, 10))
	if !errors.Is(err, ErrSchemaMismatch) {
		t.Fatalf("Run = %v, want ErrSchemaMismatch", err)
	}
}

type fixedTables []*schema.Table

func (f fixedTables) Table(_ context.Context, db, name string) (*schema.Table, error) {
	for _, t := range f {
		if t.DB == db && t.Name == name {
			return t, nil
		}
	}
	return nil, nil
}

func TestReader_BadPositionIsFatal(t *testing.T) {
	srv := testenv.MariaDB(t)
	h := newHarness(t, srv, "none")
	err := h.reader().Run(context.Background(), offsets.Position{File: "mysql-bin.999999", Pos: 4, GTIDSet: "0-1-999999999"}, make(chan Batch))
	if !errors.Is(err, ErrPositionNotFound) {
		t.Fatalf("Run = %v, want ErrPositionNotFound", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Hint == "" || e.Code != 1236 {
		t.Errorf("error %#v has no hint or code", e)
	}
}

func TestReader_AccessDenied(t *testing.T) {
	srv := testenv.MariaDB(t)
	h := newHarness(t, srv, "none")
	h.cfg.Password = "wrong"
	_, err := h.reader().Start(context.Background(), offsets.Position{})
	if !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("Start = %v, want ErrAccessDenied", err)
	}
}

// countingObserver counts Observer calls.
type countingObserver struct {
	connected, disconnected, decoded, filtered, committed atomic.Int64
}

func (o *countingObserver) Connected()                  { o.connected.Add(1) }
func (o *countingObserver) Disconnected(error)          { o.disconnected.Add(1) }
func (o *countingObserver) RowsDecoded(_ string, n int) { o.decoded.Add(int64(n)) }
func (o *countingObserver) Filtered(string)             { o.filtered.Add(1) }
func (o *countingObserver) Committed(int64)             { o.committed.Add(1) }

func TestReader_ReconnectsAfterServerRestart(t *testing.T) {
	srv := testenv.StartMariaDB(t, testenv.WithServerID(7))
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)")
	h := newHarness(t, srv, db)
	obs := &countingObserver{}
	h.cfg.Observer = obs
	h.cfg.HeartbeatPeriod = 100 * time.Millisecond
	h.cfg.ReadTimeout = 2 * time.Second
	from := h.now()
	srv.Exec(t, db, "INSERT INTO t VALUES (1)")
	rn := h.start(from)
	rn.events(t, 1)

	srv.Kill(t) // as a crash: no goodbye on the replication connection
	srv.Start(t)
	srv.Exec(t, db, "INSERT INTO t VALUES (2)")
	evs, _ := rn.events(t, 1)
	if got := show(evs[0].After[0]); got != "int:2" {
		t.Errorf("after the restart got %s, want int:2 (nothing repeated, nothing lost)", got)
	}
	if obs.disconnected.Load() < 1 || obs.connected.Load() < 2 {
		t.Errorf("observer: %d connects, %d disconnects", obs.connected.Load(), obs.disconnected.Load())
	}
	if obs.decoded.Load() != 2 || obs.committed.Load() < 2 {
		t.Errorf("observer: %d rows decoded, %d commits", obs.decoded.Load(), obs.committed.Load())
	}
}
