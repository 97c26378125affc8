package snapshot

import "github.com/rivulet-cdc/rivulet/event"

// Recycling a chunk's memory
//
// A chunk's rows live in memory of its own: the Rows slice, value slabs
// (the rows are windows of them) and byte arenas (the B of string-like
// values). Allocated per chunk, they were most of the garbage of an
// initial snapshot. A caller that knows nothing reads a chunk's rows or
// their values any more (the initial snapshot, once the sink encoded the
// chunk's events: engine/snapshot.go emit) calls Chunk.Recycle, and the
// next chunk read fills the same memory. A chunk that is only released
// (Release) leaves its memory to the garbage collector, so a caller that
// keeps rows (the incremental snapshot, `rivulet verify`, tests) is safe
// by default.

// arenaSize is the size of a byte arena; a value larger than half of it
// gets an arena of twice its size.
const arenaSize = 64 << 10

// maxRecycledArena bounds the arenas kept for reuse: one made for a large
// value is left to the garbage collector.
const maxRecycledArena = 1 << 20

// chunkBuf is the memory of one chunk's rows: while the chunk is read,
// slabs[:ns] and arenas[:na] are in use (the last of each being filled);
// once it is recycled, all of them are spare for the next chunk read.
type chunkBuf struct {
	rows   [][]event.Value
	slabs  [][]event.Value // value slabs; a row is a window of one
	arenas [][]byte        // byte arenas
	ns, na int
	slab   []event.Value // slabs[ns-1] as filled so far
	arena  []byte        // arenas[na-1] as filled so far
}

// row returns the next row of n values, from slabs of slabRows rows.
func (b *chunkBuf) row(n, slabRows int) []event.Value {
	if cap(b.slab)-len(b.slab) < n {
		if b.ns < len(b.slabs) && cap(b.slabs[b.ns]) >= n {
			b.slab = b.slabs[b.ns][:0]
		} else {
			b.slab = make([]event.Value, 0, n*slabRows)
			if b.ns < len(b.slabs) {
				b.slabs[b.ns] = b.slab
			} else {
				b.slabs = append(b.slabs, b.slab)
			}
		}
		b.ns++
	}
	i := len(b.slab)
	b.slab = b.slab[:i+n]
	return b.slab[i : i+n : i+n]
}

// bytes copies v into the arenas and returns the copy.
func (b *chunkBuf) bytes(v []byte) []byte {
	if cap(b.arena)-len(b.arena) < len(v) {
		if b.na < len(b.arenas) && cap(b.arenas[b.na]) >= len(v) {
			b.arena = b.arenas[b.na][:0]
		} else {
			b.arena = make([]byte, 0, max(arenaSize, 2*len(v)))
			if b.na < len(b.arenas) {
				b.arenas[b.na] = b.arena
			} else {
				b.arenas = append(b.arenas, b.arena)
			}
		}
		b.na++
	}
	start := len(b.arena)
	b.arena = append(b.arena, v...)
	return b.arena[start:len(b.arena):len(b.arena)]
}

// reset makes every slab and arena spare, dropping oversized arenas, and
// keeps rows (the chunk's Rows, which may have grown) for the next rows.
func (b *chunkBuf) reset(rows [][]event.Value) {
	if cap(rows) > cap(b.rows) {
		b.rows = rows
	}
	b.rows = b.rows[:0]
	kept := b.arenas[:0]
	for _, a := range b.arenas {
		if cap(a) <= maxRecycledArena {
			kept = append(kept, a)
		}
	}
	clear(b.arenas[len(kept):])
	b.arenas = kept
	b.ns, b.na, b.slab, b.arena = 0, 0, nil, nil
}

// getBuf returns a recycled chunk's memory, or a new one whose rows slice
// has room for rows rows.
func (s *Snapshotter) getBuf(rows int) *chunkBuf {
	s.mu.Lock()
	var b *chunkBuf
	if n := len(s.spare); n > 0 {
		b = s.spare[n-1]
		s.spare[n-1] = nil
		s.spare = s.spare[:n-1]
	}
	s.mu.Unlock()
	if b == nil {
		b = &chunkBuf{rows: make([][]event.Value, 0, rows)}
	}
	return b
}

// putBuf keeps b for a later chunk of the Run going on, at most as many
// as chunks can be in flight (read, waiting to be handed out, held by the
// caller), bounded whatever the caller does. Once no Run goes on (a chunk
// recycled after the last was handed out), b is left to the garbage
// collector: a finished snapshot keeps no memory.
func (s *Snapshotter) putBuf(b *chunkBuf, rows [][]event.Value) {
	b.reset(rows)
	s.mu.Lock()
	if s.runs > 0 && len(s.spare) < 2*s.cfg.Threads+2 {
		s.spare = append(s.spare, b)
	}
	s.mu.Unlock()
}

// running counts a Run going on; the returned func ends it, dropping the
// spare memory when it was the last.
func (s *Snapshotter) running() (done func()) {
	s.mu.Lock()
	s.runs++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		if s.runs--; s.runs == 0 {
			clear(s.spare)
			s.spare = nil
		}
		s.mu.Unlock()
	}
}

// Recycle releases the chunk (Release) and hands the memory of its rows
// and their values to the next chunk read, which overwrites it. Call it
// only once nothing reads ch.Rows, a row of it or a value's bytes any
// more, e.g. every event built from the rows was encoded; Rows is nil
// afterwards. A chunk built by a test or read by ReadWhere is only
// released. It may be called more than once.
func (c *Chunk) Recycle() {
	c.Release()
	if c.s == nil || c.buf == nil {
		return
	}
	b, rows := c.buf, c.Rows
	c.buf, c.Rows = nil, nil
	c.s.putBuf(b, rows)
}
