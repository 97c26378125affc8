package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// feedSource is a Source whose batches the test hands in; with no stored
// position it starts at start.
type feedSource struct {
	feed  chan binlog.Batch
	start offsets.Position
}

func (f *feedSource) Start(_ context.Context, p offsets.Position) (offsets.Position, error) {
	if p.IsZero() {
		return f.start, nil
	}
	return p, nil
}

func (f *feedSource) Run(ctx context.Context, _ offsets.Position, out chan<- binlog.Batch) error {
	for {
		select {
		case b := <-f.feed:
			select {
			case out <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TestSignal_DDLDuringIncrementalSnapshot: an ALTER TABLE on the table an
// incremental snapshot reads, after its first chunk went out, makes the
// snapshot read the rest again with the new definition (Debezium re-reads
// the chunk a schema change interrupts): no row handed out after the DDL
// has the old columns, and every row is read. Against the real MariaDB for
// the chunks; the stream is scripted (the DDL batch).
func TestSignal_DDLDuringIncrementalSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MariaDB")
	}
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	// 12 chunks: even on a slow machine the ALTER lands before the
	// HighWaitLimit of each lets them all go out.
	const rows = 60
	values := make([]string, rows)
	for i := range values {
		values[i] = fmt.Sprintf("(%d, %d)", i, i)
	}
	srv.Exec(t, db, "INSERT INTO t VALUES "+strings.Join(values, ","))
	filter, err := schema.NewFilter(schema.FilterConfig{DatabaseIncludeList: db})
	if err != nil {
		t.Fatal(err)
	}
	loader := schema.NewLoader(schema.LoaderConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, Filter: filter})
	defer loader.Close()
	master := srv.Query(t, db, "SHOW MASTER STATUS")
	start := offsets.Position{File: master[0][0], Pos: 4} // before every watermark: no chunk is due until the DDL batch

	feed := &feedSource{feed: make(chan binlog.Batch)}
	sig := &SignalConfig{
		Kafka: func(ctx context.Context, _ int64, out chan<- Signal) error {
			select {
			case out <- Signal{ID: "1", Type: "execute-snapshot", Data: `{"data-collections":["` + db + `.t"]}`, KafkaOffset: 0}:
			case <-ctx.Done():
			}
			<-ctx.Done()
			return ctx.Err()
		},
		Catalog:  loader,
		Snapshot: snapshot.Config{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ChunkSize: 5, Threads: 1},
		// The first chunk goes out when it waited this long; the rest wait
		// for the DDL batch, which the test hands in within this time.
		HighWaitLimit: 2 * time.Second,
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	out := make(chan binlog.Batch, 4)
	errc := make(chan error, 1)
	go func() { errc <- runLoop(ctx, Config{Signals: sig}, feed, start, out) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil && ctx.Err() == nil {
			t.Error(err)
		}
	}()

	next := func() binlog.Batch {
		t.Helper()
		select {
		case b := <-out:
			return b
		case err := <-errc:
			t.Fatalf("source stopped: %v", err)
		case <-ctx.Done():
			t.Fatal("timed out")
		}
		return binlog.Batch{}
	}
	row := func(ev event.ChangeEvent) string {
		s := ""
		for i, c := range ev.Table.Columns {
			s += fmt.Sprintf(" %s=%s", c.Name, strconv.FormatInt(ev.After[i].I, 10))
		}
		return s
	}
	seen := map[int64]bool{}
	// Up to the first chunk: read with the old definition.
	before := 0
	for before == 0 {
		for _, ev := range next().Events {
			if ev.Op == event.OpRead {
				before++
				seen[ev.After[0].I] = true
				if len(ev.After) != 2 {
					t.Errorf("row read before the DDL:%s", row(ev))
				}
			}
		}
	}
	srv.Exec(t, db, "ALTER TABLE t ADD COLUMN w INT NOT NULL DEFAULT 7")
	master = srv.Query(t, db, "SHOW MASTER STATUS")
	end, _ := strconv.ParseUint(master[0][1], 10, 64)
	ddl := &schema.Change{DB: db, DDL: "ALTER TABLE t ADD COLUMN w INT NOT NULL DEFAULT 7",
		Tables: []schema.TableChange{{Type: schema.ChangeAlter, ID: schema.TableID{DB: db, Name: "t"}}}}
	feed.feed <- binlog.Batch{Schema: []*schema.Change{ddl}, End: offsets.Position{File: master[0][0], Pos: end}}

	// Everything after the DDL batch: the new definition, until the
	// snapshot is complete (its state no longer lists a table).
	after, ddlSeen := 0, false
	for {
		b := next()
		if len(b.Schema) > 0 {
			ddlSeen = true
			continue
		}
		for _, ev := range b.Events {
			if ev.Op != event.OpRead {
				continue
			}
			seen[ev.After[0].I] = true
			if !ddlSeen {
				before++ // a chunk that went out while the DDL ran
				continue
			}
			after++
			if len(ev.After) != 3 || ev.After[2].I != 7 {
				t.Errorf("row read after the DDL with the old definition:%s", row(ev))
			}
		}
		st, err := decodeIncState(b.End.Incremental)
		if err != nil {
			t.Fatal(err)
		}
		if ddlSeen && len(b.Events) == 0 && len(st.Tables) == 0 {
			break
		}
	}
	if len(seen) != rows {
		t.Errorf("%d of %d rows read", len(seen), rows)
	}
	if after == 0 {
		t.Errorf("no row read after the DDL (%d before)", before)
	}
	t.Logf("%d rows before the DDL, %d after", before, after)
}
