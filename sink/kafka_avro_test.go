package sink_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/avro"
	"github.com/rivulet-cdc/rivulet/sink/internal/sinktest"
)

// TestKafka_AvroRegistryOutage: the registry fails its first requests; the
// sink waits, then delivers every record, each decodable with the schema
// its id names in the registry.
func TestKafka_AvroRegistryOutage(t *testing.T) {
	srv, reg := sinktest.NewTestRegistry(t)
	srv.FailNext(4, http.StatusServiceUnavailable)
	c := newCluster(t)
	k := newKafka(t, c, func(cfg *sink.KafkaConfig) {
		enc, err := avro.New(testEncoding(), avro.Config{Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Format = enc
	})
	evs := kafkaEvents()
	done, ch := doneCh(t)
	if err := k.Send(context.Background(), evs, done); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, ch); err != nil {
		t.Fatal(err)
	}
	// c, u, c, d + tombstone, pk change (d + tombstone + c); truncate skipped.
	got := consume(t, c, 8, "dbserver1.inventory.customers", "dbserver1.shop.orders")
	if srv.Requests() < 5 {
		t.Errorf("%d registry requests; the injected failures were not hit", srv.Requests())
	}
	lookup := func(id int) string {
		for _, subject := range []string{"dbserver1.inventory.customers-key", "dbserver1.inventory.customers-value",
			"dbserver1.shop.orders-key", "dbserver1.shop.orders-value"} {
			if s, ok := srv.GetSchema(subject, 1); ok && s.ID == id {
				return s.Schema.Schema
			}
		}
		return ""
	}
	ops := map[string]int{}
	for _, r := range got {
		sinktest.DecodeWire(t, lookup, r.Key)
		if r.Value == nil {
			ops["tombstone"]++
			continue
		}
		_, native := sinktest.DecodeWire(t, lookup, r.Value)
		ops[native.(map[string]any)["op"].(string)]++
	}
	want := map[string]int{"c": 3, "u": 1, "d": 2, "tombstone": 2}
	for op, n := range want {
		if ops[op] != n {
			t.Errorf("ops %v, want %v", ops, want)
			break
		}
	}
}
