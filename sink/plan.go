package sink

import (
	"fmt"

	"github.com/rivulet-cdc/rivulet/event"
)

// The record sequence of one change event, written once for every format.
//
// Debezium's RelationalChangeRecordEmitter and EventDispatcher turn one
// change into these records, before any transform:
//   - c, r: one record, key and after image from the new row;
//   - u: one record with both images, unless the key changed
//     (ChangeEvent.KeyChanged, the columns of Table.Key()): then a delete
//     under the old key with header __debezium.newkey, its tombstone when
//     tombstones.on.delete, and a create under the new key with header
//     __debezium.oldkey (emitUpdateAsPrimaryKeyChangeRecord);
//   - d: one record, key and before image from the old row, then a
//     tombstone (null value, same key and headers) when tombstones.on.delete;
//   - t: one record with a null key and neither image.
//
// planRecords decides that sequence; the JSON, Avro and transformed
// encoders only render its steps. The transaction block's orders follow
// the same sequence (txOrders).

// keyHeader names which key-change header a planned record carries.
type keyHeader uint8

const (
	hdrNone   keyHeader = iota
	hdrNewKey           // __debezium.newkey: the delete (and tombstone) of a key change
	hdrOldKey           // __debezium.oldkey: the create of a key change
)

// image names a row image of the event.
type image uint8

const (
	imgNone   image = iota
	imgBefore       // ev.Before
	imgAfter        // ev.After
)

func (i image) row(ev *event.ChangeEvent) []event.Value {
	switch i {
	case imgBefore:
		return ev.Before
	case imgAfter:
		return ev.After
	}
	return nil
}

// step is one planned record. It names row images rather than holding
// them, so that a sequence stays a few bytes on the encoder's stack.
type step struct {
	op        event.Op // the envelope's op
	tombstone bool     // null value; key and headers are the record's before it
	// key is the image the key is built from; imgNone: a null key (a table
	// without key columns, a truncate, or a tombstone, which reuses the key
	// of the record before it).
	key           image
	before, after image // the images the value carries
	hdr           keyHeader
}

// images returns the before and after rows the step's value carries.
func (st *step) images(ev *event.ChangeEvent) (before, after []event.Value) {
	return st.before.row(ev), st.after.row(ev)
}

// sequence is the plan of one event: at most a delete, its tombstone and a
// create, with their rendered keys and headers once appendKeys has run.
// It lives on the encoder's stack.
type sequence struct {
	n         int
	keyChange bool
	steps     [3]step
	keys      [3][]byte
	hdrs      [3][]Header
}

func (s *sequence) add(st step) {
	s.steps[s.n] = st
	s.n++
}

// planRecords fills s, which must be zero, with the records ev becomes,
// tombstones included when tombstones (tombstones.on.delete) is set. Its
// error names no table; the caller adds it.
func (te *tableEnc) planRecords(s *sequence, ev *event.ChangeEvent, tombstones bool) error {
	switch ev.Op {
	case event.OpCreate, event.OpRead, event.OpUpdate, event.OpDelete:
	case event.OpTruncate:
		s.add(step{op: ev.Op})
		return nil
	default:
		return fmt.Errorf("%w: unknown op %q", ErrEncode, ev.Op)
	}
	if err := te.checkRows(ev); err != nil {
		return err
	}
	if ev.Op == event.OpUpdate && ev.KeyChanged() {
		s.keyChange = true
		s.add(step{op: event.OpDelete, key: imgBefore, before: imgBefore, hdr: hdrNewKey})
		if tombstones {
			s.add(step{op: event.OpDelete, tombstone: true, hdr: hdrNewKey})
		}
		s.add(step{op: event.OpCreate, key: imgAfter, after: imgAfter, hdr: hdrOldKey})
		return nil
	}
	// One record; the stores go to fixed slots, this being every row's path.
	st := &s.steps[0]
	*st = step{op: ev.Op, key: imgAfter, after: imgAfter}
	switch ev.Op {
	case event.OpUpdate:
		st.before = imgBefore
	case event.OpDelete:
		st.key, st.before, st.after = imgBefore, imgBefore, imgNone
	}
	if len(te.keyCols) == 0 {
		st.key = imgNone
	}
	s.n = 1
	if ev.Op == event.OpDelete && tombstones {
		s.steps[1] = step{op: event.OpDelete, tombstone: true}
		s.n = 2
	}
	return nil
}

// Keyer is a format's key: the key columns of row.
type Keyer interface {
	AppendKey(dst []byte, row []event.Value) ([]byte, error)
}

// Renderer is a format's half of rendering a sequence: the key and the
// value envelope of op with those images: the small interface a format
// implements. The encoders pass small structs by value (jsonRender,
// avroRender), so nothing escapes; Go still calls their methods through
// the instantiation's dictionary. Cost: a planned sequence adds about
// 5-10 ns an event to BenchmarkEncode/narrow (~170 ns); loops written out
// in each encoder with direct calls measured about 5 ns less.
type Renderer interface {
	Keyer
	AppendValue(dst []byte, op event.Op, before, after []event.Value) ([]byte, error)
}

// appendKeys renders the key of every planned record with k (the format's) and the key-change headers, in the order the encoders always
// wrote them: the keys, then the headers. A tombstone gets the key and
// headers of the record before it.
func appendKeys[K Keyer](s *sequence, k K, buf []byte, te *tableEnc, ev *event.ChangeEvent) ([]byte, error) {
	var err error
	for i := range s.n {
		st := &s.steps[i]
		if st.tombstone {
			s.keys[i] = s.keys[i-1]
			continue
		}
		if st.key == imgNone {
			continue
		}
		start := len(buf)
		if buf, err = k.AppendKey(buf, st.key.row(ev)); err != nil {
			return buf, err
		}
		s.keys[i] = buf[start:len(buf):len(buf)]
	}
	if !s.keyChange {
		return buf, nil
	}
	buf, newKeyHdr, oldKeyHdr := appendKeyChangeHeaders(buf, te, ev)
	for i := range s.n {
		switch s.steps[i].hdr {
		case hdrNewKey:
			s.hdrs[i] = newKeyHdr
		case hdrOldKey:
			s.hdrs[i] = oldKeyHdr
		}
	}
	return buf, nil
}

// appendRecords appends the planned records to recs, keys and headers
// first (appendKeys): each value rendered by r, a tombstone with a null
// value.
func appendRecords[R Renderer](s *sequence, r R, recs []Record, buf []byte, te *tableEnc, ev *event.ChangeEvent, topic string) ([]Record, []byte, error) {
	buf, err := appendKeys(s, r, buf, te, ev)
	if err != nil {
		return recs, buf, err
	}
	for i := range s.n {
		st := &s.steps[i]
		if st.tombstone {
			recs = append(recs, Record{Topic: topic, Key: s.keys[i], Headers: s.hdrs[i]})
			continue
		}
		before, after := st.images(ev)
		start := len(buf)
		if buf, err = r.AppendValue(buf, st.op, before, after); err != nil {
			return recs, buf, err
		}
		recs = append(recs, Record{Topic: topic, Key: s.keys[i], Value: buf[start:len(buf):len(buf)], Headers: s.hdrs[i]})
	}
	return recs, buf, nil
}

// txOrders returns the transaction block's total_order and
// data_collection_order of the record of ev whose envelope op is op: the
// create of a key change is the event's second data record (Debezium's
// TransactionMonitor counts both records of the change).
func txOrders(ev *event.ChangeEvent, op event.Op) (total, dataCollection int64) {
	total, dataCollection = ev.Tx.TotalOrder, ev.Tx.DataCollectionOrder
	if ev.Op == event.OpUpdate && op == event.OpCreate {
		total, dataCollection = total+1, dataCollection+1
	}
	return total, dataCollection
}
