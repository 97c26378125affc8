package engine

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
)

// fakeSource emits n batches of one event each, then waits for cancellation.
type fakeSource struct {
	n       int
	started offsets.Position
	emitted chan struct{}
}

func (s *fakeSource) Start(_ context.Context, p offsets.Position) (offsets.Position, error) {
	if p.IsZero() {
		return offsets.Position{File: "f", Pos: 0}, nil
	}
	return p, nil
}

func (s *fakeSource) Run(ctx context.Context, start offsets.Position, out chan<- binlog.Batch) error {
	s.started = start
	for i := 1; i <= s.n; i++ {
		b := binlog.Batch{Events: []event.ChangeEvent{{Op: event.OpCreate}}, End: offsets.Position{File: "f", Pos: uint64(i)}}
		if i%3 == 0 {
			b.Events = nil // an empty transaction still moves the position
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	close(s.emitted)
	<-ctx.Done()
	return ctx.Err()
}

// fakeSink acknowledges in reverse order of arrival at Flush, or fails one Send.
type fakeSink struct {
	mu      sync.Mutex
	pending []func(error)
	failAt  int
	sends   int
}

func (s *fakeSink) Send(ctx context.Context, ev []event.ChangeEvent, done func(error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sends++
	if s.sends == s.failAt {
		done(errors.New("broker says no"))
		return nil
	}
	s.pending = append(s.pending, done)
	return nil
}

func (s *fakeSink) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.pending) - 1; i >= 0; i-- {
		s.pending[i](nil)
	}
	s.pending = nil
	return nil
}

func (s *fakeSink) Close() error { return nil }

type memStore struct {
	mu    sync.Mutex
	p     offsets.Position
	saves int
}

func (m *memStore) Load(context.Context) (offsets.Position, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.p, !m.p.IsZero(), nil
}

func (m *memStore) Save(_ context.Context, p offsets.Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.p = p
	m.saves++
	return nil
}

func TestRun_GracefulStopCommitsLastAcked(t *testing.T) {
	src := &fakeSource{n: 10, emitted: make(chan struct{})}
	store := &memStore{p: offsets.Position{File: "f", Pos: 0, GTIDSet: "x"}}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, Config{}, src, &fakeSink{}, store) }()
	<-src.emitted
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if src.started.GTIDSet != "x" {
		t.Errorf("source started at %+v, want the stored position", src.started)
	}
	if store.p.Pos != 10 {
		t.Errorf("committed pos %d, want 10", store.p.Pos)
	}
}

func TestRun_FailedSendDoesNotMovePastIt(t *testing.T) {
	src := &fakeSource{n: 10, emitted: make(chan struct{})}
	store := &memStore{}
	err := Run(t.Context(), Config{}, src, &fakeSink{failAt: 2}, store)
	if err == nil {
		t.Fatal("Run returned nil after a failed send")
	}
	// Batch 1 was never acknowledged either (fakeSink acks only at Flush,
	// which the failure pre-empts), so nothing may be committed.
	if store.p.Pos != 0 || store.saves != 1 {
		t.Errorf("committed pos %d in %d saves after a failure, want only the start position", store.p.Pos, store.saves)
	}
}

func TestTracker_OutOfOrderAcks(t *testing.T) {
	tr := newTracker(offsets.Position{})
	a := tr.add(offsets.Position{File: "f", Pos: 1})
	b := tr.add(offsets.Position{File: "f", Pos: 2})
	c := tr.add(offsets.Position{File: "f", Pos: 3})
	tr.done(c, nil)
	if _, ok := tr.committable(); ok {
		t.Fatal("committable before the first batch was acked")
	}
	tr.done(a, nil)
	if p, _ := tr.committable(); p.Pos != 1 {
		t.Fatalf("pos %d, want 1", p.Pos)
	}
	tr.done(b, nil)
	if p, _ := tr.committable(); p.Pos != 3 {
		t.Fatalf("pos %d, want 3", p.Pos)
	}
}

// ackRecorder is an AckObserver that records the acknowledged positions.
type ackRecorder struct {
	mu    sync.Mutex
	acked []offsets.Position
}

func (a *ackRecorder) BatchQueued(int)                {}
func (a *ackRecorder) OffsetCommitted(string, uint64) {}
func (a *ackRecorder) PositionAcked(file string, pos uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.acked = append(a.acked, offsets.Position{File: file, Pos: pos})
}

// A restarted instance reports its start as acknowledged before any new
// change arrives (`rivulet verify` waits for the acknowledged position).
func TestRun_StartReportedAcknowledged(t *testing.T) {
	src := &fakeSource{n: 0, emitted: make(chan struct{})}
	store := &memStore{p: offsets.Position{File: "f", Pos: 7}}
	obs := &ackRecorder{}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, Config{Observer: obs}, src, &fakeSink{}, store) }()
	<-src.emitted
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.acked) == 0 || obs.acked[0] != (offsets.Position{File: "f", Pos: 7}) {
		t.Errorf("acknowledged positions %v, want the start f:7 first", obs.acked)
	}
}

// Positions inside the initial snapshot are never reported acknowledged:
// their file:pos is where streaming starts, yet later chunks' rows are
// still to come; the snapshot's end (no snapshot mark) is.
func TestTracker_SnapshotPositionsNotReportedAcked(t *testing.T) {
	var got []offsets.Position
	tr := newTracker(offsets.Position{})
	tr.onAck = func(file string, pos uint64) { got = append(got, offsets.Position{File: file, Pos: pos}) }
	a := tr.add(offsets.Position{File: "f", Pos: 5, Snapshot: snapshotInitial, SnapshotProgress: "chunk 1"})
	b := tr.add(offsets.Position{File: "f", Pos: 5, Snapshot: snapshotInitial, SnapshotProgress: "chunk 2"})
	c := tr.add(offsets.Position{File: "f", Pos: 5})
	tr.done(a, nil)
	tr.done(b, nil)
	if len(got) != 0 {
		t.Fatalf("acknowledged %v while the snapshot's end was not", got)
	}
	tr.done(c, nil)
	if len(got) != 1 || got[0] != (offsets.Position{File: "f", Pos: 5}) {
		t.Errorf("acknowledged %v, want f:5 once the snapshot's end was", got)
	}
}
