package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"golang.org/x/sync/errgroup"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// Snapshotter reads tables in chunks. It holds configuration and the
// watermark floor of the chunks in flight; one Run at a time.
type Snapshotter struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	floors map[int64]offsets.Position // by chunk seq (>= 0) and reader slot (< 0)
	spare  []*chunkBuf                // memory of recycled chunks (recycle.go)
	runs   int                        // Runs going on: spare is kept while > 0
}

// New validates cfg and returns a Snapshotter. It does not connect.
func New(cfg Config) (*Snapshotter, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Snapshotter{cfg: c, log: c.Logger, floors: make(map[int64]offsets.Position)}, nil
}

// Chunk is the rows of one key range of a table, read by one SELECT between
// two watermarks. Rows are in key order, aligned with Table.Columns; their
// bytes are owned by the chunk. Call Release once the chunk is merged, or
// Recycle once nothing reads its rows any more.
type Chunk struct {
	Table *schema.Table
	Rows  [][]event.Value
	// TableFirst is set when the chunk starts at the table's first key,
	// TableLast when it ends at its last (both for a table read whole).
	TableFirst, TableLast bool
	// Keyless is set for a piece of a table without a usable key, read
	// whole in one consistent-snapshot transaction and handed out in pieces
	// of ChunkSize rows: there is no key to reconcile on, Window is zero and
	// High equals Low (the transaction's start).
	Keyless bool
	// Window is the position from which binlog changes to a row's key make
	// the chunk's copy of that row stale: the low watermark of the previous
	// chunk read on the same connection (or the stream's start), so that a
	// transaction already in the binlog but not yet visible to the SELECT
	// (the binlog is written before the engine commit) is still caught.
	Window offsets.Position
	// Low and High are the binlog positions read just before and just after
	// the SELECT.
	Low, High offsets.Position
	// Progress is where to resume once this chunk (and every one before it)
	// is delivered.
	Progress Progress

	seq int64
	s   *Snapshotter
	buf *chunkBuf // the memory of Rows and their values
}

// Release says the caller no longer needs binlog changes at or after the
// chunk's Window on its behalf (see Floor). It may be called more than once.
func (c *Chunk) Release() {
	if c.s == nil {
		return // built by a test
	}
	c.s.mu.Lock()
	delete(c.s.floors, c.seq)
	c.s.mu.Unlock()
}

// Floor returns the lowest Window of every chunk being read, read but not
// yet released, or about to be read: binlog changes before it can no longer
// make any chunk row stale. ok is false when no chunk is in flight.
func (s *Snapshotter) Floor() (p offsets.Position, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.floors {
		if !ok || ComparePositions(f, p) < 0 {
			p, ok = f, true
		}
	}
	return p, ok
}

func (s *Snapshotter) setFloor(id int64, p offsets.Position) {
	s.mu.Lock()
	s.floors[id] = p
	s.mu.Unlock()
}

func (s *Snapshotter) clearFloor(id int64) {
	s.mu.Lock()
	delete(s.floors, id)
	s.mu.Unlock()
}

// spec is one chunk to read.
type spec struct {
	seq    int64
	t      *schema.Table
	lo, hi []any
	first  bool
	last   bool
	prog   Progress
	prev   Progress // progress before this chunk (keyless pieces carry it)
	base   string   // the SELECT read instead of the table's (ReadWhere)
}

// turns lets the reader of a keyless table wait until every earlier chunk
// was handed out: its rows then stream out in pieces of ChunkSize instead
// of being held whole.
type turns struct {
	mu      sync.Mutex
	next    int64
	waiting map[int64]chan struct{}
}

func (t *turns) wait(seq int64) <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	ch := make(chan struct{})
	if seq <= t.next {
		close(ch)
		return ch
	}
	if t.waiting == nil {
		t.waiting = map[int64]chan struct{}{}
	}
	t.waiting[seq] = ch
	return ch
}

func (t *turns) advance(next int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next = next
	if ch, ok := t.waiting[next]; ok {
		close(ch)
		delete(t.waiting, next)
	}
}

// Run reads tables (in the order given, which must be (db, name) order,
// resuming at from) and sends their chunks to out in that order, key order
// within a table. start is where the caller's binlog stream began: the
// first Window of every connection. Run returns when every chunk was sent,
// ctx ended (ctx.Err()) or a read failed; it does not close out.
func (s *Snapshotter) Run(ctx context.Context, tables []*schema.Table, from Progress, start offsets.Position, out chan<- *Chunk) error {
	var todo []*schema.Table
	var resumeKey []any
	for _, t := range tables {
		if !from.IsZero() {
			c := tableBefore(t.DB, t.Name, from.DB, from.Table)
			if c < 0 || c == 0 && from.Done {
				continue
			}
			if c == 0 && len(t.ChunkKey()) > 0 {
				k, err := decodeKey(from.After)
				if err != nil {
					return err
				}
				if k != nil && len(k) != len(t.ChunkKey()) {
					k = nil // the key changed since: read the table again
				}
				resumeKey = k
			}
		}
		todo = append(todo, t)
	}
	if len(todo) == 0 {
		return nil
	}
	defer s.running()()
	// Chunks of an earlier Run that the caller never released no longer matter.
	s.mu.Lock()
	clear(s.floors)
	s.mu.Unlock()
	threads := s.cfg.Threads
	g, gctx := errgroup.WithContext(ctx)
	specs := make(chan spec, threads)
	results := make(chan *Chunk, threads)
	tokens := make(chan struct{}, 2*threads)

	// Splitter: finds chunk bounds in order, by key arithmetic on a dense
	// integer key (keyRange), else on the key index (boundQuery).
	g.Go(func() error {
		defer close(specs)
		c, err := s.dial(gctx)
		if err != nil {
			return err
		}
		defer c.Close()
		var seq int64
		prev := from
		for i, t := range todo {
			lo := []any(nil)
			if i == 0 {
				lo = resumeKey
			}
			first := lo == nil
			var kr *keyRange
			if len(t.ChunkKey()) > 0 {
				err := withConn(gctx, c, func() error {
					est, err := estimateRows(c, t)
					if err == nil {
						kr, err = splitByRange(c, t, s.cfg.ChunkSize, est)
					}
					return err
				})
				if err != nil {
					return fmt.Errorf("split %s: %w", t.ID(), err)
				}
			}
			for {
				select {
				case tokens <- struct{}{}:
				case <-gctx.Done():
					return gctx.Err()
				}
				sp := spec{seq: seq, t: t, lo: lo, first: first, prev: prev}
				seq++
				if kr != nil {
					sp.hi = kr.next(lo)
				} else if len(t.ChunkKey()) > 0 {
					q, args := boundQuery(t, lo, s.cfg.ChunkSize)
					var hi []any
					err := withConn(gctx, c, func() error {
						return stream(c, q, args, func(fv []mysql.FieldValue) error {
							hi = keyArgs(fv)
							return nil
						})
					})
					if err != nil {
						return fmt.Errorf("split %s: %w", t.ID(), err)
					}
					sp.hi = hi
				}
				sp.last = sp.hi == nil
				sp.prog = Progress{DB: t.DB, Table: t.Name, Done: sp.last}
				if !sp.last {
					sp.prog.After = encodeKey(sp.hi)
				}
				prev = sp.prog
				select {
				case specs <- sp:
				case <-gctx.Done():
					return gctx.Err()
				}
				if sp.last {
					break
				}
				lo, first = sp.hi, false
			}
		}
		return nil
	})

	// Readers.
	var turn turns
	// Readers run in g, so that one failing stops the others at once; the
	// last one to return closes results.
	var readers sync.WaitGroup
	readers.Add(threads)
	for r := range threads {
		slot := -int64(r) - 1
		s.setFloor(slot, start)
		g.Go(func() error {
			defer readers.Done()
			defer s.clearFloor(slot)
			c, err := s.dial(gctx)
			if err != nil {
				return err
			}
			defer c.Close()
			window := start
			for sp := range specs {
				if len(sp.t.ChunkKey()) == 0 {
					select {
					case <-turn.wait(sp.seq):
					case <-gctx.Done():
						return gctx.Err()
					}
					err := s.readKeyless(gctx, c, sp, func(ch *Chunk) error {
						select {
						case results <- ch:
							return nil
						case <-gctx.Done():
							return gctx.Err()
						}
					})
					if err != nil {
						return err
					}
					continue
				}
				ch, err := s.read(gctx, c, sp, window)
				if err != nil {
					return err
				}
				s.setFloor(sp.seq, window)
				window = ch.Low
				s.setFloor(slot, window)
				select {
				case results <- ch:
				case <-gctx.Done():
					ch.Release()
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		readers.Wait()
		close(results)
		return nil
	})

	// Dispatcher: hands chunks out in order.
	g.Go(func() error {
		pending := make(map[int64]*Chunk)
		defer func() {
			for _, ch := range pending {
				ch.Release()
			}
		}()
		var next int64
		for ch := range results {
			if ch.Keyless {
				// Its reader waited for its turn: ch.seq == next.
				select {
				case out <- ch:
				case <-gctx.Done():
					return gctx.Err()
				}
				if !ch.TableLast {
					continue
				}
				<-tokens
				next++
				turn.advance(next)
			} else {
				pending[ch.seq] = ch
			}
			for {
				ch, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				select {
				case out <- ch:
				case <-gctx.Done():
					ch.Release()
					return gctx.Err()
				}
				<-tokens
				next++
				turn.advance(next)
			}
		}
		return nil
	})
	err := g.Wait()
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// keyArgs copies a key row into query arguments.
func keyArgs(fv []mysql.FieldValue) []any {
	out := make([]any, len(fv))
	for i := range fv {
		switch fv[i].Type {
		case mysql.FieldValueTypeSigned:
			out[i] = fv[i].AsInt64()
		case mysql.FieldValueTypeUnsigned:
			out[i] = fv[i].AsUint64()
		case mysql.FieldValueTypeFloat:
			out[i] = fv[i].AsFloat64()
		case mysql.FieldValueTypeString:
			out[i] = string(fv[i].AsString())
		default:
			out[i] = nil
		}
	}
	return out
}

// read reads one chunk between two watermarks.
func (s *Snapshotter) read(ctx context.Context, c *client.Conn, sp spec, window offsets.Position) (*Chunk, error) {
	t := sp.t
	ch := &Chunk{Table: t, TableFirst: sp.first, TableLast: sp.last, Window: window,
		Progress: sp.prog, seq: sp.seq, s: s}
	base := s.cfg.Overrides[t.ID()]
	if sp.base != "" {
		base = sp.base
	}
	q, args := chunkQuery(t, base, sp.lo, sp.hi)
	conv := newConverter(t)
	ncols := len(t.Columns)
	slabRows := min(1024, s.cfg.ChunkSize+1)
	ch.buf = s.getBuf(min(s.cfg.ChunkSize+1, 1<<16))
	conv.buf, ch.Rows = ch.buf, ch.buf.rows
	began := time.Now()
	err := withConn(ctx, c, func() error {
		var err error
		if ch.Low, err = watermark(c); err != nil {
			return err
		}
		err = streamRows(c, q, args, conv, func() ([]event.Value, error) {
			row := ch.buf.row(ncols, slabRows)
			ch.Rows = append(ch.Rows, row)
			return row, nil
		})
		if err != nil {
			return err
		}
		ch.High, err = watermark(c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.ID(), err)
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.DebugContext(ctx, "chunk read", "table", t.ID(), "rows", len(ch.Rows), "low", ch.Low.String(),
			"high", ch.High.String(), "took", time.Since(began))
	}
	return ch, nil
}

// ReadWhere reads the rows of t that match where (a SQL condition on its
// columns, e.g. a list of keys) with one SELECT between two watermarks, on
// a session of its own and without a lock, in key order. The table's SELECT
// override, if any, applies first. `rivulet verify` reads keys again with
// it; the chunk needs no Release.
func (s *Snapshotter) ReadWhere(ctx context.Context, t *schema.Table, where string) (*Chunk, error) {
	c, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	base := "SELECT " + selectList(t) + " FROM " + from(t) + " WHERE " + where
	if o := s.cfg.Overrides[t.ID()]; o != "" {
		base = "SELECT * FROM (" + o + ") AS rivulet_where WHERE " + where
	}
	ch, err := s.read(ctx, c, spec{seq: -1, t: t, first: true, last: true, base: base}, offsets.Position{})
	if ch != nil {
		ch.s = nil
	}
	return ch, err
}

// readKeyless reads a table without a usable key whole, in the one
// transaction Rivulet holds open: a consistent snapshot (no lock), handed
// out in pieces of ChunkSize rows as they arrive, so memory stays bounded.
// Pieces are emitted without reconciliation (High = Low); only the last
// moves the progress past the table, since a restart reads it again whole.
func (s *Snapshotter) readKeyless(ctx context.Context, c *client.Conn, sp spec, send func(*Chunk) error) error {
	t := sp.t
	ncols := len(t.Columns)
	var low offsets.Position
	conv := newConverter(t)
	slabRows := min(1024, s.cfg.ChunkSize+1)
	var cur *Chunk
	first := true
	fresh := func() {
		cur = &Chunk{Table: t, Keyless: true, TableFirst: first, Low: low, High: low, Progress: sp.prev, seq: sp.seq, s: s,
			buf: s.getBuf(min(s.cfg.ChunkSize, 1<<16))}
		cur.Rows = cur.buf.rows
		first = false
		conv.buf = cur.buf // the next chunk's bytes and values
	}
	q, args := chunkQuery(t, s.cfg.Overrides[t.ID()], nil, nil)
	err := withConn(ctx, c, func() error {
		if _, err := c.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
			return fmt.Errorf("start transaction: %w", err)
		}
		var err error
		if low, err = watermark(c); err == nil {
			fresh()
			err = streamRows(c, q, args, conv, func() ([]event.Value, error) {
				if len(cur.Rows) >= s.cfg.ChunkSize {
					if err := send(cur); err != nil {
						return nil, err
					}
					fresh()
				}
				row := cur.buf.row(ncols, slabRows)
				cur.Rows = append(cur.Rows, row)
				return row, nil
			})
		}
		if _, cerr := c.Execute("COMMIT"); err == nil && cerr != nil {
			err = fmt.Errorf("commit: %w", cerr)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", t.ID(), err)
	}
	cur.TableLast, cur.Progress = true, sp.prog
	return send(cur)
}

// Catalog lists and describes the captured tables (schema.Loader).
type Catalog interface {
	Tables(ctx context.Context) ([]schema.TableID, error)
	Table(ctx context.Context, db, name string) (*schema.Table, error)
}

// CapturedTables returns the definitions of the captured tables in the
// order Run reads them.
func CapturedTables(ctx context.Context, cat Catalog) ([]*schema.Table, error) {
	ids, err := cat.Tables(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*schema.Table, 0, len(ids))
	for _, id := range ids {
		t, err := cat.Table(ctx, id.DB, id.Name)
		if errors.Is(err, schema.ErrTableNotFound) {
			continue // dropped since it was listed
		}
		if err != nil {
			return nil, err
		}
		if t != nil {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *schema.Table) int { return tableBefore(a.DB, a.Name, b.DB, b.Name) })
	return out, nil
}
