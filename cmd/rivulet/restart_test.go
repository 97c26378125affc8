package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/reliability"
)

// TestRun_KillNineLosesNothing kills rivulet with SIGKILL while a counter
// workload runs, restarts it, and checks that every committed change reached
// Kafka: per key, the values seen form the full sequence 0..final (duplicates
// after the last stored offset are allowed, gaps are not).
func TestRun_KillNineLosesNothing(t *testing.T) {
	e := newE2E(t)
	const keys, rounds = 20, 30
	e.srv.Exec(t, e.db, `CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL)`)
	cfg := e.config(t, map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		// Small batches so that a kill lands inside a transaction and the
		// restart must skip the events already emitted.
		"max.batch.size": "4", "max.queue.size": "16",
	})
	in := e.start(t, cfg)

	var stmts []string
	for k := range keys {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO counter VALUES (%d, 0)", k))
	}
	e.srv.Exec(t, e.db, stmts...)
	var wg sync.WaitGroup
	half := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for r := range rounds {
			if r == rounds/2 {
				close(half)
			}
			// One transaction per round, one rows event per key: cut by
			// max.batch.size, so a kill can land inside a transaction.
			tx := []string{"BEGIN"}
			for k := range keys {
				tx = append(tx, fmt.Sprintf("UPDATE counter SET n = n + 1 WHERE id = %d", k))
			}
			e.srv.Exec(t, e.db, append(tx, "COMMIT")...)
		}
	}()
	<-half
	in.kill()
	wg.Wait()
	in = e.start(t, cfg)

	want := keys + keys*rounds
	var seen map[float64]map[float64]bool
	// Read until every key reached its final value: duplicates count too,
	// so a record count alone would stop early.
	recs := consumeUntil(t, e.brokers, func(recs []record) bool {
		seen = map[float64]map[float64]bool{}
		final := map[float64]bool{}
		for _, r := range recs {
			if r.Value == nil {
				continue
			}
			a := r.Value["after"].(map[string]any)
			id, n := a["id"].(float64), a["n"].(float64)
			if seen[id] == nil {
				seen[id] = map[float64]bool{}
			}
			seen[id][n] = true
			if n == rounds {
				final[id] = true
			}
		}
		return len(final) == keys
	}, e.prefix+"."+e.db+".counter")
	var missing []string
	for k := range keys {
		for n := 0; n <= rounds; n++ {
			if !seen[float64(k)][float64(n)] {
				missing = append(missing, fmt.Sprintf("id=%d n=%d", k, n))
			}
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d changes lost after kill -9: %s", len(missing), strings.Join(missing[:min(10, len(missing))], ", "))
	}
	t.Logf("%d records for %d changes (%d duplicates after restart)", len(recs), want, len(recs)-want)
	in.stop()
	// Per-key order (I3 of RELIABILITY.md), judged by the shared validator.
	topic := e.prefix + "." + e.db + ".counter"
	all, err := reliability.ReadTopics(t.Context(), e.brokers, func(s string) bool { return s == topic })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reliability.CheckCounters(all, topic, "id", "n"); err != nil {
		t.Error(err)
	}
}
