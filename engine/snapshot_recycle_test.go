package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
	"github.com/rivulet-cdc/rivulet/snapshot"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// recycleRow is the row id of the table TestSnapshot_RecycleRecords reads:
// every row different, strings of varying length, some large.
func recycleRow(id int) (s, b string, n *int) {
	s = strings.Repeat(string(rune('a'+id%26)), id%200)
	b = fmt.Sprintf("b%d", id)
	if id%61 == 0 {
		b = strings.Repeat(fmt.Sprint(id%10), 40000+id) // an arena of its own
	}
	if id%5 != 0 {
		v := id * 3
		n = &v
	}
	return s, b, n
}

// recordedSink is the pipeline's sink (sink.Stdout or sink.Kafka, which
// encode in Send) counting the batches whose first row lives where an
// earlier batch's did: the memory was recycled.
type recordedSink struct {
	Sink
	firsts map[*event.Value]bool
	reused int
}

func (r *recordedSink) Send(ctx context.Context, ev []event.ChangeEvent, done func(error)) error {
	if len(ev) > 0 && len(ev[0].After) > 0 {
		if r.firsts[&ev[0].After[0]] {
			r.reused++
		}
		r.firsts[&ev[0].After[0]] = true
	}
	return r.Sink.Send(ctx, ev, done)
}

// TestSnapshot_RecycleRecords runs an initial snapshot with
// SnapshotConfig.Recycle on (chunks' memory and events reused once sent),
// several readers and small chunks, over tables whose rows all differ,
// one keyed and one without a key, into sink.Stdout and into sink.Kafka
// (kfake): every record written is its row's, once.
func TestSnapshot_RecycleRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MariaDB")
	}
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE k (id INT PRIMARY KEY, s VARCHAR(200), b MEDIUMTEXT, n INT)",
		"CREATE TABLE nokey (id INT, s VARCHAR(200), b MEDIUMTEXT, n INT)")
	const rows = 900
	for lo := 0; lo < rows; lo += 100 {
		var vals []string
		for id := lo; id < lo+100; id++ {
			s, b, n := recycleRow(id)
			nv := "NULL"
			if n != nil {
				nv = fmt.Sprint(*n)
			}
			vals = append(vals, fmt.Sprintf("(%d, '%s', '%s', %s)", id, s, b, nv))
		}
		for _, tbl := range []string{"k", "nokey"} {
			srv.Exec(t, db, "INSERT INTO "+tbl+" VALUES "+strings.Join(vals, ","))
		}
	}
	filter, err := schema.NewFilter(schema.FilterConfig{DatabaseIncludeList: db})
	if err != nil {
		t.Fatal(err)
	}
	loader := schema.NewLoader(schema.LoaderConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, Filter: filter})
	defer loader.Close()
	snap, err := snapshot.New(snapshot.Config{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ChunkSize: 40, Threads: 3})
	if err != nil {
		t.Fatal(err)
	}
	j, err := debeziumjson.NewJSON(sink.JSONConfig{TopicPrefix: "p"})
	if err != nil {
		t.Fatal(err)
	}
	master := srv.Query(t, db, "SHOW MASTER STATUS")
	start := offsets.Position{File: master[0][0], Pos: 4}
	run := func(t *testing.T, inner Sink) {
		snk := &recordedSink{Sink: inner, firsts: map[*event.Value]bool{}}
		cfg := Config{Snapshot: &SnapshotConfig{Mode: SnapshotInitialOnly, Catalog: loader, Snapshotter: snap,
			MaxBatch: 16, HighWaitLimit: time.Millisecond, Recycle: true}}
		ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
		defer cancel()
		if err := Run(ctx, cfg, &feedSource{feed: make(chan binlog.Batch), start: start}, snk, &memStore{}); err != nil {
			t.Fatal(err)
		}
		if snk.reused == 0 {
			t.Error("no batch reused the memory of an earlier one: Recycle did nothing")
		}
	}
	t.Run("stdout", func(t *testing.T) {
		var out bytes.Buffer
		run(t, sink.NewStdout(&out, j.Format()))
		var records [][]byte
		sc := bufio.NewScanner(&out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct{ Topic string }
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("%v: %.200s", err, sc.Bytes())
			}
			records = append(records, []byte(line.Topic+" "+sc.Text()))
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		checkRecycled(t, records, rows)
	})
	t.Run("kafka", func(t *testing.T) {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		k, err := sink.NewKafka(sink.KafkaConfig{Brokers: c.ListenAddrs(), Format: j.Format()})
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		run(t, k)
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("p."+db+".k", "p."+db+".nokey"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		var records [][]byte
		for len(records) < 2*rows {
			fs := cl.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				t.Fatalf("consumed %d of %d records: %v", len(records), 2*rows, err)
			}
			for _, r := range fs.Records() {
				records = append(records, []byte(r.Topic+` {"value":`+string(r.Value)+"}"))
			}
		}
		checkRecycled(t, records, rows)
	})
}

// checkRecycled checks the records of TestSnapshot_RecycleRecords, each
// `<topic> {"value":<record value>...}`: every row's, each once.
func checkRecycled(t *testing.T, records [][]byte, rows int) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range records {
		topic, js, _ := bytes.Cut(r, []byte(" "))
		var rec struct {
			Value struct {
				Op    string
				After struct {
					ID int
					S  string
					B  string
					N  *int
				}
			}
		}
		if err := json.Unmarshal(js, &rec); err != nil {
			t.Fatalf("%v: %.200s", err, js)
		}
		a := rec.Value.After
		s, b, n := recycleRow(a.ID)
		if rec.Value.Op != "r" || a.S != s || a.B != b || (n == nil) != (a.N == nil) || n != nil && *n != *a.N {
			t.Fatalf("%s: record of row %d is %.200s", topic, a.ID, js)
		}
		seen[fmt.Sprint(string(topic), a.ID)]++
	}
	if len(seen) != 2*rows {
		t.Errorf("%d distinct records, want %d", len(seen), 2*rows)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("record %s written %d times", k, n)
		}
	}
}
