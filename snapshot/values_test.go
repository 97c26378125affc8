package snapshot

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// TestValues_AsTheBinlogDecodes pins the snapshot conversions that
// internal/conformance found differing from the binlog decoder (and from
// Debezium): the zero year, dates with a zero year, and MariaDB's INET4,
// INET6 and UUID, which the server returns as text.
func TestValues_AsTheBinlogDecodes(t *testing.T) {
	tbl := &schema.Table{DB: "d", Name: "t", Columns: []schema.Column{
		{Name: "y", Type: schema.TypeYear, Nullable: true},
		{Name: "d", Type: schema.TypeDate, Nullable: true},
		{Name: "dnn", Type: schema.TypeDate},
		{Name: "dt", Type: schema.TypeDateTime, Nullable: true},
		{Name: "i6", Type: schema.TypeInet6, Nullable: true},
		{Name: "u", Type: schema.TypeUUID, Nullable: true},
	}}
	str := func(s string) mysql.FieldValue { return mysql.NewFieldValue(mysql.FieldValueTypeString, 0, []byte(s)) }
	row := []mysql.FieldValue{
		mysql.NewFieldValue(mysql.FieldValueTypeUnsigned, 0, nil), // YEAR 0000
		str("0000-01-01"), str("0000-01-01"), str("0000-01-01 10:00:00"),
		str("::ffff:192.0.2.1"), str("ceb2897c-a1cf-11ed-8dbd-040300000000"),
	}
	c := newConverter(tbl)
	got := make([]event.Value, len(row))
	if err := c.row(got, row); err != nil {
		t.Fatal(err)
	}
	want := []event.Value{
		{Kind: event.KindInt, I: 1900}, // Debezium: Year.of(1900 + 0)
		event.Null,                     // zero year: a zero date, NULL when nullable
		{Kind: event.KindDate},         // ... the epoch when NOT NULL
		event.Null,
		{Kind: event.KindString, B: []byte("::ffff:192.0.2.1")},
		{Kind: event.KindString, B: []byte("ceb2897c-a1cf-11ed-8dbd-040300000000")},
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || got[i].I != want[i].I || string(got[i].B) != string(want[i].B) {
			t.Errorf("%s: got %+v, want %+v", tbl.Columns[i].Name, got[i], want[i])
		}
	}
}

// TestRawDate_MemoFollowsEachDate: one converter's day memo gives every
// date its own day, through runs of equal dates and changes of day, month
// and year, as a fresh conversion does.
func TestRawDate_MemoFollowsEachDate(t *testing.T) {
	dates := [][3]int{{2026, 11, 21}, {2026, 11, 21}, {2026, 11, 22}, {2026, 12, 22}, {2025, 12, 22},
		{2025, 12, 22}, {1, 1, 1}, {9999, 12, 31}, {2026, 11, 21}, {1970, 1, 1}, {2000, 2, 29}}
	var memo dayMemo
	for _, d := range dates {
		b := []byte{byte(d[0]), byte(d[0] >> 8), byte(d[1]), byte(d[2]), 10, 0, 0}
		for _, date := range []bool{true, false} {
			pkt := b
			if date {
				pkt = b[:4]
			}
			got, ok, err := rawDate(pkt, date, &memo)
			want := daysFromCivil(int64(d[0]), int64(d[1]), int64(d[2]))
			if !date {
				want = want*usPerDay + 10*3600*usPerSec
			}
			if err != nil || !ok || got != want {
				t.Errorf("%v (date %v) = %d, %v, %v; want %d", d, date, got, ok, err, want)
			}
		}
	}
}
