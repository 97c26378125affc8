package engine

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/schema"
)

// collectSink acknowledges at once and keeps "table(cols)=values" per event.
type collectSink struct {
	mu   sync.Mutex
	rows []string
	more chan struct{}
}

func (s *collectSink) Send(_ context.Context, evs []event.ChangeEvent, done func(error)) error {
	s.mu.Lock()
	for _, ev := range evs {
		r := ev.Table.Name + "("
		for i, c := range ev.Table.Columns {
			if i > 0 {
				r += ","
			}
			r += c.Name + "=" + strconv.FormatInt(ev.After[i].I, 10) + string(ev.After[i].B)
		}
		s.rows = append(s.rows, r+")")
	}
	s.mu.Unlock()
	select {
	case s.more <- struct{}{}:
	default:
	}
	done(nil)
	return nil
}

func (s *collectSink) Flush(context.Context) error { return nil }
func (s *collectSink) Close() error                { return nil }

func (s *collectSink) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		s.mu.Lock()
		if len(s.rows) >= n {
			rows := append([]string(nil), s.rows...)
			s.mu.Unlock()
			return rows
		}
		s.mu.Unlock()
		select {
		case <-s.more:
		case <-deadline:
			t.Fatalf("timed out waiting for %d events", n)
		}
	}
}

// TestHistory_RestartRebuildsFromHistory stops the engine after an ALTER,
// alters the table further while it is down, and restarts it with an empty
// model: the rows written while it was down must decode with the columns of
// their moment, which only the recovered history (not the live schema) has.
func TestHistory_RestartRebuildsFromHistory(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))")
	filter, err := schema.NewFilter(schema.FilterConfig{DatabaseIncludeList: db})
	if err != nil {
		t.Fatal(err)
	}
	loader := schema.NewLoader(schema.LoaderConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, Filter: filter})
	t.Cleanup(func() { _ = loader.Close() })
	historyFile := filepath.Join(t.TempDir(), "history.dat")
	offsetStore := &memStore{}

	run := func(sink *collectSink) (stop func()) {
		tracker := schema.NewTracker(schema.TrackerConfig{Filter: filter, MariaDB: true})
		hist := &History{Tracker: tracker, Store: schema.NewFileHistory(historyFile), Loader: loader, Server: "srv", Where: historyFile}
		reader, err := binlog.NewReader(binlog.Config{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password,
			ServerID: 7000 + uint32(len(sink.rows)), Tables: tracker, DDL: tracker, Include: filter.Table,
			PositionInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, Config{FlushInterval: 10 * time.Millisecond, History: hist}, reader, sink, offsetStore)
		}()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}

	first := &collectSink{more: make(chan struct{}, 1)}
	stop := run(first)
	// Wait until the engine stored its start (and the history its snapshot).
	for deadline := time.Now().Add(30 * time.Second); ; {
		if p, ok, _ := offsetStore.Load(t.Context()); ok && !p.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no start position stored")
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.Exec(t, db, "INSERT INTO t VALUES (1, 'x')", "ALTER TABLE t ADD COLUMN b INT", "INSERT INTO t VALUES (2, 'y', 20)")
	got := first.wait(t, 2)
	stop()
	if diff := cmp.Diff([]string{"t(id=1,a=0x)", "t(id=2,a=0y,b=20)"}, got); diff != "" {
		t.Errorf("before restart (-want +got):\n%s", diff)
	}

	// While stopped: more DDL, so the live schema no longer matches the offset.
	srv.Exec(t, db, "ALTER TABLE t DROP COLUMN a", "INSERT INTO t VALUES (3, 30)",
		"ALTER TABLE t CHANGE b c BIGINT", "INSERT INTO t VALUES (4, 40)")

	second := &collectSink{more: make(chan struct{}, 1)}
	stop = run(second)
	got = second.wait(t, 2)
	stop()
	if diff := cmp.Diff([]string{"t(id=3,b=30)", "t(id=4,c=40)"}, got); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
}
