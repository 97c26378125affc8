package binlog

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/event"
)

// BenchmarkDecodeRows decodes a rows event of 20 realistic mixed rows
// (mixedTable: integers, decimal, UTF-8 and latin1/cp1251 text, enum, set,
// temporal types, double, float, bit, JSON, binary) into change events, as
// the reader loop does per WRITE_ROWS event.
func BenchmarkDecodeRows(b *testing.B) {
	const rowsPerEvent = 20
	d := mixedDecoder(b)
	_, table := mixedTable()
	var data []byte
	for i := range rowsPerEvent {
		data = append(data, mixedRow(b, uint64(i))...)
	}
	bitmap := []byte{0xFF, 0xFF, 0x0F}
	var scratch []event.Value
	src := event.Source{File: "mysql-bin.000001", Pos: 4, GTID: "0-1-1", Thread: -1}
	evs := make([]event.ChangeEvent, 0, rowsPerEvent)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		d.resetArena(len(data))
		vals, n, _, err := d.decodeRows(scratch[:0], event.OpCreate, false, bitmap, nil, data)
		if err != nil {
			b.Fatal(err)
		}
		scratch = vals
		evs = appendEvents(evs[:0], vals, event.OpCreate, table, src, n, 0)
		rows += n
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// TestDecodeRows_Allocs pins the allocation budget of the hot path: per rows
// event, one values slice and arena chunks, independent of the row count.
func TestDecodeRows_Allocs(t *testing.T) {
	d := mixedDecoder(t)
	_, table := mixedTable()
	var data []byte
	for i := range 20 {
		data = append(data, mixedRow(t, uint64(i))...)
	}
	bitmap := []byte{0xFF, 0xFF, 0x0F}
	scratch := make([]event.Value, 0, 20*len(table.Columns))
	evs := make([]event.ChangeEvent, 0, 20)
	src := event.Source{}
	allocs := testing.AllocsPerRun(50, func() {
		d.resetArena(len(data))
		vals, n, _, err := d.decodeRows(scratch[:0], event.OpCreate, false, bitmap, nil, data)
		if err != nil {
			t.Fatal(err)
		}
		evs = appendEvents(evs[:0], vals, event.OpCreate, table, src, n, 0)
	})
	if allocs > 4 {
		t.Errorf("%v allocations per 20-row event, want at most 4", allocs)
	}
}
