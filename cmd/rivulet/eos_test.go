package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRun_ExactlyOnceAcrossKillNine runs a counter workload under
// exactly.once.support=required, kills rivulet with SIGKILL twice while it
// streams, restarts it each time, and reads the topic with a read_committed
// consumer: every change (per key, each value 0..final) arrives exactly
// once, none lost, none repeated.
func TestRun_ExactlyOnceAcrossKillNine(t *testing.T) {
	e := newE2E(t)
	const keys, rounds, kills = 10, 30, 2
	e.srv.Exec(t, e.db, `CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL)`)
	extra := map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		// Small batches: a kill lands inside a binlog transaction, between
		// Kafka transactions and inside one.
		"max.batch.size": "4", "max.queue.size": "16",
		"exactly.once.support": "required",
	}
	for k, v := range e.kafkaOffsets() {
		extra[k] = v
	}
	cfg := e.config(t, extra)
	in := e.start(t, cfg)

	var stmts []string
	for k := range keys {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO counter VALUES (%d, 0)", k))
	}
	e.srv.Exec(t, e.db, stmts...)
	var wg sync.WaitGroup
	marks := make([]chan struct{}, kills)
	for i := range marks {
		marks[i] = make(chan struct{})
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for r := range rounds {
			for i := range kills {
				if r == (i+1)*rounds/(kills+1) {
					close(marks[i])
				}
			}
			tx := []string{"BEGIN"}
			for k := range keys {
				tx = append(tx, fmt.Sprintf("UPDATE counter SET n = n + 1 WHERE id = %d", k))
			}
			e.srv.Exec(t, e.db, append(tx, "COMMIT")...)
		}
	}()
	for i := range kills {
		<-marks[i]
		in.kill()
		in = e.start(t, cfg)
	}
	wg.Wait()

	want := keys + keys*rounds
	topic := e.prefix + "." + e.db + ".counter"
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	count := map[[2]int]int{}
	got := 0
	final := map[int]bool{}
	// Read until every key reached its final value, then one more idle
	// poll so that a duplicate behind it would be seen too.
	for ctx.Err() == nil {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(pctx)
		pcancel()
		if n := fs.NumRecords(); n == 0 && len(final) == keys {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Value == nil {
				return
			}
			var v struct {
				After struct{ ID, N int } `json:"after"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatalf("value is not JSON: %s", r.Value)
			}
			count[[2]int{v.After.ID, v.After.N}]++
			got++
			if v.After.N == rounds {
				final[v.After.ID] = true
			}
		})
	}
	var bad []string
	for k := range keys {
		for n := 0; n <= rounds; n++ {
			if c := count[[2]int{k, n}]; c != 1 {
				bad = append(bad, fmt.Sprintf("id=%d n=%d seen %d times", k, n, c))
			}
		}
	}
	if len(bad) > 0 {
		t.Fatalf("%d changes not seen exactly once after %d kills (%d records read, want %d): %s",
			len(bad), kills, got, want, strings.Join(bad[:min(10, len(bad))], ", "))
	}
	if got != want {
		t.Fatalf("read %d records, want %d", got, want)
	}
	t.Logf("%d changes read exactly once across %d SIGKILLs", got, kills)
	in.stop()
}
