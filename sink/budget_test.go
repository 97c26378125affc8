package sink

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestBudget_Take: a Send takes room for the prefix of its records that
// fits, waits while nothing fits, and is woken by acknowledgements.
func TestBudget_Take(t *testing.T) {
	t.Run("whole batch", func(t *testing.T) {
		b := newBudget(10, 100)
		if n, waited, err := b.take(t.Context(), []int64{10, 20, 30}); n != 3 || waited || err != nil {
			t.Fatalf("take = %d, %v, %v; want 3, false, nil", n, waited, err)
		}
		if b.recs.Load() != 7 || b.byts.Load() != 40 {
			t.Errorf("free %d records, %d bytes; want 7, 40", b.recs.Load(), b.byts.Load())
		}
	})
	t.Run("prefix bounded by records", func(t *testing.T) {
		b := newBudget(2, 100)
		if n, _, _ := b.take(t.Context(), []int64{1, 1, 1}); n != 2 {
			t.Errorf("took %d, want 2", n)
		}
	})
	t.Run("prefix bounded by bytes", func(t *testing.T) {
		b := newBudget(10, 100)
		if n, _, _ := b.take(t.Context(), []int64{60, 30, 20}); n != 2 {
			t.Errorf("took %d, want 2", n)
		}
	})
	t.Run("cancelled while full", func(t *testing.T) {
		b := newBudget(1, 100)
		b.take(t.Context(), []int64{1})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if n, _, err := b.take(ctx, []int64{1}); n != 0 || !errors.Is(err, context.Canceled) {
			t.Errorf("take = %d, %v; want 0, context.Canceled", n, err)
		}
		if b.recs.Load() != 0 || b.byts.Load() != 99 {
			t.Errorf("a failed take changed the room: %d records, %d bytes free", b.recs.Load(), b.byts.Load())
		}
	})
	t.Run("room left with a cancelled context", func(t *testing.T) {
		b := newBudget(1, 100)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if n, _, err := b.take(ctx, []int64{1}); n != 1 || err != nil {
			t.Errorf("take = %d, %v; want 1, nil (room is there: no wait)", n, err)
		}
	})
	t.Run("waits for room", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newBudget(2, 100)
			b.take(t.Context(), []int64{40, 40})
			type res struct {
				n      int
				waited bool
				err    error
			}
			ch := make(chan res, 1)
			go func() {
				n, waited, err := b.take(t.Context(), []int64{100, 1})
				ch <- res{n, waited, err}
			}()
			synctest.Wait()
			b.give(1, 40) // 1 record, 60 bytes free: the 100-byte record still waits
			synctest.Wait()
			select {
			case r := <-ch:
				t.Fatalf("take returned %+v before its record fit", r)
			default:
			}
			b.give(1, 40)
			if r := <-ch; r.n != 1 || !r.waited || r.err != nil {
				t.Errorf("take = %+v; want 1 record after waiting", r)
			}
			if b.recs.Load() != 1 || b.byts.Load() != 0 {
				t.Errorf("free %d records, %d bytes; want 1, 0", b.recs.Load(), b.byts.Load())
			}
		})
	})
	t.Run("waiting taker cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newBudget(1, 100)
			b.take(t.Context(), []int64{1})
			ctx, cancel := context.WithCancel(t.Context())
			ch := make(chan error, 1)
			go func() {
				_, _, err := b.take(ctx, []int64{1})
				ch <- err
			}()
			synctest.Wait()
			cancel()
			if err := <-ch; !errors.Is(err, context.Canceled) {
				t.Errorf("take = %v, want context.Canceled", err)
			}
			if b.waiting.Load() != 0 {
				t.Errorf("%d takers still counted as waiting", b.waiting.Load())
			}
			b.give(1, 1)
			if n, waited, err := b.take(t.Context(), []int64{1}); n != 1 || waited || err != nil {
				t.Errorf("take after give = %d, %v, %v", n, waited, err)
			}
		})
	})
}

// TestBudget_Concurrent: takers and givers running at once never take more
// room than there is, and every unit given back is there at the end.
func TestBudget_Concurrent(t *testing.T) {
	const recs, byts = 64, 6400
	b := newBudget(recs, byts)
	var inFlightRecs, inFlightByts atomic.Int64
	acks := make(chan [2]int64, 1024)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			ws := make([]int64, 50)
			for i := range ws {
				ws[i] = int64(1 + (g*31+i*17)%300)
			}
			for range 200 {
				for i := 0; i < len(ws); {
					n, _, err := b.take(t.Context(), ws[i:])
					if err != nil {
						t.Error(err)
						return
					}
					var w int64
					for _, x := range ws[i : i+n] {
						w += x
					}
					if r, y := inFlightRecs.Add(int64(n)), inFlightByts.Add(w); r > recs || y > byts {
						t.Errorf("%d records, %d bytes in flight; bounds %d, %d", r, y, recs, byts)
					}
					acks <- [2]int64{int64(n), w}
					i += n
				}
			}
		})
	}
	giver := make(chan struct{})
	go func() {
		defer close(giver)
		for a := range acks {
			inFlightRecs.Add(-a[0])
			inFlightByts.Add(-a[1])
			b.give(a[0], a[1])
		}
	}()
	wg.Wait()
	close(acks)
	<-giver
	if b.recs.Load() != recs || b.byts.Load() != byts {
		t.Errorf("room after all acks: %d records, %d bytes; want %d, %d", b.recs.Load(), b.byts.Load(), recs, byts)
	}
}
