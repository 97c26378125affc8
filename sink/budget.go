package sink

import (
	"context"
	"sync/atomic"
)

// budget bounds the records and bytes handed to Kafka and not yet
// acknowledged (MaxBufferedRecords, MaxBufferedBytes). A Send takes room
// for as many of its records as fit, in one step for a whole batch when
// the room is there; each acknowledgement gives its record's room back
// with two atomic additions, so the promise path takes no lock and does
// not contend with the Send that fills the buffer. A Send that finds no
// room waits, honouring its context, until acknowledgements make some.
//
// One taker at a time holds the turn, so the free room only grows between
// a taker's reading and its taking: it never goes negative, and a record
// whose weight is the whole byte capacity waits until everything before it
// was acknowledged, as with a FIFO semaphore.
type budget struct {
	recs, byts atomic.Int64  // free room
	waiting    atomic.Int32  // takers waiting for room
	wake       chan struct{} // capacity 1: a token given while someone waits
	turn       chan struct{} // capacity 1: held by the taker
}

func newBudget(recs, byts int64) *budget {
	b := &budget{wake: make(chan struct{}, 1), turn: make(chan struct{}, 1)}
	b.recs.Store(recs)
	b.byts.Store(byts)
	return b
}

// take takes room for the longest prefix of records whose byte weights are
// ws that fits, at least one record, waiting while none fits; ws must not
// be empty and no weight may exceed the byte capacity. waited reports that
// it had to wait. It fails only with ctx's error, having taken nothing.
func (b *budget) take(ctx context.Context, ws []int64) (n int, waited bool, err error) {
	select {
	case b.turn <- struct{}{}:
	default:
		select {
		case b.turn <- struct{}{}:
		case <-ctx.Done():
			return 0, true, ctx.Err()
		}
		waited = true
	}
	defer func() { <-b.turn }()
	if n = b.tryTake(ws); n > 0 {
		return n, waited, nil
	}
	// Announce the wait before looking again: a give either happened
	// before that look, which sees its room, or sees the announcement and
	// leaves a wake token.
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	for {
		if n = b.tryTake(ws); n > 0 {
			return n, true, nil
		}
		select {
		case <-b.wake:
		case <-ctx.Done():
			return 0, true, ctx.Err()
		}
	}
}

// tryTake takes room for the prefix of ws that fits now; the caller holds
// the turn.
func (b *budget) tryTake(ws []int64) int {
	recs, byts := b.recs.Load(), b.byts.Load()
	n := 0
	var sum int64
	for n < len(ws) && int64(n) < recs && sum+ws[n] <= byts {
		sum += ws[n]
		n++
	}
	if n > 0 {
		b.recs.Add(-int64(n))
		b.byts.Add(-sum)
	}
	return n
}

// give returns the room of recs records weighing byts bytes. It never
// blocks.
func (b *budget) give(recs, byts int64) {
	b.recs.Add(recs)
	b.byts.Add(byts)
	if b.waiting.Load() > 0 {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
}
