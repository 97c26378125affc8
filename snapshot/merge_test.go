package snapshot

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// fixedFloor is a chunk reader's Floor that a test sets.
type fixedFloor struct {
	p  offsets.Position
	ok bool
}

func (f *fixedFloor) Floor() (offsets.Position, bool) { return f.p, f.ok }

func mpos(p uint64) offsets.Position { return offsets.Position{File: "bin.000001", Pos: p} }

var (
	mergeT = &schema.Table{DB: "db", Name: "t", PrimaryKey: []int{0},
		Columns: []schema.Column{{Name: "id", Type: schema.TypeInt}, {Name: "v", Type: schema.TypeInt}}}
	mergeU = &schema.Table{DB: "db", Name: "u", PrimaryKey: []int{0},
		Columns: []schema.Column{{Name: "id", Type: schema.TypeInt}, {Name: "v", Type: schema.TypeInt}}}
	mergeKeyless = &schema.Table{DB: "db", Name: "k",
		Columns: []schema.Column{{Name: "id", Type: schema.TypeInt}, {Name: "v", Type: schema.TypeInt}}}
)

func mrow(id int64) []event.Value { return []event.Value{event.Int(id), event.Int(0)} }

// step is one thing the caller's loop does to a Merge, and what it expects.
type step struct {
	// one of:
	batch *mbatch // Stream
	hold  *Chunk  // Hold
	take  bool    // Take (whether or not Due)
	end   bool    // End
	begin []*schema.Table

	record *mbatch // Record (no stream move)

	due       bool    // after the step: Due()
	redefined bool    // batch: Stream's result
	rows      []int64 // take: the ids of the rows kept
	dropped   int64   // take: Dropped()
	changes   *int    // after the step, when set: Changes()
}

func n(i int) *int { return &i }

type mbatch struct {
	t      *schema.Table
	op     event.Op
	ids    []int64 // keys changed (before and after images carry the same key)
	newID  int64   // op u: a key change from ids[0] to newID when set
	at     uint64  // events' position
	end    uint64  // batch End
	ddlFor *schema.TableID
	rename *schema.TableID // ddl renames this table (PreviousID)
}

func (b *mbatch) events() []event.ChangeEvent {
	var evs []event.ChangeEvent
	for _, id := range b.ids {
		ev := event.ChangeEvent{Op: b.op, Table: b.t, Source: event.Source{File: "bin.000001", Pos: b.at}}
		switch b.op {
		case event.OpCreate, event.OpRead:
			ev.After = mrow(id)
		case event.OpDelete:
			ev.Before = mrow(id)
		default:
			ev.Before, ev.After = mrow(id), mrow(id)
			if b.newID != 0 {
				ev.After = mrow(b.newID)
			}
		}
		evs = append(evs, ev)
	}
	return evs
}

func (b *mbatch) ddl() []*schema.Change {
	switch {
	case b.ddlFor != nil:
		return []*schema.Change{{DB: b.ddlFor.DB, DDL: "ALTER TABLE ...", Tables: []schema.TableChange{{Type: schema.ChangeAlter, ID: *b.ddlFor}}}}
	case b.rename != nil:
		return []*schema.Change{{DB: b.rename.DB, DDL: "RENAME TABLE ...", Tables: []schema.TableChange{{Type: schema.ChangeAlter,
			ID: schema.TableID{DB: b.rename.DB, Name: "renamed"}, PreviousID: *b.rename}}}}
	}
	return nil
}

func chunk(t *schema.Table, window, high uint64, ids ...int64) *Chunk {
	ch := &Chunk{Table: t, Window: mpos(window), Low: mpos(window + 1), High: mpos(high)}
	for _, id := range ids {
		ch.Rows = append(ch.Rows, mrow(id))
	}
	if len(t.ChunkKey()) == 0 {
		ch.Keyless, ch.Window, ch.Low, ch.High = true, offsets.Position{}, mpos(high), mpos(high)
	}
	return ch
}

// TestMerge_Rule walks the merge rule through the cases the initial and the
// incremental snapshot meet; every case starts with Begin(db.t) at 10.
func TestMerge_Rule(t *testing.T) {
	tid := schema.TableID{DB: "db", Name: "t"}
	uid := schema.TableID{DB: "db", Name: "u"}
	tests := []struct {
		name  string
		steps []step
	}{
		{"change after the window drops the row", []step{
			{hold: chunk(mergeT, 10, 30, 1, 2, 3), changes: n(0)},
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{2}, at: 15, end: 20}, changes: n(1)},
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{9}, at: 25, end: 30}, due: true},
			{take: true, rows: []int64{1, 3}, dropped: 1},
		}},
		{"change before the window keeps the row", []step{
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{2}, at: 5, end: 8}},
			{hold: chunk(mergeT, 10, 30, 1, 2, 3)},
			{batch: &mbatch{t: mergeT, op: event.OpCreate, ids: []int64{4}, at: 31, end: 40}, due: true},
			{take: true, rows: []int64{1, 2, 3}},
		}},
		{"change at the window drops the row", []step{
			{hold: chunk(mergeT, 10, 30, 1, 2)},
			{batch: &mbatch{t: mergeT, op: event.OpDelete, ids: []int64{1}, at: 10, end: 30}, due: true},
			{take: true, rows: []int64{2}, dropped: 1},
		}},
		{"both keys of a key change count", []step{
			{hold: chunk(mergeT, 10, 30, 1, 2, 3)},
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{1}, newID: 3, at: 12, end: 30}, due: true},
			{take: true, rows: []int64{2}, dropped: 2},
		}},
		{"held until the stream passes the high watermark", []step{
			{hold: chunk(mergeT, 10, 30, 1)},
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{5}, at: 20, end: 29}, due: false},
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{5}, at: 29, end: 30}, due: true},
			{take: true, rows: []int64{1}},
		}},
		{"taken before due when the caller gave up waiting", []step{
			{hold: chunk(mergeT, 10, 30, 1, 2)},
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{1}, at: 12, end: 20}, due: false},
			{take: true, rows: []int64{2}, dropped: 1},
		}},
		{"another table's change does not drop a row", []step{
			{hold: chunk(mergeT, 10, 30, 1)},
			{batch: &mbatch{t: mergeU, op: event.OpUpdate, ids: []int64{1}, at: 12, end: 30}, due: true, changes: n(0)},
			{take: true, rows: []int64{1}},
		}},
		{"snapshot rows of an inner snapshot are not changes", []step{
			{hold: chunk(mergeT, 10, 30, 1)},
			{batch: &mbatch{t: mergeT, op: event.OpRead, ids: []int64{1}, at: 12, end: 30}, due: true, changes: n(0)},
			{take: true, rows: []int64{1}},
		}},
		{"keyless chunk is released whole at once", []step{
			{begin: []*schema.Table{mergeKeyless}},
			{batch: &mbatch{t: mergeKeyless, op: event.OpUpdate, ids: []int64{1}, at: 12, end: 20}, changes: n(0)},
			{hold: chunk(mergeKeyless, 0, 20, 1, 2), due: true},
			{take: true, rows: []int64{1, 2}},
		}},
		{"pruned below the floor and the held window", []step{
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{1, 2}, at: 12, end: 20}, changes: n(0)}, // floor 25: pruned
			{hold: chunk(mergeT, 25, 40, 1, 2)},
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{2}, at: 30, end: 40}, due: true, changes: n(1)},
			{take: true, rows: []int64{1}, dropped: 1},
		}},
		{"changes after End are not recorded", []step{
			{end: true},
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{1}, at: 12, end: 20}, changes: n(0)},
		}},
		{"record without moving the stream", []step{
			{hold: chunk(mergeT, 10, 30, 1, 2)},
			{record: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{1}, at: 12}, due: false, changes: n(1)},
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{7}, at: 25, end: 30}, due: true},
			{take: true, rows: []int64{2}, dropped: 1},
		}},
		// Rule 5, for both snapshot kinds: a DDL on a table being read
		// reports it; the caller restarts with Begin, which drops the held
		// chunk read with the old definition, and the re-read chunk still
		// drops the rows changed before the DDL.
		{"DDL on a table being read", []step{
			{hold: chunk(mergeT, 10, 30, 1, 2, 3)},
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{3}, at: 15, end: 20}},
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: nil, at: 25, end: 35, ddlFor: &tid}, redefined: true, due: true},
			{begin: []*schema.Table{mergeT}, due: false, changes: n(1)},
			{take: true, rows: nil},
			{hold: chunk(mergeT, 10, 50, 1, 2, 3)}, // read again after the last emitted chunk
			{batch: &mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{8}, at: 45, end: 50}, due: true},
			{take: true, rows: []int64{1, 2}, dropped: 1},
		}},
		{"rename of a table being read", []step{
			{batch: &mbatch{t: mergeT, end: 20, rename: &tid}, redefined: true},
		}},
		{"DDL on another table", []step{
			{hold: chunk(mergeT, 10, 30, 1)},
			{batch: &mbatch{t: mergeU, end: 30, ddlFor: &uid}, redefined: false, due: true},
			{take: true, rows: []int64{1}},
		}},
		{"DDL after End", []step{
			{end: true},
			{batch: &mbatch{t: mergeT, end: 30, ddlFor: &tid}, redefined: false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			floor := &fixedFloor{}
			if strings.HasPrefix(tt.name, "pruned") {
				floor.p, floor.ok = mpos(25), true
			}
			m := NewMerge(mpos(10))
			m.Begin([]*schema.Table{mergeT}, floor)
			var keep [][]event.Value
			for i, s := range tt.steps {
				where := fmt.Sprintf("step %d", i)
				switch {
				case s.batch != nil:
					if got := m.Stream(s.batch.events(), s.batch.ddl(), mpos(s.batch.end)); got != s.redefined {
						t.Errorf("%s: Stream reports redefined %v, want %v", where, got, s.redefined)
					}
					if m.Position() != mpos(s.batch.end) {
						t.Errorf("%s: stream at %s", where, m.Position())
					}
				case s.record != nil:
					m.Record(s.record.events())
				case s.hold != nil:
					if m.Held() != nil {
						t.Fatalf("%s: a chunk is held already", where)
					}
					m.Hold(s.hold)
				case s.take:
					var ch *Chunk
					ch, keep = m.Take(keep)
					var ids []int64
					for _, r := range keep {
						ids = append(ids, r[0].I)
					}
					if diff := cmp.Diff(s.rows, ids); diff != "" {
						t.Errorf("%s: rows kept (-want +got)\n%s", where, diff)
					}
					if got := m.Dropped(); got != s.dropped {
						t.Errorf("%s: dropped %d, want %d", where, got, s.dropped)
					}
					if ch != nil && m.Held() != nil {
						t.Errorf("%s: chunk still held after Take", where)
					}
				case s.end:
					m.End()
					if m.Reading() {
						t.Errorf("%s: reading after End", where)
					}
				case s.begin != nil:
					m.Begin(s.begin, floor)
					if m.Held() != nil {
						t.Errorf("%s: Begin kept the held chunk", where)
					}
				}
				if !s.take {
					if got := m.Due(); got != s.due {
						t.Errorf("%s: Due %v, want %v", where, got, s.due)
					}
				}
				if s.changes != nil {
					if got := m.Changes(); got != *s.changes {
						t.Errorf("%s: %d changes recorded, want %d", where, got, *s.changes)
					}
				}
			}
		})
	}
}

// TestMerge_PruneKeepsWhatAChunkInFlightNeeds: without a chunk in flight
// every recorded change is forgotten at the next prune; with one, only
// those older than its window.
func TestMerge_PruneKeepsWhatAChunkInFlightNeeds(t *testing.T) {
	floor := &fixedFloor{}
	m := NewMerge(mpos(4))
	m.Begin([]*schema.Table{mergeT}, floor)
	ids := make([]int64, 5000) // past the first prune threshold (4096)
	for i := range ids {
		ids[i] = int64(i)
	}
	m.Stream((&mbatch{t: mergeT, op: event.OpUpdate, ids: ids[:10], at: 5}).events(), nil, mpos(6))
	if m.Changes() != 0 {
		t.Fatalf("nothing in flight, %d changes kept", m.Changes())
	}
	floor.p, floor.ok = mpos(100), true
	m.Stream((&mbatch{t: mergeT, op: event.OpUpdate, ids: ids[:4000], at: 50}).events(), nil, mpos(60))
	m.Stream((&mbatch{t: mergeT, op: event.OpUpdate, ids: ids[4000:], at: 100}).events(), nil, mpos(110))
	if m.Changes() != 1000 {
		t.Fatalf("floor 100: %d changes kept, want the 1000 at 100", m.Changes())
	}
}

func TestRedefined(t *testing.T) {
	base := func() *schema.Table {
		return &schema.Table{DB: "db", Name: "t", PrimaryKey: []int{0},
			Columns: []schema.Column{{Name: "id", Type: schema.TypeInt}, {Name: "v", Type: schema.TypeInt}}}
	}
	tests := []struct {
		name string
		edit func(*schema.Table)
		drop bool
		want bool
	}{
		{"same", func(*schema.Table) {}, false, false},
		{"column added", func(t *schema.Table) {
			t.Columns = append(t.Columns, schema.Column{Name: "w", Type: schema.TypeInt})
		}, false, true},
		{"column renamed", func(t *schema.Table) { t.Columns[1].Name = "w" }, false, true},
		{"column retyped", func(t *schema.Table) { t.Columns[1].Type = schema.TypeVarchar }, false, true},
		{"key changed", func(t *schema.Table) { t.PrimaryKey = []int{0, 1} }, false, true},
		{"table renamed", func(t *schema.Table) { t.Name = "t2" }, false, true},
		{"table gone", func(*schema.Table) {}, true, true},
		{"nullability only", func(t *schema.Table) { t.Columns[1].Nullable = true }, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := base()
			tt.edit(now)
			list := []*schema.Table{now}
			if tt.drop {
				list = nil
			}
			if got := Redefined([]*schema.Table{base()}, list); got != tt.want {
				t.Errorf("Redefined = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMerge_TakeAllocs pins Take's budget: filtering a chunk allocates
// nothing once the caller's buffer has grown.
func TestMerge_TakeAllocs(t *testing.T) {
	m := NewMerge(mpos(4))
	m.Begin([]*schema.Table{mergeT}, &fixedFloor{})
	ch := chunk(mergeT, 10, 30, 1, 2, 3, 4, 5, 6, 7, 8)
	m.Hold(ch) // in flight: the changes below are kept
	m.Stream((&mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{2, 5}, at: 15}).events(), nil, mpos(40))
	keep := make([][]event.Value, 0, 8)
	allocs := testing.AllocsPerRun(100, func() {
		m.Hold(ch)
		_, keep = m.Take(keep)
	})
	if allocs != 0 || len(keep) != 6 {
		t.Errorf("Take: %v allocations, %d rows kept", allocs, len(keep))
	}
}

// BenchmarkMerge_StreamTake is the rule alone: per round a batch of 256
// updates recorded and a chunk of 1024 rows filtered.
func BenchmarkMerge_StreamTake(b *testing.B) {
	m := NewMerge(mpos(4))
	m.Begin([]*schema.Table{mergeT}, &fixedFloor{})
	ids := make([]int64, 256)
	for i := range ids {
		ids[i] = int64(i * 16)
	}
	rows := make([]int64, 1024)
	for i := range rows {
		rows[i] = int64(i)
	}
	batch := (&mbatch{t: mergeT, op: event.OpUpdate, ids: ids}).events()
	var keep [][]event.Value
	base := uint64(100)
	ch := chunk(mergeT, 0, 0, rows...)
	b.ReportAllocs()
	for b.Loop() {
		ch.Window, ch.High = mpos(base), mpos(base+10)
		m.Hold(ch)
		for i := range batch {
			batch[i].Source.Pos = base + 5
		}
		m.Stream(batch, nil, mpos(base+20))
		_, keep = m.Take(keep)
		base += 100
	}
	if len(keep) != 1024-64 {
		b.Fatalf("%d rows kept", len(keep))
	}
}

// TestMerge_TakeSkipsOlderChanges: Take keeps every row when each recorded
// change is older than the chunk's window (it then looks up no key), and
// still drops a row whose key changed at or after it.
func TestMerge_TakeSkipsOlderChanges(t *testing.T) {
	m := NewMerge(mpos(4))
	m.Begin([]*schema.Table{mergeT}, &fixedFloor{})
	m.Stream((&mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{2, 5}, at: 15}).events(), nil, mpos(16))
	m.Hold(chunk(mergeT, 20, 30, 1, 2, 3, 5))
	if _, keep := m.Take(nil); len(keep) != 4 {
		t.Errorf("changes before the window: %d rows kept, want 4", len(keep))
	}
	m.Stream((&mbatch{t: mergeT, op: event.OpUpdate, ids: []int64{3}, at: 25}).events(), nil, mpos(26))
	m.Hold(chunk(mergeT, 20, 30, 1, 2, 3, 5))
	_, keep := m.Take(nil)
	if len(keep) != 3 || keep[2][0].I != 5 {
		t.Errorf("a change after the window: kept %v, want keys 1 2 5", keep)
	}
	if m.Dropped() != 1 {
		t.Error("the changed row not counted as dropped")
	}
}
