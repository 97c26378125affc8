package binlog

import (
	"fmt"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/event"
)

// rowsBody is the part of a rows event after its header, as go-mysql's
// goroutine found it; the reader loop decodes it.
type rowsBody struct {
	data []byte
}

// rowsStash carries rows-event bodies from go-mysql's parsing goroutine to the
// reader loop. go-mysql calls decode (Config.RowsEventDecodeFunc) while
// parsing; decode only splits off the header, which needs no schema, and the
// loop takes the body when the event arrives on the stream. Keeping schema
// lookups and decoding on the loop means table state has one owner.
type rowsStash struct {
	mu sync.Mutex
	m  map[*replication.RowsEvent]rowsBody
}

func newRowsStash() *rowsStash {
	return &rowsStash{m: make(map[*replication.RowsEvent]rowsBody)}
}

// decode is the replication.BinlogSyncerConfig.RowsEventDecodeFunc.
func (s *rowsStash) decode(e *replication.RowsEvent, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil { // go-mysql indexes without bounds checks
			err = corrupt("rows event header: %v", r)
		}
	}()
	pos, err := e.DecodeHeader(data)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.m[e] = rowsBody{data: data[pos:]}
	s.mu.Unlock()
	return nil
}

// take returns and forgets the body stashed for e.
func (s *rowsStash) take(e *replication.RowsEvent) (rowsBody, bool) {
	s.mu.Lock()
	b, ok := s.m[e]
	delete(s.m, e)
	s.mu.Unlock()
	return b, ok
}

// rowsOp returns the operation of a rows event type and whether it is a
// PARTIAL_UPDATE_ROWS_EVENT (MySQL binlog_row_value_options=PARTIAL_JSON).
func rowsOp(t replication.EventType) (op event.Op, partial, compressed bool, err error) {
	switch t {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2:
		return event.OpCreate, false, false, nil
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2:
		return event.OpUpdate, false, false, nil
	case replication.DELETE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2:
		return event.OpDelete, false, false, nil
	case replication.PARTIAL_UPDATE_ROWS_EVENT:
		return event.OpUpdate, true, false, nil
	case replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		return event.OpCreate, false, true, nil
	case replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1:
		return event.OpUpdate, false, true, nil
	case replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		return event.OpDelete, false, true, nil
	}
	return 0, false, false, corrupt("event type %s is not a rows event", t)
}

// decompressRows inflates the body of a MariaDB *_COMPRESSED_EVENT_V1.
func decompressRows(data []byte) ([]byte, error) {
	if len(data) < 1 || len(data) < 1+int(data[0]&0x07) {
		return nil, errTruncated
	}
	out, err := mysql.DecompressMariadbData(data)
	if err != nil {
		return nil, corrupt("decompress rows event: %v", err)
	}
	return out, nil
}

// decodeRows decodes every row image of a rows event body, appending the
// values to vals: one image (cols values) per row for inserts and deletes,
// before then after for updates. before and after are the columns-present
// bitmaps (after only for updates). It returns the extended vals, the number
// of rows, and whether some column was absent from an image.
func (d *rowDecoder) decodeRows(vals []event.Value, op event.Op, partial bool, before, after, data []byte) ([]event.Value, int, bool, error) {
	ncols := len(d.cols)
	keep := ncols - d.hidden // the values an image leaves in vals
	images := 1
	if op == event.OpUpdate {
		images = 2
	}
	missing := false
	rows := 0
	pos := 0
	for pos < len(data) {
		for img := range images {
			bitmap := before
			if img == 1 {
				bitmap = after
				if partial {
					opts, n := lenencInt(data[pos:])
					if n == 0 {
						return vals, rows, missing, errTruncated
					}
					pos += n
					if opts&1 != 0 {
						// PARTIAL_JSON_UPDATES: a bit per JSON column of the
						// table says which after values are diffs.
						nb := (d.jsonCols() + 7) / 8
						if len(data)-pos < nb {
							return vals, rows, missing, errTruncated
						}
						d.partialBits = data[pos : pos+nb]
						d.partialBefore = before
						d.beforeRow = vals[len(vals)-keep:]
						pos += nb
					}
				}
			}
			if bitmap == nil {
				return vals, rows, missing, corrupt("rows event without a columns bitmap")
			}
			start := len(vals)
			vals = growValues(vals, ncols)
			n, err := d.decodeImage(vals[start:start+ncols], data[pos:], bitmap, &missing)
			d.partialBits, d.partialBefore, d.beforeRow = nil, nil, nil
			if err != nil {
				return vals[:start], rows, missing, fmt.Errorf("row %d: %w", rows, err)
			}
			vals = vals[:start+keep]
			pos += n
		}
		rows++
	}
	return vals, rows, missing, nil
}

// growValues extends vals by n zero values.
func growValues(vals []event.Value, n int) []event.Value {
	if cap(vals)-len(vals) < n {
		grown := make([]event.Value, len(vals), 2*cap(vals)+n)
		copy(grown, vals)
		vals = grown
	}
	return vals[:len(vals)+n]
}

// lenencInt reads a length-encoded integer; n is 0 when b is too short.
func lenencInt(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch b[0] {
	case 0xfc:
		n = 3
	case 0xfd:
		n = 4
	case 0xfe:
		n = 9
	default:
		return uint64(b[0]), 1
	}
	if len(b) < n {
		return 0, 0
	}
	for i := n - 1; i >= 1; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, n
}
