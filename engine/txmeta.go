package engine

import (
	"context"
	"fmt"
	"slices"
	"unicode/utf16"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// TxMetadataSink is the sink side of provide.transaction.metadata
// (sink.Kafka and sink.Stdout, bound to the transaction topic).
type TxMetadataSink interface {
	// DataRecords returns how many data change records the sink writes for
	// ev, tombstones not counted (0 for a skipped operation, 2 for a key
	// change): what Debezium's TransactionMonitor counts.
	DataRecords(ev *event.ChangeEvent) int
	// SendTransaction writes a BEGIN or END record after everything sent
	// before it; done follows the Sink.Send contract. m is not retained.
	SendTransaction(ctx context.Context, m *event.Transaction, done func(error)) error
}

// txMeta follows transactions across batches as Debezium's
// TransactionMonitor and TransactionContext do: BEGIN before a
// transaction's first event, every streamed change event's transaction
// block {id, total_order, data_collection_order}, END after its last event
// with the counts. A transaction resumed after a restart (its BEGIN was
// written before) is counted again from the events the reader hands out
// marked Replayed, which are not sent; Debezium keeps the same counts in
// its offset (transaction_id, transaction_data_collection_order_<table>).
// Snapshot rows carry no block. Used by the run loop's goroutine only.
type txMeta struct {
	snk TxMetadataSink

	active bool
	id     string
	total  int64
	colls  []txColl
	index  map[*schema.Table]int // table version -> colls index, this transaction
	names  map[*schema.Table]txName
	// maxColls is the most tables one transaction had: Debezium's per-table
	// HashMap keeps its capacity across transactions (clear), which decides
	// the order of END's data_collections.
	maxColls int

	begin, end event.Transaction
}

type txColl struct {
	name txName
	n    int64
}

type txName struct {
	s    string // "db.table", Debezium's TableId.toString()
	hash int32  // Java's String.hashCode of s
}

func newTxMeta(snk TxMetadataSink) *txMeta {
	if snk == nil {
		return nil
	}
	return &txMeta{snk: snk, index: make(map[*schema.Table]int), names: make(map[*schema.Table]txName)}
}

// maxTxNames bounds the cache of collection names (one per table version).
const maxTxNames = 4096

// name returns t's collection name, cached per table version.
func (m *txMeta) name(t *schema.Table) txName {
	if n, ok := m.names[t]; ok {
		return n
	}
	if len(m.names) >= maxTxNames {
		clear(m.names)
	}
	s := t.DB + "." + t.Name
	n := txName{s: s, hash: javaStringHash(s)}
	m.names[t] = n
	return n
}

// startTx resets the counts for transaction id.
func (m *txMeta) startTx(id string) {
	m.active, m.id, m.total = true, id, 0
	m.colls = m.colls[:0]
	clear(m.index)
}

// count adds n records of table t and returns the table's count.
func (m *txMeta) count(t *schema.Table, n int64) int64 {
	i, ok := m.index[t]
	if !ok {
		// Another version of a table seen already (DDL inside the
		// transaction) counts under the same name.
		nm := m.name(t)
		i = -1
		for j := range m.colls {
			if m.colls[j].name.s == nm.s {
				i = j
				break
			}
		}
		if i < 0 {
			i = len(m.colls)
			m.colls = append(m.colls, txColl{name: nm})
			m.maxColls = max(m.maxColls, len(m.colls))
		}
		m.index[t] = i
	}
	m.colls[i].n += n
	return m.colls[i].n
}

// prepare sets the transaction blocks of b's events and returns the BEGIN
// record due before them, the events to send (Replayed ones dropped) and
// the END record due after them; begin and end are nil when not due and
// valid until the next call.
func (m *txMeta) prepare(b *binlog.Batch) (begin *event.Transaction, events []event.ChangeEvent, end *event.Transaction) {
	bt := &b.Tx
	if bt.ID != "" && (bt.Begin || !m.active || m.id != bt.ID) {
		// A new transaction; without Begin one resumed after a restart
		// (TransactionMonitor.transactionStartedEvent: no second BEGIN).
		m.startTx(bt.ID)
		if bt.Begin {
			m.begin = event.Transaction{Status: event.TxBegin, ID: bt.ID, TsMs: bt.BeginTsMs}
			begin = &m.begin
		}
	}
	events = b.Events
	replayed := 0
	for i := range events {
		ev := &events[i]
		if ev.Replayed {
			replayed++
		}
		if !m.active || bt.ID == "" || ev.Source.Snapshot != "" || ev.Table == nil {
			continue // no transaction: the block stays null
		}
		n := int64(m.snk.DataRecords(ev))
		if n == 0 {
			continue
		}
		m.total += n
		dc := m.count(ev.Table, n)
		if !ev.Replayed {
			ev.Tx = event.Tx{ID: m.id, TotalOrder: m.total - n + 1, DataCollectionOrder: dc - n + 1}
		}
	}
	if replayed > 0 {
		kept := events[:0]
		for i := range events {
			if !events[i].Replayed {
				kept = append(kept, events[i])
			}
		}
		events = kept
	}
	if bt.End && m.active && m.id == bt.ID {
		m.end = event.Transaction{Status: event.TxEnd, ID: m.id, TsMs: bt.EndTsMs, EventCount: m.total,
			DataCollections: m.collections(m.end.DataCollections[:0])}
		end = &m.end
		m.active = false
	}
	return begin, events, end
}

// collections appends the per-table counts in the order Debezium's END
// lists them: the iteration order of its HashMap<String, Long> (bucket
// index of the spread String hash, insertion order within a bucket).
func (m *txMeta) collections(dst []event.TxCollection) []event.TxCollection {
	capacity := 16
	for capacity*3/4 < m.maxColls {
		capacity *= 2
	}
	bucket := func(h int32) int {
		u := uint32(h)
		return int((u ^ u>>16) & uint32(capacity-1))
	}
	// The transaction has ended: its counts may be reordered in place.
	slices.SortStableFunc(m.colls, func(a, b txColl) int { return bucket(a.name.hash) - bucket(b.name.hash) })
	for i := range m.colls {
		dst = append(dst, event.TxCollection{DataCollection: m.colls[i].name.s, EventCount: m.colls[i].n})
	}
	return dst
}

// javaStringHash is Java's String.hashCode: s[0]*31^(n-1) + ... over the
// UTF-16 code units, in 32-bit arithmetic.
func javaStringHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r < 0x10000 {
			h = 31*h + int32(r)
			continue
		}
		r1, r2 := utf16.EncodeRune(r)
		h = 31*h + int32(r1)
		h = 31*h + int32(r2)
	}
	return h
}

// sendEvents sends b's events, and with transaction metadata (m non-nil)
// the BEGIN record before them and the END record after them; ack is
// called once for all of it. c reports the events to the metrics (nil: not).
func sendEvents(ctx context.Context, m *txMeta, c *sendCounter, snk Sink, b *binlog.Batch, ack func(error)) error {
	if m == nil {
		if len(b.Events) == 0 {
			ack(nil)
			return nil
		}
		if err := snk.Send(ctx, b.Events, c.count(b.Events, ack)); err != nil {
			return fmt.Errorf("sink: %w", err)
		}
		return nil
	}
	begin, events, end := m.prepare(b)
	parts := 1
	if begin != nil {
		parts++
	}
	if end != nil {
		parts++
	}
	if parts > 1 {
		ack = joinAcks(int32(parts), ack)
	}
	if begin != nil {
		if err := m.snk.SendTransaction(ctx, begin, ack); err != nil {
			return fmt.Errorf("sink: transaction metadata: %w", err)
		}
	}
	if len(events) == 0 {
		ack(nil)
	} else if err := snk.Send(ctx, events, c.count(events, ack)); err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	if end != nil {
		if err := m.snk.SendTransaction(ctx, end, ack); err != nil {
			return fmt.Errorf("sink: transaction metadata: %w", err)
		}
	}
	return nil
}
