package avro

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
)

// The transaction topic's Avro schemas: AvroData of SchemaFactory's
// transactionKeySchema and transactionValueSchema (see
// sink/debeziumjson/txmeta.go). The optional array of optional
// event.collection structs is ["null", array] of ["null", record], as Confluent's AvroConverter writes it for Debezium
// 3.6.1 (internal/differential TestDifferential_Avro/tx_metadata).
const (
	avroTxKeySchema = `{"type":"record","name":"TransactionMetadataKey","namespace":"io.debezium.connector.common","fields":[` +
		`{"name":"id","type":"string"}],` +
		`"connect.version":1,"connect.name":"io.debezium.connector.common.TransactionMetadataKey"}`
	avroTxValueSchema = `{"type":"record","name":"TransactionMetadataValue","namespace":"io.debezium.connector.common","fields":[` +
		`{"name":"status","type":"string"},` +
		`{"name":"id","type":"string"},` +
		`{"name":"event_count","type":["null","long"],"default":null},` +
		`{"name":"data_collections","type":["null",{"type":"array","items":["null",{"type":"record","name":"collection","namespace":"event","fields":[` +
		`{"name":"data_collection","type":"string"},` +
		`{"name":"event_count","type":"long"}],` +
		`"connect.version":1,"connect.name":"event.collection"}]}],"default":null},` +
		`{"name":"ts_ms","type":"long"}],` +
		`"connect.version":1,"connect.name":"io.debezium.connector.common.TransactionMetadataValue"}`
)

// AppendTransaction is JSON.AppendTransaction in Avro: the BEGIN or END
// record m for topic, its schemas registered under <topic>-key and
// <topic>-value (once; later calls hit the registry client's cache).
func (a *Encoder) AppendTransaction(ctx context.Context, recs []sink.Record, buf []byte, topic string, m *event.Transaction) ([]sink.Record, []byte, error) {
	keyID, err := a.cfg.Registry.Register(ctx, topic+"-key", avroTxKeySchema)
	if err != nil {
		return recs, buf, fmt.Errorf("register key schema of %s: %w", topic, err)
	}
	valueID, err := a.cfg.Registry.Register(ctx, topic+"-value", avroTxValueSchema)
	if err != nil {
		return recs, buf, fmt.Errorf("register value schema of %s: %w", topic, err)
	}
	start := len(buf)
	kh := wireHeader(keyID)
	buf = appendAvroString(append(buf, kh[:]...), m.ID)
	key := buf[start:len(buf):len(buf)]
	start = len(buf)
	vh := wireHeader(valueID)
	buf = append(buf, vh[:]...)
	buf = appendAvroString(buf, m.Status.String())
	buf = appendAvroString(buf, m.ID)
	if m.Status == event.TxEnd {
		buf = binary.AppendVarint(append(buf, 2), m.EventCount)
		buf = append(buf, 2)
		if n := len(m.DataCollections); n > 0 {
			buf = binary.AppendVarint(buf, int64(n))
			for _, c := range m.DataCollections {
				buf = append(buf, 2) // the record branch of ["null", record]
				buf = appendAvroString(buf, c.DataCollection)
				buf = binary.AppendVarint(buf, c.EventCount)
			}
		}
		buf = append(buf, 0) // end of the array
	} else {
		buf = append(buf, 0, 0)
	}
	buf = binary.AppendVarint(buf, m.TsMs)
	return append(recs, sink.Record{Topic: topic, Key: key, Value: buf[start:len(buf):len(buf)]}), buf, nil
}
