package snapshot

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// recycleRow is row id of the table TestSnapshotter_Recycle reads: every
// row different, strings of varying length, some large enough for an
// arena of their own, one larger than any arena kept for reuse.
func recycleRow(id int) (s string, b []byte, n event.Value) {
	s = strings.Repeat(string(rune('A'+id%26)), id%300)
	switch {
	case id == 500:
		b = bytes.Repeat([]byte{'y'}, 600000)
	case id%97 == 0:
		b = bytes.Repeat([]byte{byte(id)}, 40000+id)
	default:
		b = fmt.Appendf(nil, "b%d", id)
	}
	if id%5 != 0 {
		n = event.Int(int64(id) * 3)
	}
	return s, b, n
}

// TestSnapshotter_Recycle reads a table whose rows all differ with every
// chunk recycled once checked: each row read is the table's, although the
// later chunks fill the memory of the earlier ones (which the test sees
// happen), keyed and keyless, with several readers; once Run ended no
// memory is kept.
func TestSnapshotter_Recycle(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, `CREATE TABLE k (id INT PRIMARY KEY, s VARCHAR(300), b MEDIUMBLOB, n INT)`,
		`CREATE TABLE nokey (id INT, s VARCHAR(300), b MEDIUMBLOB, n INT)`)
	const rows = 1200
	for lo := 0; lo < rows; lo += 100 {
		var vals []string
		for id := lo; id < lo+100; id++ {
			s, b, n := recycleRow(id)
			nv := "NULL"
			if n.Kind != event.KindNull {
				nv = fmt.Sprint(n.I)
			}
			vals = append(vals, fmt.Sprintf("(%d, '%s', X'%x', %s)", id, s, b, nv))
		}
		for _, tbl := range []string{"k", "nokey"} {
			srv.Exec(t, db, "INSERT INTO "+tbl+" VALUES "+strings.Join(vals, ","))
		}
	}
	tables := loadTables(t, srv, db)
	s := newSnapshotter(t, srv, 50, 3)
	seen := map[string]int{}
	firstValue := map[*event.Value]bool{}
	reused := 0
	for ch := range chunksOf(t, s, tables) {
		if len(ch.Rows) > 0 {
			if firstValue[&ch.Rows[0][0]] {
				reused++
			}
			firstValue[&ch.Rows[0][0]] = true
		}
		for _, r := range ch.Rows {
			id := int(r[0].I)
			ws, wb, wn := recycleRow(id)
			if string(r[1].B) != ws || !bytes.Equal(r[2].B, wb) || !r[3].Equal(wn) {
				t.Fatalf("%s row %d: s %.20q (%d bytes), b of %d bytes, n %v; want s of %d bytes, b of %d bytes, n %v",
					ch.Table.Name, id, r[1].B, len(r[1].B), len(r[2].B), r[3], len(ws), len(wb), wn)
			}
			seen[fmt.Sprint(ch.Table.Name, id)]++
		}
		ch.Recycle()
		if ch.Rows != nil {
			t.Fatal("Rows still set after Recycle")
		}
		ch.Recycle() // a second call does nothing
	}
	if len(seen) != 2*rows {
		t.Errorf("%d distinct rows, want %d", len(seen), 2*rows)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("row %s read %d times", k, n)
		}
	}
	if reused == 0 {
		t.Error("no chunk reused the memory of a recycled one")
	}
	if _, ok := s.Floor(); ok {
		t.Error("Floor still set after Run")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.spare) != 0 || s.runs != 0 {
		t.Errorf("after Run: %d spare buffers kept, %d runs", len(s.spare), s.runs)
	}
}

// TestChunkBuf_Reset: a recycled buffer hands out its slabs and arenas
// again, except an arena too large to keep.
func TestChunkBuf_Reset(t *testing.T) {
	var b chunkBuf
	r1 := b.row(3, 2)
	b.row(3, 2)
	r3 := b.row(3, 2) // a second slab
	x := b.bytes([]byte("abc"))
	big := b.bytes(make([]byte, maxRecycledArena))
	if b.ns != 2 || b.na != 2 || len(big) != maxRecycledArena {
		t.Fatalf("ns %d na %d", b.ns, b.na)
	}
	b.reset(nil)
	if len(b.arenas) != 1 || len(b.slabs) != 2 {
		t.Fatalf("after reset: %d arenas, %d slabs; want 1, 2", len(b.arenas), len(b.slabs))
	}
	if got := b.row(3, 2); &got[0] != &r1[0] {
		t.Error("first row after reset is not the first slab's")
	}
	b.row(3, 2)
	if got := b.row(3, 2); &got[0] != &r3[0] {
		t.Error("third row after reset is not the second slab's")
	}
	if got := b.bytes([]byte("xyz")); &got[0] != &x[0] || string(got) != "xyz" {
		t.Error("bytes after reset not in the first arena")
	}
	// A row wider than a spare slab gets a new one.
	if got := b.row(100, 2); len(got) != 100 || cap(got) != 100 {
		t.Errorf("wide row: len %d cap %d", len(got), cap(got))
	}
}
