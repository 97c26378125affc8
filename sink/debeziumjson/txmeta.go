package debeziumjson

import (
	"strconv"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
)

// Transaction metadata (provide.transaction.metadata): the BEGIN and END
// records of the transaction topic and the transaction block of change
// events, as Debezium's TransactionMonitor and AbstractTransactionStructMaker
// write them with the schemas of SchemaFactory.transactionKeySchema,
// transactionValueSchema, transactionEventCountPerDataCollectionSchema and
// transactionBlockSchema (DEBEZIUM-REFERENCE §2.8).

const txKeySchema = `{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"}],` +
	`"optional":false,"name":"io.debezium.connector.common.TransactionMetadataKey","version":1}`

const txValueSchema = `{"type":"struct","fields":[` +
	`{"type":"string","optional":false,"field":"status"},` +
	`{"type":"string","optional":false,"field":"id"},` +
	`{"type":"int64","optional":true,"field":"event_count"},` +
	`{"type":"array","items":{"type":"struct","fields":[` +
	`{"type":"string","optional":false,"field":"data_collection"},` +
	`{"type":"int64","optional":false,"field":"event_count"}],` +
	`"optional":true,"name":"event.collection","version":1},"optional":true,"field":"data_collections"},` +
	`{"type":"int64","optional":false,"field":"ts_ms"}],` +
	`"optional":false,"name":"io.debezium.connector.common.TransactionMetadataValue","version":1}`

// AppendTransaction appends the record of a BEGIN or END boundary for
// topic to recs; key and value are appended to buf (see AppendRecords).
func (j *JSON) AppendTransaction(recs []sink.Record, buf []byte, topic string, m *event.Transaction) ([]sink.Record, []byte) {
	start := len(buf)
	if j.cfg.KeySchemas {
		buf = append(buf, `{"schema":`+txKeySchema+`,"payload":`...)
	}
	buf = append(buf, `{"id":`...)
	buf = sink.AppendJSONString(buf, m.ID)
	buf = append(buf, '}')
	if j.cfg.KeySchemas {
		buf = append(buf, '}')
	}
	key := buf[start:len(buf):len(buf)]
	start = len(buf)
	if j.cfg.ValueSchemas {
		buf = append(buf, `{"schema":`+txValueSchema+`,"payload":`...)
	}
	buf = append(buf, `{"status":"`...)
	buf = append(buf, m.Status.String()...)
	buf = append(buf, `","id":`...)
	buf = sink.AppendJSONString(buf, m.ID)
	if m.Status == event.TxEnd {
		buf = append(buf, `,"event_count":`...)
		buf = strconv.AppendInt(buf, m.EventCount, 10)
		buf = append(buf, `,"data_collections":[`...)
		for i, c := range m.DataCollections {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"data_collection":`...)
			buf = sink.AppendJSONString(buf, c.DataCollection)
			buf = append(buf, `,"event_count":`...)
			buf = strconv.AppendInt(buf, c.EventCount, 10)
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	} else {
		buf = append(buf, `,"event_count":null,"data_collections":null`...)
	}
	buf = append(buf, `,"ts_ms":`...)
	buf = strconv.AppendInt(buf, m.TsMs, 10)
	buf = append(buf, '}')
	if j.cfg.ValueSchemas {
		buf = append(buf, '}')
	}
	return append(recs, sink.Record{Topic: topic, Key: key, Value: buf[start:len(buf):len(buf)]}), buf
}

// appendTxBlock writes the value of the envelope's "transaction" field: null
// without a transaction, else {id, total_order, data_collection_order}. The
// create record of a primary-key change is the event's second data record
// (Debezium counts both records of the change).
func appendTxBlock(dst []byte, ev *event.ChangeEvent, op event.Op) []byte {
	if ev.Tx.ID == "" {
		return append(dst, "null"...)
	}
	total, dc := sink.TxOrders(ev, op)
	dst = append(dst, `{"id":`...)
	dst = sink.AppendJSONString(dst, ev.Tx.ID)
	dst = append(dst, `,"total_order":`...)
	dst = strconv.AppendInt(dst, total, 10)
	dst = append(dst, `,"data_collection_order":`...)
	dst = strconv.AppendInt(dst, dc, 10)
	return append(dst, '}')
}

// DataRecords returns how many data change records ev becomes, tombstones
// not counted: what Debezium's TransactionMonitor counts per event. 0 when
// its op is in skipped.operations, 2 for an update that changes the key
// (delete and create), else 1.
func (j *JSON) DataRecords(ev *event.ChangeEvent) int {
	n := j.p.DataRecords(ev)
	// Only an update with both images can be skipped as unchanged.
	if n == 0 || j.xf == nil || ev.Op != event.OpUpdate || ev.Before == nil || ev.After == nil {
		return n
	}
	te, err := j.table(ev.Table)
	if err != nil {
		return n
	}
	if te.plan != nil && te.plan.skipsUnchanged(ev) {
		return 0 // skip.messages.without.change: never reaches the TransactionMonitor
	}
	return n
}
