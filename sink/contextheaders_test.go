package sink

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestKafka_ContextHeaders: with Debezium 3.2+'s extended headers every
// change event record and tombstone starts with the three context headers;
// a record's own headers (a key change's __debezium.newkey) follow them.
func TestKafka_ContextHeaders(t *testing.T) {
	c := newCluster(t)
	k := newKafka(t, c, func(cfg *KafkaConfig) { cfg.ContextHeaders = ContextHeaders(ConnectorMariaDB, "dbserver1") })
	evs := kafkaEvents()
	done, ch := doneCh(t)
	if err := k.Send(t.Context(), evs, done); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, ch); err != nil {
		t.Fatalf("done(%v)", err)
	}
	got := consume(t, c, 8, "dbserver1.inventory.customers", "dbserver1.shop.orders")
	ctx := []string{"__debezium.context.connectorLogicalName=dbserver1", "__debezium.context.taskId=0", "__debezium.context.connectorName=mariadb"}
	var withKeyHeader int
	for _, r := range got {
		var hs []string
		for _, h := range r.Headers {
			hs = append(hs, h.Key+"="+string(h.Value))
		}
		if len(hs) < 3 {
			t.Fatalf("record %s/%s has headers %v, want the context headers first", r.Topic, r.Key, hs)
		}
		if d := cmp.Diff(ctx, hs[:3]); d != "" {
			t.Errorf("record %s/%s context headers (-want +got):\n%s", r.Topic, r.Key, d)
		}
		if len(hs) > 3 {
			withKeyHeader++
		}
	}
	if withKeyHeader != 3 { // the key change: delete, its tombstone, create
		t.Errorf("%d records carry their own headers after the context ones, want 3", withKeyHeader)
	}
}
