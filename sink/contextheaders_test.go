package sink_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rivulet-cdc/rivulet/sink"
)

// TestKafka_ContextHeaders: with Debezium 3.2+'s extended headers every
// change event record and tombstone ends with the four context headers;
// a record's own headers (a key change's __debezium.newkey) come first, as
// the differential suite saw Debezium 3.6.1 write them.
func TestKafka_ContextHeaders(t *testing.T) {
	c := newCluster(t)
	k := newKafka(t, c, func(cfg *sink.KafkaConfig) {
		cfg.ContextHeaders = sink.ContextHeaders(sink.ConnectorMariaDB, "dbserver1", "01a24f57-f9c8-7f89-b9d8-806ad99c9d7a")
	})
	evs := kafkaEvents()
	sendAcked(t, k, evs)
	got := consume(t, c, 8, "dbserver1.inventory.customers", "dbserver1.shop.orders")
	ctx := []string{"__debezium.context.connectorLogicalName=dbserver1", "__debezium.context.taskId=0", "__debezium.context.connectorName=mariadb",
		"__debezium.context.runId=01a24f57-f9c8-7f89-b9d8-806ad99c9d7a"}
	var withKeyHeader int
	for _, r := range got {
		var hs []string
		for _, h := range r.Headers {
			hs = append(hs, h.Key+"="+string(h.Value))
		}
		if len(hs) < len(ctx) {
			t.Fatalf("record %s/%s has headers %v, want the context headers last", r.Topic, r.Key, hs)
		}
		if d := cmp.Diff(ctx, hs[len(hs)-len(ctx):]); d != "" {
			t.Errorf("record %s/%s context headers (-want +got):\n%s", r.Topic, r.Key, d)
		}
		if len(hs) > len(ctx) {
			withKeyHeader++
		}
	}
	if withKeyHeader != 3 { // the key change: delete, its tombstone, create
		t.Errorf("%d records carry their own headers after the context ones, want 3", withKeyHeader)
	}
}

// TestNewRunID: a UUIDv7 of the given millisecond, fresh on every call.
func TestNewRunID(t *testing.T) {
	now := time.UnixMilli(0x0193_4f5a_1b2c)
	a, b := sink.NewRunID(now), sink.NewRunID(now)
	if a == b {
		t.Errorf("two run ids are equal: %s", a)
	}
	for _, id := range []string{a, b} {
		if len(id) != 36 || id[:13] != "01934f5a-1b2c" || id[14] != '7' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Errorf("run id %s: want 01934f5a-1b2c-7xxx-[89ab]xxx-xxxxxxxxxxxx", id)
		}
	}
}
