package snapshot

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// binRow builds a binary-protocol result row packet: vals[i] is nil for
// NULL, else the column's encoded value (length prefix included).
func binRow(vals ...[]byte) []byte {
	bitmap := make([]byte, (len(vals)+7+2)>>3)
	for i, v := range vals {
		if v == nil {
			bitmap[(i+2)/8] |= 1 << ((i + 2) % 8)
		}
	}
	p := append([]byte{mysql.OK_HEADER}, bitmap...)
	for _, v := range vals {
		p = append(p, v...)
	}
	return p
}

func lenenc(b []byte) []byte { return append([]byte{byte(len(b))}, b...) }

func binDateTime(y, mo, d, h, mi, s int, us uint32, n int) []byte {
	b := binary.LittleEndian.AppendUint16(nil, uint16(y))
	b = append(b, byte(mo), byte(d), byte(h), byte(mi), byte(s))
	b = binary.LittleEndian.AppendUint32(b, us)
	return lenenc(b[:n])
}

func binTime(neg bool, days uint32, h, mi, s int, us uint32, n int) []byte {
	b := []byte{0}
	if neg {
		b[0] = 1
	}
	b = binary.LittleEndian.AppendUint32(b, days)
	b = append(b, byte(h), byte(mi), byte(s))
	b = binary.LittleEndian.AppendUint32(b, us)
	return lenenc(b[:n])
}

// convertBoth converts pkt as go-mysql's text of each temporal value (the
// path before converter.fields) and as its raw bytes.
func convertBoth(t *testing.T, tbl *schema.Table, types []byte, pkt []byte) (text, raw []event.Value) {
	t.Helper()
	fields := func() []*mysql.Field {
		fs := make([]*mysql.Field, len(types))
		for i, ty := range types {
			fs[i] = &mysql.Field{Type: ty}
		}
		return fs
	}
	run := func(relabel bool) []event.Value {
		c := newConverter(tbl)
		fs := fields()
		if relabel {
			if err := c.fields(&mysql.Result{Resultset: &mysql.Resultset{Fields: fs}}); err != nil {
				t.Fatal(err)
			}
		}
		fv, err := mysql.RowData(pkt).ParseBinary(fs, nil)
		if err != nil {
			t.Fatalf("parse % x: %v", pkt, err)
		}
		out := make([]event.Value, len(fv))
		if err := c.row(out, fv); err != nil {
			t.Fatalf("convert % x (relabel %v): %v", pkt, relabel, err)
		}
		return out
	}
	return run(false), run(true)
}

// TestConverter_RawTemporalAsText checks that DATE, DATETIME, TIMESTAMP and
// TIME values decoded from their binary bytes equal what the text go-mysql
// formats them as decodes to: edge values (zero and invalid dates, every
// length, negative and multi-day times) and random ones.
func TestConverter_RawTemporalAsText(t *testing.T) {
	tbl := &schema.Table{DB: "d", Name: "t", Columns: []schema.Column{
		{Name: "d", Type: schema.TypeDate, Nullable: true},
		{Name: "dnn", Type: schema.TypeDate},
		{Name: "dt", Type: schema.TypeDateTime, Nullable: true},
		{Name: "dtnn", Type: schema.TypeDateTime},
		{Name: "ts", Type: schema.TypeTimestamp, Nullable: true},
		{Name: "tm", Type: schema.TypeTime, Nullable: true},
		{Name: "n", Type: schema.TypeInt, Nullable: true},
	}}
	types := []byte{mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_LONG}
	type dt struct {
		y, mo, d, h, mi, s int
		us                 uint32
	}
	dts := []dt{{}, {0, 1, 1, 10, 0, 0, 0}, {2026, 0, 5, 0, 0, 0, 0}, {2026, 5, 0, 1, 2, 3, 4}, {2026, 13, 1, 0, 0, 0, 0},
		{2026, 2, 31, 0, 0, 0, 0}, {1, 1, 1, 0, 0, 0, 0}, {1969, 12, 31, 23, 59, 59, 999999}, {1970, 1, 1, 0, 0, 0, 1},
		{9999, 12, 31, 23, 59, 59, 999999}, {2000, 2, 29, 12, 30, 45, 500000}, {1582, 10, 10, 0, 0, 0, 0}}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		dts = append(dts, dt{rng.IntN(10000), rng.IntN(13), rng.IntN(32), rng.IntN(24), rng.IntN(60), rng.IntN(60),
			uint32(rng.IntN(1_000_000))})
	}
	long := func(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	for i, v := range dts {
		dn := []int{0, 4}[i%2]
		dtn := []int{0, 4, 7, 11}[i%4]
		if v == (dt{}) {
			dn, dtn = 0, 0
		}
		neg := i%3 == 0
		days := uint32(i % 35)
		tn := []int{0, 8, 12}[i%3]
		vals := [][]byte{
			binDateTime(v.y, v.mo, v.d, 0, 0, 0, 0, dn), binDateTime(v.y, v.mo, v.d, 0, 0, 0, 0, 4),
			binDateTime(v.y, v.mo, v.d, v.h, v.mi, v.s, v.us, dtn), binDateTime(v.y, v.mo, v.d, v.h, v.mi, v.s, v.us, 11),
			binDateTime(v.y, v.mo, v.d, v.h, v.mi, v.s, v.us, 7), binTime(neg, days, v.h, v.mi, v.s, v.us, tn), long(i),
		}
		if i%5 == 0 {
			vals[0], vals[2], vals[5] = nil, nil, nil
		}
		text, raw := convertBoth(t, tbl, types, binRow(vals...))
		for j := range text {
			if text[j].Kind != raw[j].Kind || text[j].I != raw[j].I || string(text[j].B) != string(raw[j].B) {
				t.Errorf("%+v column %s: raw %+v, text %+v", v, tbl.Columns[j].Name, raw[j], text[j])
			}
		}
	}
}

// TestConverter_FieldsKeepMismatches: a result column whose type is not the
// table column's temporal kind (a SELECT override returning DATETIME for a
// DATE column) keeps go-mysql's text.
func TestConverter_FieldsKeepMismatches(t *testing.T) {
	tbl := &schema.Table{DB: "d", Name: "t", Columns: []schema.Column{
		{Name: "d", Type: schema.TypeDate}, {Name: "s", Type: schema.TypeVarchar}, {Name: "dt", Type: schema.TypeDateTime},
	}}
	types := []byte{mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME}
	pkt := binRow(binDateTime(2026, 3, 4, 5, 6, 7, 0, 7), binDateTime(2026, 3, 4, 5, 6, 7, 0, 7),
		binDateTime(2026, 3, 4, 5, 6, 7, 0, 7))
	text, raw := convertBoth(t, tbl, types, pkt)
	if string(raw[1].B) != "2026-03-04 05:06:07" {
		t.Errorf("varchar column: %q, want go-mysql's text", raw[1].B)
	}
	want := []event.Value{{Kind: event.KindDate, I: 20516}, {}, {Kind: event.KindDateTime, I: (20516*86400 + 5*3600 + 6*60 + 7) * 1e6}}
	for j := range want {
		if raw[j].Kind != text[j].Kind || raw[j].I != text[j].I || string(raw[j].B) != string(text[j].B) {
			t.Errorf("column %d: raw %+v, text %+v", j, raw[j], text[j])
		}
		if j != 1 && (raw[j].Kind != want[j].Kind || raw[j].I != want[j].I) {
			t.Errorf("column %d: %+v, want %+v", j, raw[j], want[j])
		}
	}
}

// BenchmarkConverter_Row parses and converts one binary-protocol row of
// internal/bench's table (BIGINT, INT, VARCHAR(64), DECIMAL(12,2),
// DATETIME(3), BIGINT): the snapshot's per-row work after the socket.
// binary-fmt is the path before converter.fields (go-mysql formats the
// DATETIME), binary-raw the path with it; textproto the text protocol's row (every value as text, go-mysql parses
// the integers), an alternative to the binary protocol.
func BenchmarkConverter_Row(b *testing.B) {
	tbl := &schema.Table{DB: "bench", Name: "t", PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Type: schema.TypeBigInt}, {Name: "a", Type: schema.TypeInt},
		{Name: "b", Type: schema.TypeVarchar, Nullable: true, Charset: "utf8mb4"},
		{Name: "c", Type: schema.TypeDecimal, Nullable: true}, {Name: "d", Type: schema.TypeDateTime, Nullable: true},
		{Name: "born_us", Type: schema.TypeBigInt, Nullable: true},
	}}
	types := []byte{mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_VAR_STRING,
		mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_LONGLONG}
	pkt := binRow(binary.LittleEndian.AppendUint64(nil, 123456), binary.LittleEndian.AppendUint32(nil, 42),
		lenenc([]byte("row-123456-abcdefghijklmnopqrstuvwxyz")), lenenc([]byte("1234567.89")),
		binDateTime(2026, 12, 7, 17, 48, 14, 123000, 11), binary.LittleEndian.AppendUint64(nil, 1765129694123456))
	textPkt := append(append(append(append(append(lenenc([]byte("123456")), lenenc([]byte("42"))...),
		lenenc([]byte("row-123456-abcdefghijklmnopqrstuvwxyz"))...), lenenc([]byte("1234567.89"))...),
		lenenc([]byte("2026-12-07 17:48:14.123"))...), lenenc([]byte("1765129694123456"))...)
	b.Run("textproto", func(b *testing.B) {
		c := newConverter(tbl)
		fs := make([]*mysql.Field, len(types))
		for i, ty := range types {
			fs[i] = &mysql.Field{Type: ty}
		}
		var fv []mysql.FieldValue
		dst := make([]event.Value, len(types))
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if fv, err = mysql.RowData(textPkt).ParseText(fs, fv); err != nil {
				b.Fatal(err)
			}
			if err := c.row(dst, fv); err != nil {
				b.Fatal(err)
			}
		}
		if dst[4].I != (20794*86400+17*3600+48*60+14)*1e6+123000 {
			b.Fatalf("datetime %d", dst[4].I)
		}
	})
	for _, relabel := range []bool{false, true} {
		name := "binary-fmt"
		if relabel {
			name = "binary-raw"
		}
		b.Run(name, func(b *testing.B) {
			c := newConverter(tbl)
			fs := make([]*mysql.Field, len(types))
			for i, ty := range types {
				fs[i] = &mysql.Field{Type: ty}
			}
			if relabel {
				_ = c.fields(&mysql.Result{Resultset: &mysql.Resultset{Fields: fs}})
			}
			var fv []mysql.FieldValue
			dst := make([]event.Value, len(types))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if fv, err = mysql.RowData(pkt).ParseBinary(fs, fv); err != nil {
					b.Fatal(err)
				}
				if err := c.row(dst, fv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
