package verify

import (
	"context"
	"testing"
)

// A Debezium envelope as Rivulet writes it for bench.t (JSON without
// schemas), the shape `make bench` verifies.
var benchValue = []byte(`{"before":null,"after":{"id":123456,"a":864192,"b":"name-123456","c":"123456.56","d":1763719200456,"born_us":0},` +
	`"source":{"version":"0.1.0","connector":"mariadb","name":"verify","ts_ms":0,"snapshot":"true","db":"bench","sequence":null,"ts_us":0,"ts_ns":0,` +
	`"table":"t","server_id":0,"gtid":null,"file":"mysql-bin.000001","pos":4,"row":0,"thread":null,"query":null},` +
	`"transaction":null,"op":"r","ts_ms":1765000000000,"ts_us":1765000000000000,"ts_ns":1765000000000000000}`)

func BenchmarkJSONCodec_Decode(b *testing.B) {
	ctx := context.Background()
	key := []byte(`{"id":123456}`)
	var c JSONCodec
	b.ReportAllocs()
	b.SetBytes(int64(len(benchValue)))
	for b.Loop() {
		if _, err := c.Decode(ctx, key, benchValue); err != nil {
			b.Fatal(err)
		}
	}
}
