package engine

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/rivulet-cdc/rivulet/offsets"
)

// fakeTx records transactions over a fakeSink: Commit acknowledges the
// transaction's records (as a flush does) and keeps its end, or fails.
type fakeTx struct {
	snk     *fakeSink
	mu      sync.Mutex
	open    bool
	commits []offsets.Position
	aborts  int
	failAt  int // Commit number that fails, 0: none
}

func (f *fakeTx) Begin() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.open {
		return errors.New("transaction already open")
	}
	f.open = true
	return nil
}

func (f *fakeTx) Commit(ctx context.Context, end offsets.Position) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.open {
		return errors.New("no open transaction")
	}
	if f.failAt == len(f.commits)+1 {
		return errors.New("commit refused")
	}
	f.open = false
	f.commits = append(f.commits, end)
	return f.snk.Flush(ctx)
}

func (f *fakeTx) Abort(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.open = false
	f.aborts++
	return nil
}

func TestRun_TransactionsCarryOffsets(t *testing.T) {
	tests := []struct {
		name       string
		failAt     int
		wantErr    bool
		wantLastAt uint64 // last committed end
	}{
		{name: "graceful stop", wantLastAt: 10},
		{name: "commit refused", failAt: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{n: 10, emitted: make(chan struct{})}
			store := &memStore{p: offsets.Position{File: "f", Pos: 0}}
			snk := &fakeSink{}
			tx := &fakeTx{snk: snk, failAt: tt.failAt}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- Run(ctx, Config{Transactions: tx, TransactionEvents: 4}, src, snk, store) }()
			if !tt.wantErr {
				<-src.emitted
				cancel()
			}
			err := <-errc
			if (err != nil) != tt.wantErr {
				t.Fatalf("Run: %v, want error %v", err, tt.wantErr)
			}
			if store.saves != 0 {
				t.Errorf("store saved %d times: offsets belong in the transactions", store.saves)
			}
			if tt.wantErr {
				if tx.aborts != 1 || len(tx.commits) != 0 {
					t.Errorf("after a refused commit: %d aborts, %d commits", tx.aborts, len(tx.commits))
				}
				return
			}
			if len(tx.commits) == 0 || tx.commits[len(tx.commits)-1].Pos != tt.wantLastAt {
				t.Fatalf("commits %+v, want the last at %d", tx.commits, tt.wantLastAt)
			}
			for i := 1; i < len(tx.commits); i++ {
				if tx.commits[i].Pos <= tx.commits[i-1].Pos {
					t.Errorf("commits out of order: %+v", tx.commits)
				}
			}
			if len(snk.pending) != 0 || tx.open {
				t.Errorf("records left outside a committed transaction (open %v)", tx.open)
			}
		})
	}
}
