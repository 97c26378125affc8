//go:build rivuletfault

package engine

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// Fault points for the reliability suite (internal/reliability), built only
// with `-tags rivuletfault`. RIVULET_FAULT selects one point, the hit at
// which it fires and what it does:
//
//	RIVULET_FAULT=<point>[:<n>[:<action>]]   n defaults to 1, action to kill
//
// Points:
//
//	offset.before-save  a position is about to be written: every record before
//	                    it was acknowledged by Kafka, the offset is not durable
//	offset.saved        a position was written durably
//	offset.saved-midtx  as offset.saved, counting only positions inside a
//	                    transaction (Event or Row > 0)
//	offset.save         the write itself (use with action error)
//	history.recorded    a batch's DDL is durable in the schema history, its
//	                    offset is not written yet
//
// Actions: kill (SIGKILL of the process itself, as kill -9), exit (os.Exit(3)
// without any cleanup), error (the call fails with ENOSPC, as a full disk).
// Every fire is announced on stderr first ("rivulet fault: ..."), so that a
// test can tell the injected crash from a real one.
var fault = parseFault(os.Getenv("RIVULET_FAULT"))

type faultSpec struct {
	point  string
	n      int
	action string

	mu   sync.Mutex
	hits int
}

func parseFault(s string) *faultSpec {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ":")
	f := &faultSpec{point: parts[0], n: 1, action: "kill"}
	if len(parts) > 1 {
		if n, err := strconv.Atoi(parts[1]); err == nil && n > 0 {
			f.n = n
		}
	}
	if len(parts) > 2 {
		f.action = parts[2]
	}
	return f
}

// hit counts a pass through point and fires on the n-th (and, for action
// error, on every later one: a full disk stays full).
func (f *faultSpec) hit(point, detail string) error {
	if f == nil || f.point != point {
		return nil
	}
	f.mu.Lock()
	f.hits++
	fire := f.hits == f.n || (f.action == "error" && f.hits > f.n)
	f.mu.Unlock()
	if !fire {
		return nil
	}
	fmt.Fprintf(os.Stderr, "rivulet fault: %s hit %d: %s at %s\n", point, f.n, f.action, detail)
	switch f.action {
	case "exit":
		os.Exit(3)
	case "error":
		return fmt.Errorf("injected fault at %s: %w", point, syscall.ENOSPC)
	default:
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL cannot be caught: nothing runs after it
	}
	return nil
}

type faultyStore struct{ OffsetStore }

func faultStore(s OffsetStore) OffsetStore {
	if fault == nil {
		return s
	}
	return faultyStore{s}
}

func (s faultyStore) Save(ctx context.Context, p offsets.Position) error {
	if err := fault.hit("offset.before-save", p.String()); err != nil {
		return err
	}
	if err := fault.hit("offset.save", p.String()); err != nil {
		return err
	}
	if err := s.OffsetStore.Save(ctx, p); err != nil {
		return err
	}
	if err := fault.hit("offset.saved", p.String()); err != nil {
		return err
	}
	if p.Event > 0 || p.Row > 0 {
		return fault.hit("offset.saved-midtx", p.String())
	}
	return nil
}

type faultyHistory struct{ SchemaHistory }

func faultHistory(h SchemaHistory) SchemaHistory {
	if fault == nil || h == nil {
		return h
	}
	return faultyHistory{h}
}

func (h faultyHistory) Record(ctx context.Context, pos offsets.Position, changes []*schema.Change) error {
	if err := h.SchemaHistory.Record(ctx, pos, changes); err != nil {
		return err
	}
	return fault.hit("history.recorded", pos.String())
}
