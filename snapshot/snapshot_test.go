package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

func newSnapshotter(t testing.TB, srv *testenv.Server, chunk, threads int) *Snapshotter {
	s, err := New(Config{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ChunkSize: chunk, Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func loadTables(t testing.TB, srv *testenv.Server, db string) []*schema.Table {
	f, err := schema.NewFilter(schema.FilterConfig{DatabaseIncludeList: db})
	if err != nil {
		t.Fatal(err)
	}
	l := schema.NewLoader(schema.LoaderConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, Filter: f})
	defer l.Close()
	tables, err := CapturedTables(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	return tables
}

func fill(t testing.TB, srv *testenv.Server, db, tbl string, rows int) {
	const batch = 5000
	for lo := 0; lo < rows; lo += batch {
		var b strings.Builder
		b.WriteString("INSERT INTO " + tbl + " VALUES ")
		for i := lo; i < lo+batch && i < rows; i++ {
			if i > lo {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d, %d, 'row %d', '2026-01-01 00:00:00.5', 12.5)", i, i%7, i)
		}
		srv.Exec(t, db, b.String())
	}
}

// collect runs s and returns the chunks in the order they came out.
func collect(t testing.TB, s *Snapshotter, tables []*schema.Table, from Progress) []*Chunk {
	out := make(chan *Chunk)
	var got []*Chunk
	errc := make(chan error, 1)
	go func() {
		errc <- s.Run(t.Context(), tables, from, mustWatermark(t, s), out)
		close(out)
	}()
	for ch := range out {
		got = append(got, ch)
		ch.Release()
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Floor(); ok {
		t.Error("Floor still set after Run")
	}
	return got
}

// chunksOf runs s over tables from the start and yields its chunks as
// they come out; the caller releases or recycles each.
func chunksOf(t testing.TB, s *Snapshotter, tables []*schema.Table) iter.Seq[*Chunk] {
	return func(yield func(*Chunk) bool) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		out := make(chan *Chunk)
		errc := make(chan error, 1)
		go func() {
			errc <- s.Run(ctx, tables, Progress{}, mustWatermark(t, s), out)
			close(out)
		}()
		stopped := false
		for ch := range out {
			if !stopped && !yield(ch) {
				stopped = true
				cancel()
			}
		}
		if err := <-errc; err != nil && !stopped {
			t.Fatal(err)
		}
	}
}

func mustWatermark(t testing.TB, s *Snapshotter) (p offsets.Position) {
	c, err := s.dial(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err = watermark(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSnapshotter_Run(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, `CREATE TABLE a (id INT PRIMARY KEY, n INT, s VARCHAR(20), d DATETIME(1), x DECIMAL(5,1))`,
		`CREATE TABLE b (id INT, n INT, s VARCHAR(20), d DATETIME(1), x DECIMAL(5,1))`)
	fill(t, srv, db, "a", 1000)
	fill(t, srv, db, "b", 150)
	tables := loadTables(t, srv, db)
	for _, threads := range []int{1, 3} {
		t.Run(fmt.Sprint("threads=", threads), func(t *testing.T) {
			s := newSnapshotter(t, srv, 64, threads)
			chunks := collect(t, s, tables, Progress{})
			next, rows := 0, 0
			var pieces []string
			for i, ch := range chunks {
				if ch.Table.Name == "b" {
					pieces = append(pieces, fmt.Sprintf("%d:%v:%v:%v:%v", len(ch.Rows), ch.Keyless, ch.TableFirst, ch.TableLast, ch.Progress.Done))
					continue
				}
				if i > 1000/64 {
					t.Errorf("chunk %d of a after the pieces of b", i)
				}
				if ch.TableFirst != (i == 0) || ch.TableLast != (ch.Progress.Done) {
					t.Errorf("chunk %d: first %v last %v progress %+v", i, ch.TableFirst, ch.TableLast, ch.Progress)
				}
				if ComparePositions(ch.Window, ch.Low) > 0 || ComparePositions(ch.Low, ch.High) > 0 {
					t.Errorf("chunk %d: window %v, low %v, high %v out of order", i, ch.Window, ch.Low, ch.High)
				}
				for _, r := range ch.Rows {
					if int(r[0].I) != next || string(r[2].B) != fmt.Sprint("row ", next) || string(r[4].B) != "12.5" {
						t.Fatalf("row %d: %v", next, r)
					}
					next++
					rows++
				}
			}
			if rows != 1000 || len(chunks) != 1000/64+1+3 {
				t.Errorf("%d rows in %d chunks", rows, len(chunks))
			}
			// b has no key: one transaction, handed out in chunk-size pieces.
			if got := strings.Join(pieces, " "); got != "64:true:true:false:true 64:true:false:false:true 22:true:false:true:true" {
				t.Errorf("pieces of b (rows:keyless:first:last:done) = %s", got)
			}
			// Resume after the 5th chunk: the rest, from the next key. (Its
			// last key is 5*64-1 unless the server's row estimate was low:
			// key-range chunks are then wider.)
			rest := collect(t, s, tables, chunks[4].Progress)
			want := chunks[4].Rows[len(chunks[4].Rows)-1][0].I + 1
			if first := rest[0].Rows[0][0].I; first != want || rest[0].TableFirst {
				t.Errorf("resumed at id %d (table first %v), want %d", first, rest[0].TableFirst, want)
			}
			if len(rest) != len(chunks)-5 {
				t.Errorf("resume read %d chunks, want %d", len(rest), len(chunks)-5)
			}
			if done := collect(t, s, tables, Progress{DB: db, Table: "b", Done: true}); len(done) != 0 {
				t.Errorf("resume after the last table read %d chunks", len(done))
			}
		})
	}
}

func TestSnapshotter_RunCancel(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, `CREATE TABLE a (id INT PRIMARY KEY, n INT, s VARCHAR(20), d DATETIME(1), x DECIMAL(5,1))`)
	fill(t, srv, db, "a", 500)
	s := newSnapshotter(t, srv, 10, 2)
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan *Chunk)
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, loadTables(t, srv, db), Progress{}, mustWatermark(t, s), out) }()
	(<-out).Release()
	cancel()
	select {
	case err := <-errc:
		if err != context.Canceled {
			t.Errorf("Run after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, ok := s.Floor(); ok {
		t.Error("Floor still set after a cancelled Run")
	}
}

// BenchmarkSnapshotter_Run reads a 200,000-row table in chunks (no Kafka):
// the rate the snapshot side can feed the pipeline.
func BenchmarkSnapshotter_Run(b *testing.B) {
	srv := testenv.MariaDB(b)
	db := srv.Database(b)
	srv.Exec(b, db, `CREATE TABLE a (id INT PRIMARY KEY, n INT, s VARCHAR(20), d DATETIME(1), x DECIMAL(5,1))`)
	const rows = 200000
	fill(b, srv, db, "a", rows)
	tables := loadTables(b, srv, db)
	for _, threads := range []int{1, 4} {
		b.Run(fmt.Sprint("threads=", threads), func(b *testing.B) {
			s := newSnapshotter(b, srv, 8192, threads)
			b.ReportAllocs()
			start := time.Now()
			cpu0, srv0 := cpuTime(b), serverCPU(b, srv)
			for b.Loop() {
				n := 0
				for ch := range chunksOf(b, s, tables) {
					n += len(ch.Rows)
					ch.Recycle()
				}
				if n != rows {
					b.Fatalf("%d rows", n)
				}
			}
			b.ReportMetric(float64(rows*b.N)/time.Since(start).Seconds(), "rows/s")
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(rows*b.N), "cpu-ns/row")
			if srv1 := serverCPU(b, srv); srv0 >= 0 && srv1 >= 0 {
				b.ReportMetric(float64(srv1-srv0)/float64(rows*b.N), "srv-cpu-ns/row")
			}
		})
	}
}

// cpuTime is the CPU time this process used so far (user and system, all
// threads; not the server's, a child process), in nanoseconds.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// serverCPU is the CPU time mariadbd used so far (user and system, in
// clock ticks of 10 ms: run a benchmark long enough), in nanoseconds; -1
// without /proc.
func serverCPU(b *testing.B, srv *testenv.Server) int64 {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", srv.Pid()))
	if err != nil {
		return -1
	}
	// The fields after the command's closing parenthesis: utime and stime
	// are the 12th and 13th.
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	if len(f) < 13 {
		b.Fatalf("/proc/%d/stat: %q", srv.Pid(), st)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", srv.Pid(), st)
	}
	return (ut + stime) * int64(10*time.Millisecond)
}

// TestSnapshotter_KeyTypes reads tables keyed by types whose SQL order is
// not their text order (ENUM sorts by member index) or that need care as
// query arguments (DATETIME, DECIMAL, binary and case-insensitive strings):
// every row exactly once.
func TestSnapshotter_KeyTypes(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db,
		`CREATE TABLE e (k ENUM('zz','aa','mm') NOT NULL, id INT NOT NULL, PRIMARY KEY (k, id))`,
		`CREATE TABLE d (k DATETIME(3) PRIMARY KEY, x DECIMAL(6,2) NOT NULL, UNIQUE KEY (x))`,
		`CREATE TABLE s (k VARCHAR(10) COLLATE utf8mb4_general_ci PRIMARY KEY, b VARBINARY(4) NOT NULL)`,
		`CREATE TABLE b (k VARBINARY(4) PRIMARY KEY)`,
	)
	var e, d, s, b []string
	for i := range 30 {
		e = append(e, fmt.Sprintf("(%d, %d)", i%3+1, i))
		d = append(d, fmt.Sprintf("('2026-01-01 00:00:%02d.%03d', %d.25)", i, i*7, i-15))
		s = append(s, fmt.Sprintf("('%c%d', X'%02x')", 'a'+rune(i%2)*('B'-'a'), i, i))
		b = append(b, fmt.Sprintf("(X'%02xff')", 255-i*8))
	}
	srv.Exec(t, db, "INSERT INTO e VALUES "+strings.Join(e, ","), "INSERT INTO d VALUES "+strings.Join(d, ","),
		"INSERT INTO s VALUES "+strings.Join(s, ","), "INSERT INTO b VALUES "+strings.Join(b, ","))
	snap := newSnapshotter(t, srv, 4, 2)
	seen := map[string]int{}
	for _, ch := range collect(t, snap, loadTables(t, srv, db), Progress{}) {
		for _, r := range ch.Rows {
			seen[ch.Table.Name+":"+string(AppendKey(nil, ch.Table, r))]++
		}
	}
	per := map[string]int{}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("row %q read %d times", k, n)
		}
		per[strings.SplitN(k, ":", 2)[0]]++
	}
	for _, tbl := range []string{"e", "d", "s", "b"} {
		if per[tbl] != 30 {
			t.Errorf("table %s: %d distinct rows, want 30", tbl, per[tbl])
		}
	}
}

func TestSnapshotter_RunError(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, `CREATE TABLE a (id INT PRIMARY KEY, n INT, s VARCHAR(20), d DATETIME(1), x DECIMAL(5,1))`)
	fill(t, srv, db, "a", 100)
	tables := loadTables(t, srv, db)
	srv.Exec(t, db, `ALTER TABLE a DROP COLUMN x`) // the definition no longer matches
	s := newSnapshotter(t, srv, 10, 3)
	out := make(chan *Chunk, 100)
	err := s.Run(t.Context(), tables, Progress{}, mustWatermark(t, s), out)
	if err == nil || !strings.Contains(err.Error(), db+".a") {
		t.Fatalf("Run = %v, want an error naming the table", err)
	}
	if _, ok := s.Floor(); ok {
		t.Error("Floor still set after a failed Run")
	}
}

// TestSnapshotter_NonEmpty: one query tells which tables hold a row; a
// table with an overridden SELECT is not checked (reported false), even
// when it holds rows, and names that need quoting work.
func TestSnapshotter_NonEmpty(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE a (id INT PRIMARY KEY)", "CREATE TABLE `b-x` (id INT PRIMARY KEY)",
		"CREATE TABLE c (id INT PRIMARY KEY)", "CREATE TABLE d (v INT)",
		"INSERT INTO a VALUES (1), (2)", "INSERT INTO c VALUES (1)", "INSERT INTO d VALUES (1)")
	tables := loadTables(t, srv, db)
	s, err := New(Config{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password,
		Overrides: map[string]string{db + ".c": "SELECT * FROM " + db + ".c WHERE id > 5"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.NonEmpty(t.Context(), tables)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"a": true, "b-x": false, "c": false, "d": true}
	if len(got) != len(tables) {
		t.Fatalf("NonEmpty returned %d answers for %d tables", len(got), len(tables))
	}
	for i, tbl := range tables {
		if got[i] != want[tbl.Name] {
			t.Errorf("NonEmpty(%s) = %v, want %v", tbl.Name, got[i], want[tbl.Name])
		}
	}
	if got, err := s.NonEmpty(t.Context(), nil); err != nil || len(got) != 0 {
		t.Errorf("NonEmpty(none) = %v, %v; want nothing, no error", got, err)
	}
}
