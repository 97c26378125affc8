package snapshot

import (
	"slices"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// The merge rule
//
// A chunk is read between a low watermark L and a high watermark H while
// the binlog stream goes on, so a row of the chunk may be older than a
// change the stream already handed out. The rule that reconciles the two
// (DBLog; Flink CDC; Debezium's incremental snapshot, DDD-3):
//
//  1. Every change the stream reads to a table being read is recorded by
//     key, with the position of its event.
//  2. A chunk is held until the stream has passed its high watermark H
//     (the caller may give up waiting after a while; see Merge.Take).
//  3. When it is released, every row whose key the stream changed at or
//     after the chunk's Window is dropped: the stream already emitted a
//     change of that key at least as new as the row. The other rows had no
//     change in [Window, H], so they are the table's rows at H, and every
//     later change of their key follows them in the stream.
//  4. Recorded changes older than every chunk still in flight (the chunk
//     reader's Floor and the held chunk's Window) can no longer drop a row
//     and are forgotten, so memory stays bounded by the changes of the
//     last chunks' windows, not by the table.
//  5. A DDL statement on a table being read makes the chunks read with the
//     old definition wrong (their rows are aligned to the old columns). The
//     held chunk is dropped and the caller restarts the chunk reader after
//     the last chunk it emitted, with the new definitions: the chunk is
//     read again. This is what Debezium does for an incremental snapshot
//     (AbstractIncrementalSnapshotChangeEventSource.processSchemaChange:
//     the open window is cleared and the chunk re-read), and what Rivulet's
//     initial snapshot does.
//
// Window is the low watermark of the previous chunk read on the same
// connection, not L: MySQL and MariaDB write a transaction to the binlog
// before they make it visible, so a transaction below L may still be
// invisible to the SELECT. Dropping a row is always safe (the stream emits
// every change), so the wider window costs only rows the stream re-sends.
//
// A keyless chunk (a table without a usable key, read in one consistent
// snapshot) is released as it is, without waiting or dropping.

// Floorer is the chunk reader's side of pruning (Snapshotter.Floor): the
// lowest Window of every chunk being read, read but not yet released, or
// about to be read; ok is false when none is in flight.
type Floorer interface {
	Floor() (p offsets.Position, ok bool)
}

// Merge is the merge rule above as a state machine. It owns no goroutine,
// timer or connection and never blocks: the caller's loop hands it stream
// batches (Stream) and chunks (Hold), asks whether the held chunk is due
// (Due), takes its surviving rows (Take), and acts on what Stream reports.
// Both the initial and the incremental snapshot run their chunks through
// one. The zero value is not usable; call NewMerge.
type Merge struct {
	floor   Floorer                     // nil: no chunk reader
	tables  map[schema.TableID]struct{} // tables being read
	changed map[string]offsets.Position // table+key -> position of its latest change
	latest  offsets.Position            // no entry of changed is after it
	pruneAt int
	keyBuf  []byte
	seen    *schema.Table // the last table Record looked up, and whether it is read
	seenOK  bool
	held    *Chunk           // read, waiting for the stream to pass its High
	stream  offsets.Position // the stream's position: End of the last batch
	dropped int64
}

// NewMerge returns a Merge with the stream at at and no table being read.
func NewMerge(at offsets.Position) *Merge {
	return &Merge{changed: make(map[string]offsets.Position), stream: at}
}

// Begin makes tables the tables being read, by the chunk reader floor
// (nil: none). Changes recorded so far are kept: a restart after a
// definition change goes on with the same stream. A held chunk is dropped.
func (m *Merge) Begin(tables []*schema.Table, floor Floorer) {
	m.Discard()
	m.floor, m.seen = floor, nil
	m.tables = make(map[schema.TableID]struct{}, len(tables))
	for _, t := range tables {
		m.tables[schema.TableID{DB: t.DB, Name: t.Name}] = struct{}{}
	}
}

// End says no table is read any more: the held chunk is dropped, the
// recorded changes forgotten, and later batches no longer recorded.
func (m *Merge) End() {
	m.Discard()
	m.tables, m.floor, m.seen = nil, nil, nil
	clear(m.changed)
	m.pruneAt = 0
}

// Reading reports whether tables are being read (between Begin and End).
func (m *Merge) Reading() bool { return m.tables != nil }

// Position returns the stream's position: the End of the last batch.
func (m *Merge) Position() offsets.Position { return m.stream }

// Stream records the changes of one stream batch (in binlog order) to the
// tables being read and moves the stream to end. It reports whether the
// batch's DDL (ddl, the batch's schema changes) changes or renames a table
// being read: the caller must then drop what its chunk reader still holds
// and read again after the last chunk it emitted, with the new
// definitions (rule 5); Begin drops the held chunk.
func (m *Merge) Stream(events []event.ChangeEvent, ddl []*schema.Change, end offsets.Position) (redefined bool) {
	m.stream = end
	if m.tables == nil {
		return false
	}
	m.Record(events)
	for _, c := range ddl {
		for _, tc := range c.Tables {
			if m.reads(tc.ID) || m.reads(tc.PreviousID) {
				redefined = true
			}
		}
	}
	return redefined
}

// Record records the changes of events to the tables being read without
// moving the stream: for a batch whose changes count as seen by a chunk
// reader started after it was handed out (an incremental snapshot started
// by a signal in that batch).
func (m *Merge) Record(events []event.ChangeEvent) {
	if m.tables == nil {
		return
	}
	for i := range events {
		ev := &events[i]
		if ev.Table == nil || ev.Op == event.OpRead {
			continue
		}
		if ev.Table != m.seen { // a batch's events mostly share one table
			m.seen = ev.Table
			m.seenOK = len(ev.Table.ChunkKey()) > 0 && m.reads(schema.TableID{DB: ev.Table.DB, Name: ev.Table.Name})
		}
		if !m.seenOK {
			continue
		}
		at := offsets.Position{File: ev.Source.File, Pos: ev.Source.Pos}
		if at != m.latest && ComparePositions(at, m.latest) > 0 {
			m.latest = at
		}
		if ev.Before != nil {
			m.keyBuf = appendTableKey(m.keyBuf[:0], ev.Table, ev.Before)
			m.changed[string(m.keyBuf)] = at
		}
		if ev.After != nil {
			m.keyBuf = appendTableKey(m.keyBuf[:0], ev.Table, ev.After)
			m.changed[string(m.keyBuf)] = at
		}
	}
	if len(m.changed) >= m.pruneAt {
		m.prune()
	}
}

func (m *Merge) reads(id schema.TableID) bool {
	_, ok := m.tables[id]
	return ok
}

// prune forgets changes older than every chunk still in flight (rule 4).
func (m *Merge) prune() {
	var floor offsets.Position
	ok := false
	if m.floor != nil {
		floor, ok = m.floor.Floor()
	}
	if m.held != nil && !m.held.Keyless && (!ok || ComparePositions(m.held.Window, floor) < 0) {
		floor, ok = m.held.Window, true
	}
	for k, at := range m.changed {
		if !ok || ComparePositions(at, floor) < 0 {
			delete(m.changed, k)
		}
	}
	m.pruneAt = max(4096, 2*len(m.changed))
}

// Changes returns how many changed keys are recorded.
func (m *Merge) Changes() int { return len(m.changed) }

// Hold keeps ch until the stream passes its high watermark. The caller
// reads no further chunk while one is held (Held).
func (m *Merge) Hold(ch *Chunk) {
	m.Discard()
	m.held = ch
}

// Held returns the chunk waiting for the stream, or nil.
func (m *Merge) Held() *Chunk { return m.held }

// Due reports whether the held chunk can be released: the stream passed
// its high watermark (always, for a keyless chunk, whose High is its Low).
func (m *Merge) Due() bool {
	return m.held != nil && ComparePositions(m.held.High, m.stream) <= 0
}

// Take removes the held chunk and returns it with the rows to emit
// (appended to dst[:0]): those whose key the stream did not change at or
// after the chunk's Window (rule 3); all rows of a keyless chunk. It
// returns nil when no chunk is held. The caller may Take before the chunk
// is Due when it gave up waiting (the binlog moved without a transaction
// to pass the watermark, a rotation): topics still end equal to the
// tables, only a row may then follow an older streamed change of its key.
// The caller releases the chunk (Chunk.Release) once it emitted the rows.
func (m *Merge) Take(dst [][]event.Value) (*Chunk, [][]event.Value) {
	ch := m.held
	if ch == nil {
		return nil, dst[:0]
	}
	m.held = nil
	keep := dst[:0]
	if ch.Keyless || len(m.changed) == 0 || ComparePositions(m.latest, ch.Window) < 0 {
		// No recorded change is at or after the window: no key to look up.
		return ch, append(keep, ch.Rows...)
	}
	for _, row := range ch.Rows {
		m.keyBuf = appendTableKey(m.keyBuf[:0], ch.Table, row)
		if at, ok := m.changed[string(m.keyBuf)]; ok && ComparePositions(at, ch.Window) >= 0 {
			m.dropped++
			continue
		}
		keep = append(keep, row)
	}
	return ch, keep
}

// Discard releases and drops the held chunk, if any.
func (m *Merge) Discard() {
	if m.held != nil {
		m.held.Release()
		m.held = nil
	}
}

// Dropped returns how many chunk rows Take dropped for a newer streamed
// change, and resets the count.
func (m *Merge) Dropped() int64 {
	n := m.dropped
	m.dropped = 0
	return n
}

// appendTableKey appends the identity of row's key in t, qualified by the
// table: the key of the changed set.
func appendTableKey(dst []byte, t *schema.Table, row []event.Value) []byte {
	dst = append(dst, t.DB...)
	dst = append(dst, 0)
	dst = append(dst, t.Name...)
	dst = append(dst, 0)
	return AppendKey(dst, t, row)
}

// Redefined reports whether a table of now differs from the one of was it
// replaces (same position in both lists, which are in (db, name) order) in
// what a chunk depends on: its name, its columns' names and types, or its
// chunk key; or whether a table came or went. A chunk read that failed
// while this holds met a DDL statement before the stream did.
func Redefined(was, now []*schema.Table) bool {
	if len(now) != len(was) {
		return true
	}
	for i, t := range now {
		old := was[i]
		if t.ID() != old.ID() || len(t.Columns) != len(old.Columns) || !slices.Equal(t.ChunkKey(), old.ChunkKey()) {
			return true
		}
		for j := range t.Columns {
			if t.Columns[j].Name != old.Columns[j].Name || t.Columns[j].Type != old.Columns[j].Type {
				return true
			}
		}
	}
	return false
}
